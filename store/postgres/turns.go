package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// RecordTurn writes what one turn changed in one transaction and fills in
// what the record assigned: t.CandidateID, t.ApplicationID, t.Seq (the
// application's seq after the turn) and t.Rows (the outbox rows inserted,
// with t.Claim's fast-path claim where the outbox's rules allow it).
//
// The statements go to the server as one pipelined batch: one round trip,
// run by PostgreSQL as one implicit transaction (pgx's SendBatch contract),
// so the turn is all there or not at all. A turn of a known candidate
// (t.ApplicationID set, as the Router's sessions carry it) holds only the
// rows that changed, addressed by id: the message with its reply, the
// application update guarded by t.Seq (when anything of it changed), the
// work history when it changed, documents, tickets, the status event and
// the outbox rows. A first contact (no ids) also creates the candidate,
// the identity and the application, finding them by t.Identity.
//
// A message id already recorded for the identity gives store.ErrConflict, a
// t.Seq the record no longer holds store.ErrStale; neither writes anything.
func (s *Store) RecordTurn(ctx context.Context, t *store.Turn) error {
	if t.At.IsZero() {
		t.At = time.Now()
	}
	var st store.Turn
	sealed, err := s.sealTurn(t, &st)
	if err != nil {
		return fmt.Errorf("record turn: %w", err)
	}
	b := &pgx.Batch{}
	known := t.ApplicationID != 0 && t.CandidateID != 0
	var cand, app *int64
	if known {
		cand, app = &t.CandidateID, &t.ApplicationID
	} else {
		queueCandidate(b, t.Identity, t.At)
	}
	appChanged := !t.KeepAnswers || !t.KeepWork || t.Session != nil || t.Status != "" ||
		len(t.Documents) > 0 || len(t.Escalations) > 0 || len(t.Outbox) > 0
	// A turn that changes the application is guarded by its update; one
	// that changes nothing of it (a question answered from the session, a
	// message of a candidate talking to staff, which only adds to their
	// ticket) is guarded by its message's insert, or a stale cached session
	// would answer unnoticed.
	var guard *int64
	if known && !appChanged && t.Seq > 0 {
		guard = &t.ApplicationID
	}
	queueInbound(b, &st, cand, guard)
	switch {
	case !known:
		queueNewApplication(b, t, sealed)
	case appChanged:
		queueApplication(b, t, sealed)
	}
	if !t.KeepWork {
		queueWorkHistory(b, t.Identity, t.PlanID, app, t.WorkHistory)
	}
	for _, d := range st.Documents {
		queueDocument(b, t.Identity, t.PlanID, app, d, t.At)
	}
	for _, e := range st.Escalations {
		queueTicket(b, t.Identity, t.PlanID, app, e, t.At)
	}
	for _, u := range st.Tickets {
		queueTicketUpdate(b, t.Identity, u, t.At, cand)
	}
	if t.CancelReminders {
		queueCancelReminders(b, t.Identity)
	}
	t.Rows = t.Rows[:0]
	var kc *knownCandidate
	if known {
		kc = &knownCandidate{id: t.Identity, candidate: t.CandidateID}
	}
	queueOutbox(b, t.Outbox, t.At, t.Claim, kc, &t.Rows)
	if !known {
		b.Queue(`select a.id, a.candidate_id, a.seq from applications a where a.id = `+appRef(4),
			t.Identity.Channel, t.Identity.UserID, t.PlanID, app).QueryRow(func(row pgx.Row) error {
			return row.Scan(&t.ApplicationID, &t.CandidateID, &t.Seq)
		})
	}
	// Close reads every result in order and runs the callbacks.
	err = s.db(ctx).SendBatch(ctx, b).Close()
	sealed.release()
	if err != nil {
		return fmt.Errorf("record turn: %w", translate(err))
	}
	if known && appChanged {
		t.Seq++
	}
	return nil
}

// queueCandidate creates the candidate and the identity on first contact.
func queueCandidate(b *pgx.Batch, id store.Identity, at time.Time) {
	b.Queue(`
		with new_candidate as (
			insert into candidates (created_at)
			select $3
			where not exists (select 1 from identities where channel = $1 and user_id = $2)
			returning id)
		insert into identities (channel, user_id, candidate_id, created_at)
		select $1, $2, id, $3 from new_candidate
		on conflict (channel, user_id) do nothing`,
		id.Channel, id.UserID, at)
}

// appRef is the application id: parameter $n when known, else the
// application of the identity ($1 channel, $2 user_id) to the plan ($3).
// COALESCE does not run the lookup when $n is set.
func appRef(n int) string {
	return fmt.Sprintf(`coalesce($%d::bigint, (
		select a.id from applications a join identities i on i.candidate_id = a.candidate_id
		where i.channel = $1 and i.user_id = $2 and a.plan_id = $3))`, n)
}

// applicationOf is the id of the application of the identity ($1 channel,
// $2 user_id) to the plan ($3).
const applicationOf = `(
	select a.id from applications a join identities i on i.candidate_id = a.candidate_id
	where i.channel = $1 and i.user_id = $2 and a.plan_id = $3)`

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// seqConflict is the SQLSTATE regbot_expect_seq raises (migration 009).
const seqConflict = "RB409"
