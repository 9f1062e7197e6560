package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// queueTicket opens a ticket for the escalation; what the candidate said, if
// anything, is its first message.
func queueTicket(b *pgx.Batch, id store.Identity, planID string, app *int64, e store.Escalation, at time.Time) {
	if e.At.IsZero() {
		e.At = at
	}
	b.Queue(`
		with app as (
			select a.id, a.candidate_id from applications a where a.id = `+appRef(4)+`),
		ticket as (
			insert into tickets (candidate_id, application_id, channel, user_id, reason, code, handover, opened_at, state_since)
			select candidate_id, id, $1, $2, $5, $8, $9, $7, $7 from app
			returning id)
		insert into ticket_messages (ticket_id, author, text, at)
		select id, 'candidate', $6, $7 from ticket where $6 <> ''`,
		id.Channel, id.UserID, planID, app, e.Reason, e.Text, e.At, e.Code, e.Handover)
}

// queueTicketUpdate adds a message to the identity's candidate's latest
// ticket with the update's code and moves its state: a candidate's message
// makes it wait for staff again, a staff reply marks it answered, a close
// closes it. A closed ticket takes no more messages. The ticket's row is
// written only when its state changes (not for each message of a candidate
// whose ticket is open already).
//
// cand is the candidate's id when known (else found by identity).
func queueTicketUpdate(b *pgx.Batch, id store.Identity, u store.TicketUpdate, at time.Time, cand *int64) {
	var staff *int64
	if u.StaffID != 0 {
		staff = &u.StaffID
	}
	state := ""
	switch {
	case u.Close:
		state = store.TicketClosed
	case u.Author == store.AuthorCandidate:
		state = store.TicketOpen
	case u.Author == store.AuthorStaff:
		state = store.TicketAnswered
	}
	if cand != nil {
		b.Queue(ticketUpdateKnownSQL, *cand, u.Code, u.Author, staff, u.Text, u.ImageRef, at, state, u.ClosedBy)
		return
	}
	b.Queue(ticketUpdateSQL, id.Channel, id.UserID, u.Code, u.Author, staff, u.Text, u.ImageRef, at, state, u.ClosedBy)
}

// ticketUpdateSQL is queueTicketUpdate's statement; ticketUpdateKnownSQL
// is the same with the candidate's id ($1) instead of its identity ($1,
// $2), the other parameters one place earlier.
const ticketUpdateSQL = `
		with tk as (
			select t.id from tickets t
			where t.candidate_id = (select candidate_id from identities where channel = $1 and user_id = $2)
				and t.code = $3 and t.state <> 'closed'
			order by t.id desc limit 1),
		msg as (
			insert into ticket_messages (ticket_id, author, staff_user_id, text, image_ref, at)
			select id, $4, $5, $6, $7, $8 from tk where $6 <> '' or $7 <> '')
		update tickets set
			state = $9,
			state_since = $8,
			closed_at = case when $9 = 'closed' then $8 else closed_at end,
			closed_by = case when $9 = 'closed' then $10 else closed_by end
		where id = (select id from tk) and $9 <> '' and $9 <> state`

var ticketUpdateKnownSQL = regexp.MustCompile(`\$([0-9]+)`).ReplaceAllStringFunc(
	strings.Replace(ticketUpdateSQL, "(select candidate_id from identities where channel = $1 and user_id = $2)", "$2::bigint", 1),
	func(p string) string { n, _ := strconv.Atoi(p[1:]); return "$" + strconv.Itoa(n-1) })

const ticketColumns = `t.id, t.candidate_id, t.channel, t.user_id, coalesce(a.plan_id, ''), t.reason, t.code, t.handover,
	t.state, t.opened_at, t.state_since, coalesce(t.assignee_id, 0), coalesce(u.login, ''), t.claimed_at,
	t.closed_at, t.closed_by,
	coalesce((select m.text from ticket_messages m where m.ticket_id = t.id order by m.id limit 1), ''),
	coalesce(a.answers ->> $1, '')`

const ticketJoins = `from tickets t
	left join applications a on a.id = t.application_id
	left join staff_users u on u.id = t.assignee_id`

