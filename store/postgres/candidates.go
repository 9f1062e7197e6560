package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// CandidateList returns one page of the applications f selects, most
// recently changed first, and how many f selects in all.
func (s *Store) CandidateList(ctx context.Context, f store.CandidateFilter) ([]store.CandidateRow, int, error) {
	var since *time.Time
	if !f.UpdatedSince.IsZero() {
		since = &f.UpdatedSince
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	keys := f.TextKeys
	if keys == nil {
		keys = []string{}
	}
	rows, err := s.pool.Query(ctx, `
		select a.candidate_id, a.id, a.plan_id, a.condition, a.status, a.answers, a.created_at, a.updated_at,
			coalesce((select array_agg(i.channel order by i.created_at, i.user_id) from identities i where i.candidate_id = a.candidate_id), '{}'),
			coalesce((select array_agg(i.user_id order by i.created_at, i.user_id) from identities i where i.candidate_id = a.candidate_id), '{}'),
			(select count(*) from tickets t where t.candidate_id = a.candidate_id and t.state = 'open'),
			count(*) over ()
		from applications a
		where ($1 = '' or a.plan_id = $1)
			and ($2 = '' or a.status = $2)
			and ($3::text is null or a.condition = $3)
			and ($4 = '' or exists (select 1 from identities i where i.candidate_id = a.candidate_id and i.channel = $4))
			and (not $5 or exists (select 1 from tickets t where t.candidate_id = a.candidate_id and t.state = 'open'))
			and ($6::timestamptz is null or a.updated_at >= $6)
			and ($7 = '' or exists (select 1 from unnest($8::text[]) k where a.answers ->> k ilike '%' || $7 || '%' escape '\'))
			and ($9::bigint[] is null or a.candidate_id = any($9))
		order by a.updated_at desc, a.id desc
		offset $10 limit $11`,
		f.PlanID, string(f.Status), conditionArg(f.Condition), f.Channel, f.Waiting, since,
		likeEscape(f.Text), keys, candidatesArg(f.Candidates), f.Offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("candidate list: %w", err)
	}
	total := 0
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CandidateRow, error) {
		var c store.CandidateRow
		var status string
		var channels, users []string
		err := r.Scan(&c.CandidateID, &c.ApplicationID, &c.PlanID, &c.Condition, &status, &c.Answers, &c.CreatedAt, &c.UpdatedAt,
			&channels, &users, &c.Waiting, &total)
		if err == nil {
			err = s.openAnswers(c.Answers)
		}
		c.Status = store.Status(status)
		for i := range min(len(channels), len(users)) {
			c.Identities = append(c.Identities, store.Identity{Channel: channels[i], UserID: users[i]})
		}
		return c, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("candidate list: %w", err)
	}
	if len(list) == 0 && f.Offset > 0 {
		// Past the last page: count on its own.
		err := s.pool.QueryRow(ctx, `select count(*) from applications where $1 = '' or plan_id = $1`, f.PlanID).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("candidate list: %w", err)
		}
	}
	return list, total, nil
}

// conditionArg is the condition filter: "" does not filter, "-" keeps the
// applications without a condition.
func conditionArg(c string) *string {
	switch c {
	case "":
		return nil
	case "-":
		empty := ""
		return &empty
	}
	return &c
}

func candidatesArg(ids []int64) []int64 {
	if ids == nil {
		return nil
	}
	return append([]int64{}, ids...) // not nil: an empty list keeps none
}

// likeEscape makes text match itself in an ILIKE pattern.
func likeEscape(text string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
}

// CandidateRecord returns what the record holds about the candidate's
// application to plan, or store.ErrNotFound.
func (s *Store) CandidateRecord(ctx context.Context, candidateID int64, planID string) (store.CandidateRecord, error) {
	rec := store.CandidateRecord{CandidateID: candidateID}
	app := &rec.Application
	var status string
	err := s.pool.QueryRow(ctx, `
		select a.id, a.candidate_id, a.plan_id, a.condition, a.status, a.answers, a.updated_at, `+snapshotOf+`, c.created_at
		from applications a join candidates c on c.id = a.candidate_id
		where a.candidate_id = $1 and a.plan_id = $2`, candidateID, planID).
		Scan(&app.ID, &app.CandidateID, &app.PlanID, &app.Condition, &status, &app.Answers, &app.UpdatedAt, &rec.Session, &rec.CreatedAt)
	if err != nil {
		return store.CandidateRecord{}, fmt.Errorf("candidate %d: %w", candidateID, translate(err))
	}
	app.Status = store.Status(status)
	fail := func(err error) (store.CandidateRecord, error) {
		return store.CandidateRecord{}, fmt.Errorf("candidate %d: %w", candidateID, err)
	}
	if err := s.openAnswers(app.Answers); err != nil {
		return fail(err)
	}
	if rec.Session, err = s.openSnapshot(rec.Session); err != nil {
		return fail(err)
	}
	if app.WorkHistory, err = s.workHistory(ctx, app.ID); err != nil {
		return fail(err)
	}
	rows, err := s.pool.Query(ctx, `
		select channel, user_id, regbot_unreachable(candidate_id, channel, user_id, unreachable_at), created_at from identities
		where candidate_id = $1 order by created_at, user_id`, candidateID)
	if err != nil {
		return fail(err)
	}
	rec.Identities, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.IdentityState, error) {
		var id store.IdentityState
		err := r.Scan(&id.Channel, &id.UserID, &id.Unreachable, &id.CreatedAt)
		return id, err
	})
	if err != nil {
		return fail(err)
	}
	if rec.Documents, err = s.applicationDocuments(ctx, app.ID); err != nil {
		return fail(err)
	}
	if rec.Events, err = s.applicationEvents(ctx, app.ID); err != nil {
		return fail(err)
	}
	rows, err = s.pool.Query(ctx, `select `+ticketColumns+` `+ticketJoins+`
		where t.candidate_id = $2 order by t.id`, "", candidateID)
	if err != nil {
		return fail(err)
	}
	rec.Tickets, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) { return s.scanTicket(r) })
	if err != nil {
		return fail(err)
	}
	rows, err = s.pool.Query(ctx, `
		select msg_id, text, at, reply, reply_inline from inbound_messages
		where candidate_id = $1 and kind <> 'system' order by id`, candidateID)
	if err != nil {
		return fail(err)
	}
	rec.Inbound, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboundMessage, error) {
		var m store.InboundMessage
		if err := r.Scan(&m.MsgID, &m.Text, &m.At, &m.Reply, &m.ReplyInline); err != nil {
			return m, err
		}
		var err error
		m.Text, err = s.openText(m.Text, adInbound)
		return m, err
	})
	if err != nil {
		return fail(err)
	}
	return rec, nil
}

