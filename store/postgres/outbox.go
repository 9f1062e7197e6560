package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// The outbox (migrations 003 and 004): every message sent after the HTTP
// response is a row, inserted in the transaction of its cause. notify/
// delivers the rows: the process that queued them in a turn at once (its
// fast-path claim), the durable queue (River) everything else. The
// statements here keep the rules every deliverer relies on:
//
//   - a row is sent by whoever holds its claim (claimed_by until
//     claimed_until); a claim that expired is free again;
//   - a row is not sent while an earlier due row of the same identity is
//     pending (per-identity order by id);
//   - a row the queue owns has queued_at set, and exactly one job.

// insertOutboxSQL inserts one outbox row. $8 (owner) and $9 (lease in
// milliseconds) take the fast-path claim, when the row is due and no earlier
// due row of its identity is pending except the owner's own live claims (its
// in-process queue keeps their order). $10 says the queue owns the row from
// the start. A row whose key exists already is not inserted (no row
// returned).
const insertOutboxSQL = `
	with fast as (
		select $8::text <> '' and coalesce($6::timestamptz, now()) <= now() and not exists (
			select 1 from outbox e
			where e.channel = $1 and e.user_id = $2 and e.state = 'pending' and e.not_before <= now()
			  and not coalesce(e.claimed_by = $8 and e.claimed_until > now(), false)) as ok)
	insert into outbox (candidate_id, channel, user_id, kind, dedup_key, payload, not_before, created_at,
	                    claimed_until, claimed_by, queued_at)
	select (select candidate_id from identities where channel = $1 and user_id = $2),
	       $1, $2, $3, nullif($4::text, ''), $5, coalesce($6::timestamptz, now()), coalesce($7::timestamptz, now()),
	       case when fast.ok then now() + $9::bigint * interval '1 millisecond' end,
	       case when fast.ok then $8::text end,
	       case when $10::boolean then now() end
	from fast
	on conflict (dedup_key) where dedup_key is not null do nothing
	returning id, coalesce(candidate_id, 0), not_before, created_at, claimed_until`

// knownCandidate is an identity whose candidate id is known.
type knownCandidate struct {
	id        store.Identity
	candidate int64
}

// insertOutboxKnownSQL is insertOutboxSQL for a row of the turn's own
// identity, whose candidate ($11) the turn knows.
var insertOutboxKnownSQL = strings.Replace(insertOutboxSQL,
	"(select candidate_id from identities where channel = $1 and user_id = $2)", "$11::bigint", 1)

func insertOutboxArgs(m store.Outgoing, at time.Time, claim store.FastClaim, queued bool) []any {
	return []any{m.Identity.Channel, m.Identity.UserID, string(m.Kind), m.Key, m.Payload,
		nullTime(m.NotBefore), nullTime(at), claim.Owner, claim.Lease.Milliseconds(), queued}
}