func (s *Store) scanTicket(r pgx.Row) (store.Ticket, error) {
	var t store.Ticket
	var claimed, closed *time.Time
	err := r.Scan(&t.ID, &t.CandidateID, &t.Identity.Channel, &t.Identity.UserID, &t.PlanID, &t.Reason, &t.Code, &t.Handover,
		&t.State, &t.OpenedAt, &t.StateSince, &t.AssigneeID, &t.AssigneeLogin, &claimed,
		&closed, &t.ClosedBy, &t.Text, &t.Name)
	t.ClaimedAt, t.ClosedAt = orZero(claimed), orZero(closed)
	if err != nil {
		return t, err
	}
	if t.Text, err = s.openText(t.Text, adTicketText); err != nil {
		return t, err
	}
	if name, err := s.openText(t.Name, adAnswerPre+"name"); err == nil {
		t.Name = name
	} else {
		t.Name = "" // sealed under another answer key: not shown
	}
	return t, nil
}

// Tickets returns the escalation tickets of the identity's candidate, oldest
// first.
func (s *Store) Tickets(ctx context.Context, id store.Identity) ([]store.Ticket, error) {
	rows, err := s.pool.Query(ctx, `select `+ticketColumns+` `+ticketJoins+`
		where t.candidate_id = (select candidate_id from identities where channel = $2 and user_id = $3)
		order by t.id`, "", id.Channel, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	tickets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) { return s.scanTicket(r) })
	if err != nil {
		return nil, fmt.Errorf("tickets: %w", err)
	}
	return tickets, nil
}

// TicketInbox returns the tickets f selects, those waiting longest first;
// nameKey is the answer holding the candidate's name.
func (s *Store) TicketInbox(ctx context.Context, f store.TicketFilter, nameKey string) ([]store.Ticket, error) {
	states := f.States
	if len(states) == 0 {
		states = []string{store.TicketOpen, store.TicketAnswered}
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	rows, err := s.pool.Query(ctx, `select `+ticketColumns+` `+ticketJoins+`
		where t.state = any($2) and ($3 = '' or a.plan_id = $3)
		order by case t.state when 'open' then 0 when 'answered' then 1 else 2 end, t.state_since, t.id
		limit $4`, nameKey, states, f.PlanID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("ticket inbox: %w", err)
	}
	tickets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Ticket, error) { return s.scanTicket(r) })
	if err != nil {
		return nil, fmt.Errorf("ticket inbox: %w", err)
	}
	return tickets, nil
}

// Ticket returns one ticket and its messages, or store.ErrNotFound.
func (s *Store) Ticket(ctx context.Context, id int64, nameKey string) (store.Ticket, []store.TicketMessage, error) {
	t, err := s.scanTicket(s.pool.QueryRow(ctx, `select `+ticketColumns+` `+ticketJoins+` where t.id = $2`, nameKey, id))
	if err != nil {
		return store.Ticket{}, nil, fmt.Errorf("ticket %d: %w", id, translate(err))
	}
	rows, err := s.pool.Query(ctx, `
		select m.id, m.author, coalesce(m.staff_user_id, 0), coalesce(u.login, ''), m.text, m.image_ref, m.at
		from ticket_messages m left join staff_users u on u.id = m.staff_user_id
		where m.ticket_id = $1 order by m.id`, id)
	if err != nil {
		return store.Ticket{}, nil, fmt.Errorf("ticket %d messages: %w", id, err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.TicketMessage, error) {
		var m store.TicketMessage
		if err := r.Scan(&m.ID, &m.Author, &m.StaffID, &m.StaffLogin, &m.Text, &m.ImageRef, &m.At); err != nil {
			return m, err
		}
		var err error
		if m.Text, err = s.openText(m.Text, adTicketText); err != nil {
			return m, err
		}
		m.ImageRef, err = s.openText(m.ImageRef, adTicketImage)
		return m, err
	})
	if err != nil {
		return store.Ticket{}, nil, fmt.Errorf("ticket %d messages: %w", id, err)
	}
	return t, msgs, nil
}

// ClaimTicket assigns a ticket that is not closed to a staff member. A
// ticket another staff member claimed gives store.ErrConflict unless
// takeOver; a closed or unknown one store.ErrNotFound.
func (s *Store) ClaimTicket(ctx context.Context, id, staffID int64, takeOver bool, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `
		update tickets set assignee_id = $2, claimed_at = $3
		where id = $1 and state <> 'closed' and (assignee_id is null or assignee_id = $2 or $4)`,
		id, staffID, at, takeOver)
	if err != nil {
		return fmt.Errorf("claim ticket %d: %w", id, translate(err))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var state string
	switch err := s.pool.QueryRow(ctx, `select state from tickets where id = $1`, id).Scan(&state); {
	case err != nil:
		return fmt.Errorf("claim ticket %d: %w", id, translate(err))
	case state == store.TicketClosed:
		return fmt.Errorf("claim ticket %d: closed: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("claim ticket %d: claimed by someone else: %w", id, store.ErrConflict)
}
