package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueTicket opens a ticket for the escalation; what the candidate said, if
// anything, is its first message.
func queueTicket(b *pgx.Batch, id store.Identity, planID string, e store.Escalation, at time.Time) {
	if e.At.IsZero() {
		e.At = at
	}
	b.Queue(`
		with app as (
			select a.id, a.candidate_id from applications a where a.id = `+applicationOf+`),
		ticket as (
			insert into tickets (candidate_id, application_id, channel, user_id, reason, opened_at)
			select candidate_id, id, $1, $2, $4, $6 from app
			returning id)
		insert into ticket_messages (ticket_id, author, text, at)
		select id, 'candidate', $5, $6 from ticket where $5 <> ''`,
		id.Channel, id.UserID, planID, e.Reason, e.Text, e.At)
}

// Tickets returns the escalation tickets of the identity's candidate, oldest
// first.
func (s *Store) Tickets(ctx context.Context, id store.Identity) ([]store.Ticket, error) {
	rows, err := s.pool.Query(ctx, `
		select t.id, t.channel, t.user_id, coalesce(a.plan_id, ''), t.reason, t.state, t.opened_at,
			coalesce((select m.text from ticket_messages m where m.ticket_id = t.id order by m.id limit 1), '')
		from tickets t
		left join applications a on a.id = t.application_id
		where t.candidate_id = (select candidate_id from identities where channel = $1 and user_id = $2)
		order by t.id`, id.Channel, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	tickets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) {
		var t store.Ticket
		err := r.Scan(&t.ID, &t.Identity.Channel, &t.Identity.UserID, &t.PlanID, &t.Reason, &t.State, &t.OpenedAt, &t.Text)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	return tickets, nil
}