// scanInserted fills d from insertOutboxSQL's row; ok is false when the row
// was not inserted (its key exists).
func scanInserted(row pgx.Row, m store.Outgoing, d *store.Delivery) (ok bool, err error) {
	var claimed *time.Time
	err = row.Scan(&d.ID, &d.CandidateID, &d.NotBefore, &d.CreatedAt, &claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d.Identity, d.Kind, d.Key, d.Payload, d.State = m.Identity, m.Kind, m.Key, m.Payload, store.DeliveryPending
	d.Messages = m.Messages
	if claimed != nil {
		d.ClaimedUntil = *claimed
	}
	return true, nil
}

// queueOutbox queues the insert of a turn's outbox messages on b, taking
// claim's fast-path claim where the rules allow it (see insertOutboxSQL).
// As the batch's results are read (BatchResults.Close calls the callbacks),
// each inserted row is appended to *out, with ClaimedUntil set when the
// claim was taken; a message whose key exists is left out. at is the turn's
// time (created_at).
//
// known names a candidate the caller knows (nil: none): its identity's rows
// are inserted with its id, without the lookup.
func queueOutbox(b *pgx.Batch, msgs []store.Outgoing, at time.Time, claim store.FastClaim, known *knownCandidate, out *[]store.Delivery) {
	for _, m := range msgs {
		q, args := insertOutboxSQL, insertOutboxArgs(m, at, claim, false)
		if known != nil && m.Identity == known.id {
			q, args = insertOutboxKnownSQL, append(args, known.candidate)
		}
		b.Queue(q, args...).QueryRow(func(row pgx.Row) error {
			var d store.Delivery
			ok, err := scanInserted(row, m, &d)
			if err != nil {
				return fmt.Errorf("outbox insert: %w", translate(err))
			}
			if ok {
				*out = append(*out, d)
			}
			return nil
		})
	}
}

// insertQueuedSQL inserts rows owned by the queue from the start, all in
// one statement: ids are drawn in the order of the input (ordinality), and
// a row whose key exists is not inserted.
const insertQueuedSQL = `
	insert into outbox (candidate_id, channel, user_id, kind, dedup_key, payload, not_before, created_at, queued_at)
	select (select i.candidate_id from identities i where i.channel = r.channel and i.user_id = r.user_id),
	       r.channel, r.user_id, r.kind, nullif(r.key, ''), r.payload, coalesce(r.not_before, now()), now(), now()
	from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[])
	     with ordinality as r(channel, user_id, kind, key, payload, not_before, n)
	order by r.n
	on conflict (dedup_key) where dedup_key is not null do nothing
	returning id, coalesce(candidate_id, 0), coalesce(dedup_key, ''), not_before, created_at`

// InsertOutboxTx inserts msgs in tx, owned by the durable queue from the
// start: the caller inserts their queue jobs in the same transaction
// (notify does both). A message whose key exists already is left out of the
// result. It is how messages queued outside a turn (staff replies, status
// notifications, reminders, broadcasts) enter the outbox; one statement
// however many.
func (s *Store) InsertOutboxTx(ctx context.Context, tx pgx.Tx, msgs []store.Outgoing) ([]store.Delivery, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := len(msgs)
	channels, users, kinds, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads, notBefore := make([][]byte, n), make([]*time.Time, n)
	for i, m := range msgs {
		channels[i], users[i], kinds[i], keys[i] = m.Identity.Channel, m.Identity.UserID, string(m.Kind), m.Key
		payloads[i], notBefore[i] = m.Payload, nullTime(m.NotBefore)
	}
	rows, err := tx.Query(ctx, insertQueuedSQL, channels, users, kinds, keys, payloads, notBefore)
	if err != nil {
		return nil, fmt.Errorf("insert outbox: %w", translate(err))
	}
	inserted, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Delivery, error) {
		var d store.Delivery
		err := r.Scan(&d.ID, &d.CandidateID, &d.Key, &d.NotBefore, &d.CreatedAt)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("insert outbox: %w", translate(err))
	}
	slices.SortFunc(inserted, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	// Match the rows to the messages: in input order, skipping messages
	// whose key was not inserted.
	keyed := make(map[string]bool, len(inserted))
	for _, d := range inserted {
		if d.Key != "" {
			keyed[d.Key] = true
		}
	}
	out := make([]store.Delivery, 0, len(inserted))
	next := 0
	for _, m := range msgs {
		if m.Key != "" && !keyed[m.Key] {
			continue
		}
		if m.Key != "" {
			delete(keyed, m.Key) // a key twice in msgs: the first one was inserted
		}
		if next >= len(inserted) {
			break
		}
		d := inserted[next]
		next++
		d.Identity, d.Kind, d.Payload, d.State = m.Identity, m.Kind, m.Payload, store.DeliveryPending
		out = append(out, d)
	}
	return out, nil
}

// InsertOutbox inserts msgs for the fast path: the rows the rules allow are
// claimed for claim.Owner (ClaimedUntil set), the others are for the queue
// to take (notify hands them over). It is the fast path's way in outside a
// turn batch (tests, benchmarks, callers with no transaction of their own).
func (s *Store) InsertOutbox(ctx context.Context, msgs []store.Outgoing, claim store.FastClaim) ([]store.Delivery, error) {
	b := &pgx.Batch{}
	var out []store.Delivery
	queueOutbox(b, msgs, time.Time{}, claim, nil, &out)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("insert outbox: %w", translate(err))
	}
	return out, nil
}

