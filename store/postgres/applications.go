package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueApplication creates or updates the application with the turn's
// condition, answers, snapshot and status, and records a status event (with
// the turn's actor and reason) when the status is new or changes. The
// status machine's trigger (migration 004) refuses a change it does not
// allow. "old" reads the status as of the statement's
// start (a FOR UPDATE there would skip the row the same statement updates);
// the per-user lock keeps two turns of one candidate from interleaving.
func queueApplication(b *pgx.Batch, t store.Turn, answers []byte) {
	var session any // nil keeps the stored snapshot
	if t.Session != nil {
		session = json.RawMessage(t.Session)
	}
	b.Queue(`
		with ident as (
			select candidate_id from identities where channel = $1 and user_id = $2),
		old as (
			select a.id, a.status from applications a join ident using (candidate_id)
			where a.plan_id = $3),
		up as (
			insert into applications as a (candidate_id, plan_id, condition, status, answers, session, created_at, updated_at)
			select candidate_id, $3, $4, coalesce(nullif($5::text, ''), 'collecting'), $6, $7, $8, $8 from ident
			on conflict (candidate_id, plan_id) do update set
				condition = excluded.condition,
				status = coalesce(nullif($5::text, ''), a.status),
				answers = excluded.answers,
				session = coalesce(excluded.session, a.session),
				updated_at = excluded.updated_at
			returning a.id, a.status)
		insert into status_events (application_id, from_status, to_status, actor, reason, at)
		select up.id, old.status, up.status,
			case when old.status is null then $11 else $9 end,
			case when old.status is null then '' else $10 end, $8
		from up left join old on old.id = up.id
		where old.status is distinct from up.status`,
		t.Identity.Channel, t.Identity.UserID, t.PlanID, t.Condition, string(t.Status),
		json.RawMessage(answers), session, t.At,
		cmp.Or(t.StatusActor, store.ActorSystem), t.StatusReason, store.ActorSystem)
}

// queueWorkHistory replaces the application's work history.
func queueWorkHistory(b *pgx.Batch, id store.Identity, planID string, work []store.WorkEntry) {
	b.Queue(`delete from work_history where application_id = `+applicationOf,
		id.Channel, id.UserID, planID)
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
		select `+applicationOf+`, w.position, w.employer, w.occupation, w.related, w.start_month, w.end_month
		from unnest($4::text[], $5::text[], $6::bool[], $7::text[], $8::text[])
			with ordinality as w(employer, occupation, related, start_month, end_month, position)`,
		id.Channel, id.UserID, planID, employer, occupation, related, start, end)
}

// LatestSession returns the session snapshot of the identity's most recently
// changed application, or store.ErrNotFound.
func (s *Store) LatestSession(ctx context.Context, id store.Identity) ([]byte, error) {
	var snap []byte
	err := s.pool.QueryRow(ctx, `
		select a.session from applications a join identities i on i.candidate_id = a.candidate_id
		where i.channel = $1 and i.user_id = $2 and a.session is not null
		order by a.updated_at desc, a.id desc
		limit 1`, id.Channel, id.UserID).Scan(&snap)
	if err != nil {
		return nil, fmt.Errorf("latest session: %w", translate(err))
	}
	return snap, nil
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