func (s *Store) workHistory(ctx context.Context, appID int64) ([]store.WorkEntry, error) {
	rows, err := s.pool.Query(ctx, `
		select employer, occupation, related, start_month, end_month
		from work_history where application_id = $1 order by position`, appID)
	if err != nil {
		return nil, fmt.Errorf("work history: %w", err)
	}
	work, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WorkEntry, error) {
		var w store.WorkEntry
		err := r.Scan(&w.Employer, &w.Occupation, &w.Related, &w.Start, &w.End)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("work history: %w", err)
	}
	return work, nil
}

func (s *Store) applicationEvents(ctx context.Context, appID int64) ([]store.StatusEvent, error) {
	rows, err := s.pool.Query(ctx, `
		select coalesce(from_status, ''), to_status, actor, reason, at
		from status_events where application_id = $1 order by id`, appID)
	if err != nil {
		return nil, fmt.Errorf("status events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StatusEvent, error) {
		var e store.StatusEvent
		var from, to string
		err := r.Scan(&from, &to, &e.Actor, &e.Reason, &e.At)
		e.From, e.To = store.Status(from), store.Status(to)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("status events: %w", err)
	}
	return events, nil
}

// Dashboard returns the figures of plan's dashboard: new applications per
// day for the days days up to now, days taken in loc.
func (s *Store) Dashboard(ctx context.Context, planID string, days int, loc *time.Location, now time.Time) (store.Dashboard, error) {
	d := store.Dashboard{ByStatus: map[store.Status]int{}, ByCondition: map[string]int{}, Reached: map[store.Status]int{}}
	fail := func(err error) (store.Dashboard, error) { return store.Dashboard{}, fmt.Errorf("dashboard: %w", err) }
	rows, err := s.pool.Query(ctx, `
		select status, condition, count(*) from applications where plan_id = $1 group by status, condition`, planID)
	if err != nil {
		return fail(err)
	}
	var status, condition string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &condition, &n}, func() error {
		d.Applications += n
		d.ByStatus[store.Status(status)] += n
		d.ByCondition[condition] += n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	rows, err = s.pool.Query(ctx, `
		select e.to_status, count(distinct e.application_id)
		from status_events e join applications a on a.id = e.application_id
		where a.plan_id = $1 group by e.to_status`, planID)
	if err != nil {
		return fail(err)
	}
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		d.Reached[store.Status(status)] = n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	var oldest *time.Time
	err = s.pool.QueryRow(ctx, `
		select count(*), min(t.state_since) from tickets t left join applications a on a.id = t.application_id
		where t.state = 'open' and (a.plan_id = $1 or a.plan_id is null)`, planID).Scan(&d.TicketsWaiting, &oldest)
	if err != nil {
		return fail(err)
	}
	d.OldestWaiting = orZero(oldest)
	if days <= 0 {
		return d, nil
	}
	local := now.In(loc)
	first := time.Date(local.Year(), local.Month(), local.Day()-days+1, 0, 0, 0, 0, loc)
	_, offset := local.Zone()
	rows, err = s.pool.Query(ctx, `
		select ((created_at at time zone 'UTC') + make_interval(secs => $3))::date::text, count(*)
		from applications where plan_id = $1 and created_at >= $2
		group by 1`, planID, first, offset)
	if err != nil {
		return fail(err)
	}
	perDay := map[string]int{}
	var day string
	_, err = pgx.ForEachRow(rows, []any{&day, &n}, func() error {
		perDay[day] = n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for i := range days {
		at := first.AddDate(0, 0, i)
		d.PerDay = append(d.PerDay, store.DayCount{Day: at, N: perDay[at.Format(time.DateOnly)]})
	}
	return d, nil
}