// claimSQL claims a pending, due row for $2 for $3 milliseconds, unless
// another live claim holds it or an earlier due row of its identity is
// pending. It always returns one row when the outbox row exists: its state,
// due time and current claim, whether it is blocked, and the claimed row's
// fields (null when not claimed). The claim's conditions are on the updated
// row itself, so two claimers racing for it cannot both win.
const claimSQL = `
	with cur as (
		select id, channel, user_id, state, not_before, claimed_until from outbox where id = $1),
	blocked as (
		select exists (
			select 1 from outbox e, cur
			where e.channel = cur.channel and e.user_id = cur.user_id and e.id < cur.id
			  and e.state = 'pending' and e.not_before <= now()) as b),
	claimed as (
		update outbox o set claimed_until = now() + $3::bigint * interval '1 millisecond', claimed_by = $2
		from blocked
		where o.id = $1 and o.state = 'pending' and o.not_before <= now() and not blocked.b
		  and (o.claimed_until is null or o.claimed_until <= now())
		returning o.id, o.candidate_id, o.kind, o.dedup_key, o.payload, o.attempts, o.last_error, o.parts_sent,
		          o.created_at, o.claimed_until)
	select cur.state, cur.channel, cur.user_id, cur.not_before, cur.claimed_until, now(), blocked.b,
	       c.id is not null, coalesce(c.candidate_id, 0), coalesce(c.kind, ''), coalesce(c.dedup_key, ''), c.payload,
	       coalesce(c.attempts, 0), coalesce(c.last_error, ''), coalesce(c.parts_sent, 0), c.created_at, c.claimed_until,
	       coalesce((select regbot_unreachable(i.candidate_id, i.channel, i.user_id, i.unreachable_at) from identities i
	                 where i.channel = cur.channel and i.user_id = cur.user_id), false)
	from cur cross join blocked left join claimed c on true`

// ClaimDelivery claims the outbox row id for owner for lease, to deliver
// it. The answer says whether the claim was taken (with the row), or why
// not: the row is done or gone, another deliverer holds it, an earlier
// message of the identity is pending, or it is not due yet.
func (s *Store) ClaimDelivery(ctx context.Context, id int64, owner string, lease time.Duration) (store.Claim, error) {
	var (
		state                         string
		notBefore, now                time.Time
		heldUntil, createdAt, claimed *time.Time
		blocked, taken                bool
		c                             store.Claim
		kind                          string
	)
	d := &c.Delivery
	err := s.pool.QueryRow(ctx, claimSQL, id, owner, lease.Milliseconds()).Scan(
		&state, &d.Identity.Channel, &d.Identity.UserID, &notBefore, &heldUntil, &now, &blocked,
		&taken, &d.CandidateID, &kind, &d.Key, &d.Payload, &d.Attempts, &d.LastError, &d.PartsSent, &createdAt, &claimed,
		&c.Unreachable)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Claim{State: store.ClaimDone}, nil
	case err != nil:
		return store.Claim{}, fmt.Errorf("claim delivery: %w", translate(err))
	}
	d.ID, d.Kind, d.NotBefore, d.State = id, store.OutKind(kind), notBefore, store.DeliveryState(state)
	switch {
	case taken:
		c.State, c.Until, d.CreatedAt, d.ClaimedUntil = store.ClaimTaken, *claimed, *createdAt, *claimed
	case state != string(store.DeliveryPending):
		c.State = store.ClaimDone
	case notBefore.After(now):
		c.State, c.Until = store.ClaimEarly, notBefore
	case blocked:
		c.State = store.ClaimBlocked
	default:
		c.State = store.ClaimHeld
		if heldUntil != nil {
			c.Until = *heldUntil
		}
	}
	return c, nil
}

