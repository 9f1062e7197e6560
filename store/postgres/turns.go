package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// RecordTurn writes what one turn changed in one transaction: the candidate
// and identity (created on first contact), the message as said, the
// application (condition, status, answers, session snapshot), the work
// history (replaced), the documents (each superseding the current one of its
// material), the tickets, and a status event when the status changes. A
// message id already recorded for the identity gives store.ErrConflict and
// changes nothing.
//
// The statements go to the server as one pipelined batch: one round trip,
// run by PostgreSQL as one implicit transaction (pgx's SendBatch contract),
// so the turn is all there or not at all.
func (s *Store) RecordTurn(ctx context.Context, t store.Turn) error {
	if t.At.IsZero() {
		t.At = time.Now()
	}
	answers, err := json.Marshal(orEmpty(t.Answers))
	if err != nil {
		return fmt.Errorf("record turn: answers: %w", err)
	}
	b := &pgx.Batch{}
	queueCandidate(b, t.Identity, t.At, !t.System)
	if !t.System {
		queueInbound(b, t.Identity, t.MsgID, t.Inbound, t.At)
	}
	if t.CancelReminders {
		queueCancelReminders(b, t.Identity)
	}
	queueApplication(b, t, answers)
	queueWorkHistory(b, t.Identity, t.PlanID, t.WorkHistory)
	for _, d := range t.Documents {
		queueDocument(b, t.Identity, t.PlanID, d, t.At)
	}
	for _, e := range t.Escalations {
		queueTicket(b, t.Identity, t.PlanID, e, t.At)
	}
	for _, u := range t.Tickets {
		queueTicketUpdate(b, t.Identity, u, t.At)
	}
	br := s.pool.SendBatch(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("record turn: %w", translate(err))
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("record turn: %w", translate(err))
	}
	return nil
}

// queueCandidate creates the candidate and the identity on first contact;
// wrote says the candidate wrote (not a system turn), which makes them
// reachable again.
func queueCandidate(b *pgx.Batch, id store.Identity, at time.Time, wrote bool) {
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
	if !wrote {
		return
	}
	// The candidate wrote: the platform delivers to them again.
	b.Queue(`update identities set unreachable_at = null
		where channel = $1 and user_id = $2 and unreachable_at is not null`, id.Channel, id.UserID)
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
