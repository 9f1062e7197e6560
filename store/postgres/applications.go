package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueApplication updates a known application with what the turn changed
// and records a status event (with the turn's actor and reason) when the
// status changes. The update is guarded by the turn's seq:
// regbot_expect_seq raises (aborting the batch) when the row holds another,
// which under READ COMMITTED is checked against the latest committed row.
// The plain comparison comes first in the OR, so the plpgsql guard runs
// only when the seq differs (PostgreSQL evaluates an OR's arms in order),
// not on every turn.
// "old" reads the status as of the statement's start; with the guard, it is
// the status of the row the update changed. The status machine's trigger
// (migration 009) refuses a change it does not allow.
func queueApplication(b *pgx.Batch, t *store.Turn, sealed sealedTurn) {
	if t.Status == "" {
		queueApplicationUpdate(b, t, sealed)
		return
	}
	b.Queue(`
		with old as (
			select status from applications where id = $1),
		up as (
			update applications a set
				seq = a.seq + 1,
				updated_at = $3,
				condition = case when $4 then a.condition else $5 end,
				answers = case when $4 then a.answers else $6::jsonb end,
				id_number_index = case when $4 then a.id_number_index else $11 end,
				mobile_index = case when $4 then a.mobile_index else $12 end,
				snapshot = coalesce($7, a.snapshot),
				status = coalesce(nullif($8::text, ''), a.status)
			where a.id = $1 and (a.seq = $2 or regbot_expect_seq(a.seq, $2))
			returning a.id, a.status)
		insert into status_events (application_id, from_status, to_status, actor, reason, at)
		select up.id, old.status, up.status, $9, $10, $3
		from up, old
		where old.status is distinct from up.status`,
		t.ApplicationID, t.Seq, t.At, t.KeepAnswers, t.Condition, jsonOrNil(sealed.answers), sealed.session,
		string(t.Status), cmp.Or(t.StatusActor, store.ActorSystem), t.StatusReason, sealed.idNumber, sealed.mobile)
}

// applicationUpdates are the statements of queueApplicationUpdate, by what
// the turn changed: updateAnswers|updateSnapshot.
var applicationUpdates = func() (q [4]string) {
	for i := range q {
		set := "seq = a.seq + 1, updated_at = $3"
		n := 3
		if i&updateAnswers != 0 {
			set += fmt.Sprintf(", condition = $%d, answers = $%d::jsonb, id_number_index = $%d, mobile_index = $%d", n+1, n+2, n+3, n+4)
			n += 4
		}
		if i&updateSnapshot != 0 {
			set += fmt.Sprintf(", snapshot = $%d", n+1)
		}
		q[i] = "update applications a set " + set + " where a.id = $1 and (a.seq = $2 or regbot_expect_seq(a.seq, $2))"
	}
	return q
}()

const (
	updateAnswers = 1 << iota
	updateSnapshot
)

// queueApplicationUpdate is queueApplication for a turn that leaves the
// status as it is (most turns): one plain update of what changed, guarded
// by the turn's seq, without the status event's statement.
func queueApplicationUpdate(b *pgx.Batch, t *store.Turn, sealed sealedTurn) {
	args := make([]any, 3, 8)
	args[0], args[1], args[2] = t.ApplicationID, t.Seq, t.At
	v := 0
	if !t.KeepAnswers {
		v |= updateAnswers
		args = append(args, t.Condition, jsonOrNil(sealed.answers), sealed.idNumber, sealed.mobile)
	}
	if sealed.session != nil {
		v |= updateSnapshot
		args = append(args, sealed.session)
	}
	b.Queue(applicationUpdates[v], args...)
}

// queueNewApplication creates or updates the identity's application to the
// plan, finding it by identity, and records a status event (with the turn's
// actor and reason) when the status is new or changes. With t.Fresh an
// application recorded meanwhile makes the turn stale.
func queueNewApplication(b *pgx.Batch, t *store.Turn, sealed sealedTurn) {
	b.Queue(`
		with ident as (
			select candidate_id from identities where channel = $1 and user_id = $2),
		old as (
			select a.id, a.status from applications a join ident using (candidate_id)
			where a.plan_id = $3),
		up as (
			insert into applications as a (candidate_id, plan_id, condition, status, answers, snapshot, seq, created_at, updated_at,
				id_number_index, mobile_index)
			select candidate_id, $3, $4, coalesce(nullif($5::text, ''), 'collecting'), coalesce($6::jsonb, '{}'), $7, 1, $8, $8, $14, $15
			from ident
			on conflict (candidate_id, plan_id) do update set
				seq = a.seq + 1,
				condition = case when $13 then a.condition else excluded.condition end,
				answers = case when $13 then a.answers else excluded.answers end,
				id_number_index = case when $13 then a.id_number_index else excluded.id_number_index end,
				mobile_index = case when $13 then a.mobile_index else excluded.mobile_index end,
				snapshot = coalesce(excluded.snapshot, a.snapshot),
				status = coalesce(nullif($5::text, ''), a.status),
				updated_at = excluded.updated_at
			where not $12 or regbot_expect_seq(a.seq, 0)
			returning a.id, a.status)
		insert into status_events (application_id, from_status, to_status, actor, reason, at)
		select up.id, old.status, up.status,
			case when old.status is null then $11 else $9 end,
			case when old.status is null then '' else $10 end, $8
		from up left join old on old.id = up.id
		where old.status is distinct from up.status`,
		t.Identity.Channel, t.Identity.UserID, t.PlanID, t.Condition, string(t.Status),
		jsonOrNil(sealed.answers), sealed.session, t.At,
		cmp.Or(t.StatusActor, store.ActorSystem), t.StatusReason, store.ActorSystem, t.Fresh, t.KeepAnswers,
		sealed.idNumber, sealed.mobile)
}

func jsonOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// queueWorkHistory replaces the application's work history.
func queueWorkHistory(b *pgx.Batch, id store.Identity, planID string, app *int64, work []store.WorkEntry) {
	b.Queue(`delete from work_history where application_id = `+appRef(4),
		id.Channel, id.UserID, planID, app)
	if len(work) == 0 {
		return
	}
	n := len(work)
	employer, occupation, start, end := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	related := make([]bool, n)
	for i, w := range work {
		employer[i], occupation[i], related[i], start[i], end[i] = w.Employer, w.Occupation, w.Related, w.Start, w.End
	}
	b.Queue(`
		insert into work_history (application_id, position, employer, occupation, related, start_month, end_month)
		select `+appRef(4)+`, w.position, w.employer, w.occupation, w.related, w.start_month, w.end_month
		from unnest($5::text[], $6::text[], $7::bool[], $8::text[], $9::text[])
			with ordinality as w(employer, occupation, related, start_month, end_month, position)`,
		id.Channel, id.UserID, planID, app, employer, occupation, related, start, end)
}

// snapshotOf is an application's session snapshot: the session's own
// encoding, or for rows written before migration 009 the jsonb session.
const snapshotOf = `coalesce(a.snapshot, convert_to(a.session::text, 'UTF8'))`

// LatestSession returns the session snapshot of the identity's most recently
// changed application, or store.ErrNotFound.
func (s *Store) LatestSession(ctx context.Context, id store.Identity) ([]byte, error) {
	var snap []byte
	err := s.db(ctx).QueryRow(ctx, `
		select `+snapshotOf+` from applications a join identities i on i.candidate_id = a.candidate_id
		where i.channel = $1 and i.user_id = $2 and (a.snapshot is not null or a.session is not null)
		order by a.updated_at desc, a.id desc
		limit 1`, id.Channel, id.UserID).Scan(&snap)
	if err != nil {
		return nil, fmt.Errorf("latest session: %w", translate(err))
	}
	if snap, err = s.openSnapshot(snap); err != nil {
		return nil, fmt.Errorf("latest session: %w", err)
	}
	return snap, nil
}

// Resume returns what the record holds to go on with id's conversation on
// plan: the session snapshot (nil when none was recorded), the
// application's seq and the ids; store.ErrNotFound when id has no
// application to plan.
func (s *Store) Resume(ctx context.Context, id store.Identity, planID string) (store.Cached, error) {
	var c store.Cached
	err := s.db(ctx).QueryRow(ctx, `
		select a.id, a.candidate_id, a.seq, `+snapshotOf+`
		from applications a join identities i on i.candidate_id = a.candidate_id
		where i.channel = $1 and i.user_id = $2 and a.plan_id = $3`,
		id.Channel, id.UserID, planID).Scan(&c.ApplicationID, &c.CandidateID, &c.Seq, &c.Data)
	if err != nil {
		return store.Cached{}, fmt.Errorf("resume: %w", translate(err))
	}
	if c.Data, err = s.openSnapshot(c.Data); err != nil {
		return store.Cached{}, fmt.Errorf("resume: %w", err)
	}
	return c, nil
}

// store.Application returns the identity's application to plan, or
// store.ErrNotFound.
func (s *Store) Application(ctx context.Context, id store.Identity, planID string) (store.Application, error) {
	var app store.Application
	var status string
	err := s.pool.QueryRow(ctx, `
		select a.id, a.candidate_id, a.plan_id, a.condition, a.status, a.answers, a.updated_at
		from applications a where a.id = `+applicationOf,
		id.Channel, id.UserID, planID).Scan(&app.ID, &app.CandidateID, &app.PlanID, &app.Condition, &status, &app.Answers, &app.UpdatedAt)
	if err != nil {
		return store.Application{}, fmt.Errorf("application: %w", translate(err))
	}
	if err := s.openAnswers(app.Answers); err != nil {
		return store.Application{}, fmt.Errorf("application: %w", err)
	}
	app.Status = store.Status(status)
	rows, err := s.pool.Query(ctx, `
		select employer, occupation, related, start_month, end_month
		from work_history where application_id = $1 order by position`, app.ID)
	if err != nil {
		return store.Application{}, fmt.Errorf("application: work history: %w", err)
	}
	app.WorkHistory, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WorkEntry, error) {
		var w store.WorkEntry
		err := r.Scan(&w.Employer, &w.Occupation, &w.Related, &w.Start, &w.End)
		return w, err
	})
	if err != nil {
		return store.Application{}, fmt.Errorf("application: work history: %w", err)
	}
	return app, nil
}