// settleSQL writes the outcomes of delivery attempts by $1 (owner): each
// row's new state, attempt count, last error and parts sent, the failed
// attempts in outbox_attempts, and the refusals of unreachable identities
// (a refusal later than the identity's mark moves it: the identity is
// unreachable until the candidate's next message, regbot_unreachable in
// migration 016). A settlement
// without an attempt only returns the owner's claim. Rows no longer pending
// are left alone.
const settleSQL = `
	with r as (
		select * from unnest($2::bigint[], $3::text[], $4::boolean[], $5::text[], $6::boolean[], $7::int[],
		                     $8::boolean[], $9::timestamptz[])
		       as r(id, state, tried, err, permanent, parts, unreachable, at)),
	attempts as (
		insert into outbox_attempts (outbox_id, at, error, permanent)
		select r.id, r.at, r.err, r.permanent from r join outbox o on o.id = r.id
		where r.tried and r.err <> '' and o.state = 'pending'),
	unreachable as (
		update identities i set unreachable_at = r.at
		from r join outbox o on o.id = r.id
		where r.unreachable and i.channel = o.channel and i.user_id = o.user_id
		  and (i.unreachable_at is null or i.unreachable_at < r.at))
	update outbox o set
		state = r.state,
		attempts = o.attempts + r.tried::int,
		last_error = case when r.err <> '' then r.err else o.last_error end,
		parts_sent = greatest(o.parts_sent, r.parts),
		sent_at = case when r.state = 'sent' then r.at else o.sent_at end,
		claimed_until = case when o.claimed_by = $1 or r.state <> 'pending' then null else o.claimed_until end,
		claimed_by = case when o.claimed_by = $1 or r.state <> 'pending' then null else o.claimed_by end
	from r
	where o.id = r.id and o.state = 'pending' and (r.tried or o.claimed_by = $1)
	returning o.id, coalesce((
		select min(n.id) from outbox n
		where n.channel = o.channel and n.user_id = o.user_id and n.state = 'pending' and n.id > o.id
		  and n.not_before <= now()), 0)`

// SettleDeliveries records the outcomes of delivery attempts made by owner
// (one statement, however many): sent rows, failed attempts (kept with
// their error), final failures, parts sent, identities found unreachable,
// and claims given back. A row no longer pending is left as it is.
func (s *Store) SettleDeliveries(ctx context.Context, owner string, results []store.Settlement) error {
	_, err := s.settle(ctx, owner, results)
	return err
}

// SettleDelivery records one outcome as SettleDeliveries does and returns
// the id of the identity's next pending, due row after it (0: none), which
// the queue delivers right after instead of leaving it to wait its turn.
func (s *Store) SettleDelivery(ctx context.Context, owner string, res store.Settlement) (next int64, err error) {
	nexts, err := s.settle(ctx, owner, []store.Settlement{res})
	return nexts[res.ID], err
}

// settle runs settleSQL and returns, per settled row, the identity's next
// pending row.
func (s *Store) settle(ctx context.Context, owner string, results []store.Settlement) (map[int64]int64, error) {
	if len(results) == 0 {
		return nil, nil
	}
	n := len(results)
	var (
		ids          = make([]int64, n)
		states       = make([]string, n)
		tried        = make([]bool, n)
		errs         = make([]string, n)
		permanent    = make([]bool, n)
		parts        = make([]int32, n)
		unreachables = make([]bool, n)
		ats          = make([]time.Time, n)
	)
	now := time.Now()
	for i, r := range results {
		ids[i], states[i], tried[i], errs[i] = r.ID, string(r.State), r.Tried, r.Error
		permanent[i], parts[i], unreachables[i], ats[i] = r.Permanent, int32(r.PartsSent), r.Unreachable, r.At
		if r.At.IsZero() {
			ats[i] = now
		}
	}
	rows, err := s.pool.Query(ctx, settleSQL, owner, ids, states, tried, errs, permanent, parts, unreachables, ats)
	if err != nil {
		return nil, fmt.Errorf("settle deliveries: %w", translate(err))
	}
	next := make(map[int64]int64, n)
	var id, nid int64
	_, err = pgx.ForEachRow(rows, []any{&id, &nid}, func() error {
		next[id] = nid
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settle deliveries: %w", translate(err))
	}
	return next, nil
}

// QueueDeliveriesTx hands the rows ids to the durable queue in tx: those
// still pending, not queued yet and not under another process's live claim
// (owner's own claim is given back) are marked queued and returned; the
// caller inserts their jobs in the same transaction.
func (s *Store) QueueDeliveriesTx(ctx context.Context, tx pgx.Tx, owner string, ids []int64) ([]store.Queued, error) {
	rows, err := tx.Query(ctx, `
		update outbox set queued_at = now(), claimed_until = null, claimed_by = null
		where id = any($1) and state = 'pending' and queued_at is null
		  and (claimed_until is null or claimed_until <= now() or claimed_by = $2)
		returning id, not_before`, ids, owner)
	if err != nil {
		return nil, fmt.Errorf("queue deliveries: %w", translate(err))
	}
	return collectQueued(rows, "queue deliveries")
}

// QueueOrphansTx hands up to limit rows nobody delivers to the durable
// queue in tx: pending, not queued, and not under a live claim (the fast
// path's process died, or handed the row over and crashed before the
// queue got it). They are marked queued and returned oldest first; the
// caller inserts their jobs in the same transaction. Rows locked by a
// concurrent sweep are skipped.
func (s *Store) QueueOrphansTx(ctx context.Context, tx pgx.Tx, limit int) ([]store.Queued, error) {
	rows, err := tx.Query(ctx, `
		update outbox set queued_at = now(), claimed_until = null, claimed_by = null
		where id in (
			select id from outbox
			where state = 'pending' and queued_at is null and (claimed_until is null or claimed_until <= now())
			order by id limit $1
			for update skip locked)
		returning id, not_before`, limit)
	if err != nil {
		return nil, fmt.Errorf("queue orphans: %w", translate(err))
	}
	return collectQueued(rows, "queue orphans")
}

func collectQueued(rows pgx.Rows, what string) ([]store.Queued, error) {
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Queued, error) {
		var q store.Queued
		err := r.Scan(&q.ID, &q.NotBefore)
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, translate(err))
	}
	return out, nil
}

