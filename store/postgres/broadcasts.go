package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// Broadcasts (migration 009): segments, broadcasts, their recipients fixed
// at the start, and the hand-over of recipients to the outbox in small
// batches as the send rate allows (MaterializeRecipients).

// broadcastColumns are the columns scanBroadcast reads.
const broadcastColumns = `id, plan_id, title, filter, segment, body, image_ref, image_name, state, send_at,
	coalesce(created_by, 0), created_at, started_at, finished_at, recipients, note`

func scanBroadcast(r pgx.CollectableRow) (store.Broadcast, error) {
	var (
		b                         store.Broadcast
		state                     string
		sendAt, started, finished *time.Time
	)
	err := r.Scan(&b.ID, &b.PlanID, &b.Title, &b.Filter, &b.Segment, &b.Body, &b.ImageRef, &b.ImageName, &state, &sendAt,
		&b.CreatedBy, &b.CreatedAt, &started, &finished, &b.Recipients, &b.Note)
	b.State = store.BroadcastState(state)
	b.SendAt, b.StartedAt, b.FinishedAt = deref(sendAt), deref(started), deref(finished)
	return b, err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CreateBroadcast records a new broadcast (a draft, or scheduled with
// SendAt) and returns it with its id.
func (s *Store) CreateBroadcast(ctx context.Context, b store.Broadcast) (store.Broadcast, error) {
	rows, err := s.pool.Query(ctx, `insert into broadcasts
		(plan_id, title, filter, segment, body, image_ref, image_name, state, send_at, created_by)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning `+broadcastColumns,
		b.PlanID, b.Title, b.Filter, b.Segment, b.Body, b.ImageRef, b.ImageName, string(b.State), nullTime(b.SendAt),
		nullID(b.CreatedBy))
	if err != nil {
		return store.Broadcast{}, fmt.Errorf("create broadcast: %w", translate(err))
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanBroadcast)
	if err != nil {
		return store.Broadcast{}, fmt.Errorf("create broadcast: %w", translate(err))
	}
	return out, nil
}

// Broadcast returns one broadcast, or store.ErrNotFound.
func (s *Store) Broadcast(ctx context.Context, id int64) (store.Broadcast, error) {
	rows, err := s.pool.Query(ctx, `select `+broadcastColumns+` from broadcasts where id = $1`, id)
	if err != nil {
		return store.Broadcast{}, fmt.Errorf("broadcast %d: %w", id, translate(err))
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBroadcast)
	if err != nil {
		return store.Broadcast{}, fmt.Errorf("broadcast %d: %w", id, translate(err))
	}
	return b, nil
}

// Broadcasts returns the latest broadcasts, newest first, at most limit.
func (s *Store) Broadcasts(ctx context.Context, limit int) ([]store.Broadcast, error) {
	rows, err := s.pool.Query(ctx, `select `+broadcastColumns+` from broadcasts order by id desc limit $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, scanBroadcast)
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", translate(err))
	}
	return out, nil
}

// ActiveBroadcasts returns the broadcasts being sent and the scheduled
// ones whose time has come (at now), oldest first.
func (s *Store) ActiveBroadcasts(ctx context.Context, now time.Time) ([]store.Broadcast, error) {
	rows, err := s.pool.Query(ctx, `select `+broadcastColumns+` from broadcasts
		where state = 'sending' or (state = 'scheduled' and send_at <= $1) order by id`, now)
	if err != nil {
		return nil, fmt.Errorf("active broadcasts: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, scanBroadcast)
	if err != nil {
		return nil, fmt.Errorf("active broadcasts: %w", translate(err))
	}
	return out, nil
}

// stateList is the SQL array of states.
func stateList(states []store.BroadcastState) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

// SetBroadcastState moves broadcast id to state to, if it is in one of
// from; store.ErrConflict when it is not (someone moved it first),
// store.ErrNotFound when it does not exist. Done and cancelled set
// finished_at; a note, when given, is kept.
func (s *Store) SetBroadcastState(ctx context.Context, id int64, from []store.BroadcastState, to store.BroadcastState, note string) error {
	tag, err := s.pool.Exec(ctx, `update broadcasts set state = $3,
		finished_at = case when $3 in ('done', 'cancelled') then now() else finished_at end,
		note = case when $4 <> '' then $4 else note end
		where id = $1 and state = any($2)`, id, stateList(from), string(to), note)
	if err != nil {
		return fmt.Errorf("broadcast %d state: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return s.missingOrMoved(ctx, id)
	}
	return nil
}

func (s *Store) missingOrMoved(ctx context.Context, id int64) error {
	var state string
	err := s.pool.QueryRow(ctx, `select state from broadcasts where id = $1`, id).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("broadcast %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("broadcast %d: %w", id, translate(err))
	}
	return fmt.Errorf("broadcast %d is %s: %w", id, state, store.ErrConflict)
}

// ScheduleBroadcast sets a draft's (or a scheduled broadcast's) start time.
func (s *Store) ScheduleBroadcast(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `update broadcasts set state = 'scheduled', send_at = $2
		where id = $1 and state in ('draft', 'scheduled')`, id, at)
	if err != nil {
		return fmt.Errorf("schedule broadcast %d: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return s.missingOrMoved(ctx, id)
	}
	return nil
}

// StartBroadcast fixes the recipients of broadcast id and sets it sending,
// in one transaction, if it is in one of from (store.ErrConflict
// otherwise: another process started it first). With no recipients it is
// done at once, with note.
func (s *Store) StartBroadcast(ctx context.Context, id int64, from []store.BroadcastState, recipients []store.Recipient, note string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		state, finished := "sending", "null"
		if len(recipients) == 0 {
			state, finished = "done", "now()"
		}
		tag, err := tx.Exec(ctx, `update broadcasts set state = $3, started_at = now(), recipients = $4,
			finished_at = `+finished+`, note = $5
			where id = $1 and state = any($2)`, id, stateList(from), state, len(recipients), note)
		if err != nil {
			return fmt.Errorf("start broadcast %d: %w", id, translate(err))
		}
		if tag.RowsAffected() == 0 {
			return s.missingOrMoved(ctx, id)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"broadcast_recipients"},
			[]string{"broadcast_id", "candidate_id", "channel", "user_id", "payload", "skipped"},
			pgx.CopyFromSlice(len(recipients), func(i int) ([]any, error) {
				r := recipients[i]
				return []any{id, r.CandidateID, r.Identity.Channel, r.Identity.UserID, r.Payload, r.Skipped}, nil
			}))
		if err != nil {
			return fmt.Errorf("start broadcast %d: recipients: %w", id, translate(err))
		}
		return nil
	})
}

// WaitingChannels returns the channels on which broadcast id still has
// recipients not handed to the outbox.
func (s *Store) WaitingChannels(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `select distinct channel from broadcast_recipients
		where broadcast_id = $1 and outbox_id is null and skipped = ''`, id)
	if err != nil {
		return nil, fmt.Errorf("broadcast %d channels: %w", id, translate(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("broadcast %d channels: %w", id, translate(err))
	}
	return out, nil
}

// BroadcastKey is the outbox key of a recipient's message: one per
// broadcast and candidate, whoever inserts it.
func BroadcastKey(broadcastID, candidateID int64) string {
	return "broadcast:" + strconv.FormatInt(broadcastID, 10) + ":" + strconv.FormatInt(candidateID, 10)
}

// materializeSQL hands up to $3 waiting recipients of broadcast $1 on
// channel $2 to the outbox in one statement: it takes them (skipping those
// another process has locked), marks those whose identity is unreachable
// as skipped, inserts an outbox row for each of the others (kind
// broadcast, key broadcast:<id>:<candidate>) claimed for $4's fast path
// for $5 milliseconds where insertOutboxSQL's rule allows it (no earlier
// due row of the identity pending, except $4's own live claims), and links
// each recipient to its row (also a row inserted before, by a process that
// died before it linked it). It returns one line per recipient taken: the
// row's id, claim and payload, or no id for a skipped one.
const materializeSQL = `
	with picked as (
		select r.candidate_id, r.user_id, r.payload,
		       coalesce((select regbot_unreachable(i.candidate_id, i.channel, i.user_id, i.unreachable_at) from identities i
		                 where i.channel = r.channel and i.user_id = r.user_id), false) as unreachable
		from broadcast_recipients r
		where r.broadcast_id = $1 and r.channel = $2 and r.outbox_id is null and r.skipped = ''
		order by r.candidate_id limit $3
		for update of r skip locked),
	ins as (
		insert into outbox (candidate_id, channel, user_id, kind, dedup_key, payload, not_before, created_at,
		                    claimed_until, claimed_by)
		select p.candidate_id, $2, p.user_id, 'broadcast', 'broadcast:' || $1::bigint || ':' || p.candidate_id, p.payload,
		       now(), now(),
		       case when f.ok then now() + $5::bigint * interval '1 millisecond' end,
		       case when f.ok then $4::text end
		from picked p
		cross join lateral (select $4::text <> '' and not exists (
			select 1 from outbox e
			where e.channel = $2 and e.user_id = p.user_id and e.state = 'pending' and e.not_before <= now()
			  and not coalesce(e.claimed_by = $4 and e.claimed_until > now(), false)) as ok) f
		where not p.unreachable
		order by p.candidate_id
		on conflict (dedup_key) where dedup_key is not null do nothing
		returning id, candidate_id, claimed_until, not_before, created_at),
	linked as (
		update broadcast_recipients r set
			outbox_id = coalesce(ins.id, (select o.id from outbox o
			                              where o.dedup_key = 'broadcast:' || $1::bigint || ':' || p.candidate_id)),
			skipped = case when p.unreachable then 'unreachable' else '' end
		from picked p left join ins on ins.candidate_id = p.candidate_id
		where r.broadcast_id = $1 and r.candidate_id = p.candidate_id
		returning r.candidate_id)
	select p.candidate_id, p.user_id, p.payload, ins.id, ins.claimed_until, ins.not_before, ins.created_at
	from picked p left join ins on ins.candidate_id = p.candidate_id`

// MaterializeRecipients hands up to n waiting recipients of broadcast id
// on channel to the outbox (materializeSQL, one statement): each becomes
// an outbox row claimed for claim's fast path where the outbox's rules
// allow it, as a turn's rows are. Recipients locked by another process
// doing the same are skipped, so two processes never take the same one; a
// recipient whose identity became unreachable is marked skipped instead.
// It returns the rows to deliver (those not claimed are the queue's to
// take: notify's Dispatch hands them over) and how many recipients it
// took: fewer than n when no more are waiting.
func (s *Store) MaterializeRecipients(ctx context.Context, id int64, channel string, n int, claim store.FastClaim) ([]store.Delivery, int, error) {
	rows, err := s.pool.Query(ctx, materializeSQL, id, channel, n, claim.Owner, claim.Lease.Milliseconds())
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast %d: hand recipients to the outbox: %w", id, translate(err))
	}
	var (
		out     []store.Delivery
		picked  int
		cand    int64
		user    string
		payload []byte
		rowID   *int64
		claimed *time.Time
		nb, at  *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&cand, &user, &payload, &rowID, &claimed, &nb, &at}, func() error {
		picked++
		if rowID == nil {
			return nil // skipped, or inserted before by a process that died
		}
		out = append(out, store.Delivery{ID: *rowID, CandidateID: cand, Identity: store.Identity{Channel: channel, UserID: user},
			Kind: store.OutBroadcast, Key: BroadcastKey(id, cand), Payload: payload, State: store.DeliveryPending,
			NotBefore: deref(nb), CreatedAt: deref(at), ClaimedUntil: deref(claimed)})
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("broadcast %d: hand recipients to the outbox: %w", id, translate(err))
	}
	return out, picked, nil
}

// PendingBroadcastRows returns the outbox rows of broadcast id not yet
// delivered and not being delivered (under no live claim): those a cancel
// can still withdraw. A row under a claim is on its way to the platform
// and is let go, so that the record says what the candidate got.
func (s *Store) PendingBroadcastRows(ctx context.Context, id int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `select o.id from broadcast_recipients r join outbox o on o.id = r.outbox_id
		where r.broadcast_id = $1 and o.state = 'pending' and (o.claimed_until is null or o.claimed_until <= now())`, id)
	if err != nil {
		return nil, fmt.Errorf("broadcast %d pending rows: %w", id, translate(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("broadcast %d pending rows: %w", id, translate(err))
	}
	return out, nil
}

// FinishBroadcast sets broadcast id done when it is sending and every
// recipient is in the outbox (or skipped) and none of their rows is
// pending. It reports whether it did.
func (s *Store) FinishBroadcast(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `update broadcasts b set state = 'done', finished_at = now()
		where b.id = $1 and b.state = 'sending'
		  and not exists (select 1 from broadcast_recipients r
		                  where r.broadcast_id = b.id and r.outbox_id is null and r.skipped = '')
		  and not exists (select 1 from broadcast_recipients r join outbox o on o.id = r.outbox_id
		                  where r.broadcast_id = b.id and o.state = 'pending')`, id)
	if err != nil {
		return false, fmt.Errorf("finish broadcast %d: %w", id, translate(err))
	}
	return tag.RowsAffected() == 1, nil
}

// reasonSQL classes a recipient's failure or skip by its error text (the
// channel adapters' classified errors, bot.ErrUnreachable and friends).
const reasonSQL = `case
	when r.skipped <> '' then r.skipped
	when o.last_error like '%recipient unreachable%' then 'unreachable'
	when o.last_error like '%outside the platform''s reply window%' then 'window_closed'
	when o.last_error like 'gave up after%' then 'gave_up'
	when o.last_error like '%permanent send failure%' then 'permanent'
	when o.state = 'failed' then 'failed'
	else '' end`

// BroadcastProgress counts broadcast id's recipients by state, with the
// reasons of failures and skips and the sends of the last window.
func (s *Store) BroadcastProgress(ctx context.Context, id int64, window time.Duration) (store.BroadcastProgress, error) {
	p := store.BroadcastProgress{Reasons: map[string]int{}, RecentWindow: window}
	rows, err := s.pool.Query(ctx, `select
			case when r.skipped <> '' then 'skipped' when o.id is null then 'waiting' else o.state end as state,
			`+reasonSQL+` as reason,
			count(*),
			count(*) filter (where o.sent_at > now() - $2 * interval '1 millisecond'),
			max(o.sent_at)
		from broadcast_recipients r left join outbox o on o.id = r.outbox_id
		where r.broadcast_id = $1
		group by 1, 2`, id, window.Milliseconds())
	if err != nil {
		return p, fmt.Errorf("broadcast %d progress: %w", id, translate(err))
	}
	var (
		state, reason string
		count, recent int
		last          *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&state, &reason, &count, &recent, &last}, func() error {
		p.Total += count
		p.RecentSent += recent
		if last != nil && last.After(p.LastSentAt) {
			p.LastSentAt = *last
		}
		switch store.DeliveryState(state) {
		case "waiting":
			p.Waiting += count
		case store.DeliveryPending:
			p.Sending += count
		case store.DeliverySent:
			p.Sent += count
		case store.DeliveryFailed:
			p.Failed += count
		case store.DeliverySkipped:
			p.Skipped += count
		case store.DeliveryCancelled:
			p.Cancelled += count
		}
		if reason != "" && (state == string(store.DeliveryFailed) || state == string(store.DeliverySkipped)) {
			p.Reasons[reason] += count
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("broadcast %d progress: %w", id, translate(err))
	}
	return p, nil
}

// BroadcastReport calls fn for each recipient of broadcast id, by
// candidate id, with what became of their message; nameKey is the
// answer holding the candidate's name.
func (s *Store) BroadcastReport(ctx context.Context, id int64, nameKey string, fn func(store.RecipientReport) error) error {
	rows, err := s.pool.Query(ctx, `select r.candidate_id, coalesce(a.answers->>$2, ''), r.channel, r.user_id,
			case when r.skipped <> '' then 'skipped' when o.id is null then 'waiting' else o.state end,
			coalesce(o.attempts, 0), coalesce(o.last_error, ''), o.sent_at, `+reasonSQL+`, coalesce(o.id, 0)
		from broadcast_recipients r
		join broadcasts b on b.id = r.broadcast_id
		left join applications a on a.candidate_id = r.candidate_id and a.plan_id = b.plan_id
		left join outbox o on o.id = r.outbox_id
		where r.broadcast_id = $1
		order by r.candidate_id`, id, nameKey)
	if err != nil {
		return fmt.Errorf("broadcast %d report: %w", id, translate(err))
	}
	var (
		line   store.RecipientReport
		sentAt *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&line.CandidateID, &line.Name, &line.Identity.Channel, &line.Identity.UserID,
		&line.State, &line.Attempts, &line.Error, &sentAt, &line.Reason, &line.OutboxID}, func() error {
		line.SentAt = deref(sentAt)
		return fn(line)
	})
	if err != nil {
		return fmt.Errorf("broadcast %d report: %w", id, err)
	}
	return nil
}

// Audience returns every application of plan planID with what broadcast
// filters and placeholders read (store.AudienceMember); nameKey is the
// answer holding the candidate's name. A candidate without an identity
// cannot be reached and is left out.
func (s *Store) Audience(ctx context.Context, planID, nameKey string) ([]store.AudienceMember, error) {
	rows, err := s.pool.Query(ctx, `select a.candidate_id, a.plan_id, a.status, a.condition, i.channel, i.user_id,
			regbot_unreachable(a.candidate_id, i.channel, i.user_id, i.unreachable_at), coalesce(a.answers->>$2, ''), `+snapshotOf+`,
			exists (select 1 from tickets t where t.candidate_id = a.candidate_id and t.state <> 'closed'),
			a.created_at, a.updated_at,
			coalesce((select max(e.at) from status_events e where e.application_id = a.id and e.to_status = a.status),
			         a.created_at)
		from applications a
		cross join lateral (select channel, user_id, unreachable_at from identities
		                    where candidate_id = a.candidate_id order by created_at desc, channel limit 1) i
		where a.plan_id = $1
		order by a.candidate_id`, planID, nameKey)
	if err != nil {
		return nil, fmt.Errorf("audience: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AudienceMember, error) {
		var (
			m      store.AudienceMember
			status string
			snap   []byte
		)
		err := r.Scan(&m.CandidateID, &m.PlanID, &status, &m.Condition, &m.Identity.Channel, &m.Identity.UserID,
			&m.Unreachable, &m.Name, &snap, &m.OpenTicket, &m.CreatedAt, &m.UpdatedAt, &m.StatusSince)
		m.Status = store.Status(status)
		if err != nil {
			return m, err
		}
		m.PaymentURL, err = s.paymentURL(snap)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("audience: %w", translate(err))
	}
	return out, nil
}

// SaveSegment creates the segment name or replaces its filter.
func (s *Store) SaveSegment(ctx context.Context, seg store.Segment) (store.Segment, error) {
	err := s.pool.QueryRow(ctx, `insert into segments (name, filter, created_by) values ($1, $2, $3)
		on conflict (name) do update set filter = excluded.filter, updated_at = now()
		returning id, coalesce(created_by, 0), created_at, updated_at`, seg.Name, seg.Filter, nullID(seg.CreatedBy)).
		Scan(&seg.ID, &seg.CreatedBy, &seg.CreatedAt, &seg.UpdatedAt)
	if err != nil {
		return seg, fmt.Errorf("save segment: %w", translate(err))
	}
	return seg, nil
}

// Segments returns the saved segments by name.
func (s *Store) Segments(ctx context.Context) ([]store.Segment, error) {
	rows, err := s.pool.Query(ctx, `select id, name, filter, coalesce(created_by, 0), created_at, updated_at
		from segments order by name`)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Segment, error) {
		var g store.Segment
		err := r.Scan(&g.ID, &g.Name, &g.Filter, &g.CreatedBy, &g.CreatedAt, &g.UpdatedAt)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("segments: %w", translate(err))
	}
	return out, nil
}

// DeleteSegment deletes the segment name (store.ErrNotFound if none).
func (s *Store) DeleteSegment(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `delete from segments where name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete segment: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("segment %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// TakeRate grants up to n sends of the rate bucket key (one every
// interval, bursts of burst), shared by every process on the database; it
// returns how many it granted and, when none, how long until the next.
func (s *Store) TakeRate(ctx context.Context, key string, interval time.Duration, burst, n int) (int, time.Duration, error) {
	var (
		granted int
		waitUS  int64
	)
	us := float64(interval.Microseconds())
	err := s.pool.QueryRow(ctx, `select granted, wait_us from rate_take($1, $2, $3, $4)`,
		key, us, float64(burst-1)*us, n).Scan(&granted, &waitUS)
	if err != nil {
		return 0, 0, fmt.Errorf("rate %s: %w", key, translate(err))
	}
	return granted, time.Duration(waitUS) * time.Microsecond, nil
}

// HoldRate grants no send of the rate bucket key for d (a platform's
// retry_after); then one, and the rate again.
func (s *Store) HoldRate(ctx context.Context, key string, interval time.Duration, burst int, d time.Duration) error {
	tolerance := time.Duration(burst-1) * interval
	_, err := s.pool.Exec(ctx, `insert into rate_buckets as b (key, tat)
		values ($1, clock_timestamp() + $2 * interval '1 microsecond')
		on conflict (key) do update set tat = greatest(b.tat, excluded.tat)`, key, (d + tolerance).Microseconds())
	if err != nil {
		return fmt.Errorf("rate %s hold: %w", key, translate(err))
	}
	return nil
}

// paymentURL is the payment page a session snapshot holds (the sealed
// snapshot, or the jsonb session of before the turn protocol), "" when
// none.
func (s *Store) paymentURL(snap []byte) (string, error) {
	if snap == nil {
		return "", nil
	}
	plain, err := s.openSnapshot(snap)
	if err != nil {
		return "", err
	}
	return store.SessionPaymentURL(plain)
}