// CancelDeliveries withdraws the pending outbox rows ids (state
// cancelled) and returns how many it withdrew. A cancelled row's queue job
// ends without sending when it runs.
func (s *Store) CancelDeliveries(ctx context.Context, ids []int64) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		update outbox set state = 'cancelled', claimed_until = null, claimed_by = null
		where id = any($1) and state = 'pending'`, ids)
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", translate(err))
	}
	return int(tag.RowsAffected()), nil
}

// deliveryColumns are the columns scanDelivery reads.
const deliveryColumns = `id, coalesce(candidate_id, 0), channel, user_id, kind, coalesce(dedup_key, ''), payload, state,
	attempts, last_error, parts_sent, not_before, created_at, sent_at`

func scanDelivery(r pgx.CollectableRow) (store.Delivery, error) {
	var (
		d      store.Delivery
		kind   string
		state  string
		sentAt *time.Time
	)
	err := r.Scan(&d.ID, &d.CandidateID, &d.Identity.Channel, &d.Identity.UserID, &kind, &d.Key, &d.Payload, &state,
		&d.Attempts, &d.LastError, &d.PartsSent, &d.NotBefore, &d.CreatedAt, &sentAt)
	d.Kind, d.State = store.OutKind(kind), store.DeliveryState(state)
	if sentAt != nil {
		d.SentAt = *sentAt
	}
	return d, err
}

// Deliveries returns the candidate's outbox messages, newest first, at
// most limit (0: 100): what was sent to them, when, and what failed. It is
// the staff console's view of a candidate's notifications.
func (s *Store) Deliveries(ctx context.Context, candidateID int64, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `select `+deliveryColumns+` from outbox
		where candidate_id = $1 order by id desc limit $2`, candidateID, limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", translate(err))
	}
	return out, nil
}

// Delivery returns one outbox message, or store.ErrNotFound.
func (s *Store) Delivery(ctx context.Context, id int64) (store.Delivery, error) {
	rows, err := s.pool.Query(ctx, `select `+deliveryColumns+` from outbox where id = $1`, id)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("delivery %d: %w", id, translate(err))
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	if err != nil {
		return store.Delivery{}, fmt.Errorf("delivery %d: %w", id, translate(err))
	}
	return d, nil
}

// DeliveryAttempts returns the failed attempts of the outbox message id,
// oldest first.
func (s *Store) DeliveryAttempts(ctx context.Context, id int64) ([]store.DeliveryAttempt, error) {
	rows, err := s.pool.Query(ctx, `select at, error, permanent from outbox_attempts
		where outbox_id = $1 order by at`, id)
	if err != nil {
		return nil, fmt.Errorf("delivery attempts: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DeliveryAttempt, error) {
		var a store.DeliveryAttempt
		err := r.Scan(&a.At, &a.Error, &a.Permanent)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery attempts: %w", translate(err))
	}
	return out, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
