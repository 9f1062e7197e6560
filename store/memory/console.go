package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"regbot/store"
)

// The record as the staff console reads it, as store/postgres answers it.

// answersOf decodes an application's answers.
func answersOf(app *application) map[string]any {
	var a map[string]any
	if err := json.Unmarshal(app.answers, &a); err != nil || a == nil {
		return map[string]any{}
	}
	return a
}

// waiting counts the candidate's tickets waiting for staff.
func (r *record) waiting(cand int64) int {
	n := 0
	for _, t := range r.tickets[cand] {
		if t.State == store.TicketOpen {
			n++
		}
	}
	return n
}

// CandidateList returns one page of the applications f selects, most
// recently changed first, and how many f selects in all.
func (s *Store) CandidateList(_ context.Context, f store.CandidateFilter) ([]store.CandidateRow, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.rec
	var keep map[int64]bool
	if f.Candidates != nil {
		keep = map[int64]bool{}
		for _, id := range f.Candidates {
			keep[id] = true
		}
	}
	var rows []store.CandidateRow
	for _, app := range r.apps {
		answers := answersOf(app)
		switch {
		case f.PlanID != "" && app.PlanID != f.PlanID,
			f.Status != "" && app.Status != f.Status,
			f.Condition == "-" && app.Condition != "",
			f.Condition != "" && f.Condition != "-" && app.Condition != f.Condition,
			f.Waiting && r.waiting(app.CandidateID) == 0,
			!f.UpdatedSince.IsZero() && app.UpdatedAt.Before(f.UpdatedSince),
			keep != nil && !keep[app.CandidateID]:
			continue
		}
		ids := r.identities[app.CandidateID]
		if f.Channel != "" && !slices.ContainsFunc(ids, func(id store.IdentityState) bool { return id.Channel == f.Channel }) {
			continue
		}
		if f.Text != "" && !slices.ContainsFunc(f.TextKeys, func(k string) bool {
			v, _ := answers[k].(string)
			return strings.Contains(strings.ToLower(v), strings.ToLower(f.Text))
		}) {
			continue
		}
		row := store.CandidateRow{CandidateID: app.CandidateID, ApplicationID: app.ID, PlanID: app.PlanID, Condition: app.Condition,
			Status: app.Status, Answers: answers, Waiting: r.waiting(app.CandidateID), CreatedAt: app.createdAt, UpdatedAt: app.UpdatedAt}
		for _, id := range ids {
			row.Identities = append(row.Identities, id.Identity)
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b store.CandidateRow) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return int(b.ApplicationID - a.ApplicationID)
	})
	total := len(rows)
	rows = rows[min(f.Offset, total):]
	if f.Limit > 0 && len(rows) > f.Limit {
		rows = rows[:f.Limit]
	}
	return rows, total, nil
}

// CandidateRecord returns what the record holds about the candidate's
// application to plan, or store.ErrNotFound.
func (s *Store) CandidateRecord(_ context.Context, candidateID int64, planID string) (store.CandidateRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.rec
	app := r.apps[appKey{candidateID, planID}]
	if app == nil {
		return store.CandidateRecord{}, fmt.Errorf("candidate %d: %w", candidateID, store.ErrNotFound)
	}
	rec := store.CandidateRecord{CandidateID: candidateID, Application: app.Application, CreatedAt: r.created[candidateID],
		Session: clone(app.session), Documents: slices.Clone(app.docs), Events: slices.Clone(app.events),
		Tickets: slices.Clone(r.tickets[candidateID]), Inbound: slices.Clone(r.inbound[candidateID])}
	rec.Application.Answers = answersOf(app)
	rec.Application.WorkHistory = slices.Clone(app.WorkHistory)
	for _, id := range r.identities[candidateID] {
		id.Unreachable = r.unreachable[id.Key()]
		rec.Identities = append(rec.Identities, id)
	}
	return rec, nil
}

// Dashboard returns the figures of plan's dashboard.
func (s *Store) Dashboard(_ context.Context, planID string, days int, loc *time.Location, now time.Time) (store.Dashboard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := store.Dashboard{ByStatus: map[store.Status]int{}, ByCondition: map[string]int{}, Reached: map[store.Status]int{}}
	local := now.In(loc)
	first := time.Date(local.Year(), local.Month(), local.Day()-days+1, 0, 0, 0, 0, loc)
	perDay := map[string]int{}
	for k, app := range s.rec.apps {
		if k.plan != planID {
			continue
		}
		d.Applications++
		d.ByStatus[app.Status]++
		d.ByCondition[app.Condition]++
		reached := map[store.Status]bool{}
		for _, e := range app.events {
			reached[e.To] = true
		}
		for st := range reached {
			d.Reached[st]++
		}
		if !app.createdAt.Before(first) {
			perDay[app.createdAt.In(loc).Format(time.DateOnly)]++
		}
	}
	for _, list := range s.rec.tickets {
		for _, t := range list {
			if t.State == store.TicketOpen && t.PlanID == planID {
				d.TicketsWaiting++
				if d.OldestWaiting.IsZero() || t.StateSince.Before(d.OldestWaiting) {
					d.OldestWaiting = t.StateSince
				}
			}
		}
	}
	for i := range max(days, 0) {
		at := first.AddDate(0, 0, i)
		d.PerDay = append(d.PerDay, store.DayCount{Day: at, N: perDay[at.Format(time.DateOnly)]})
	}
	return d, nil
}

// ticketView fills a ticket's derived fields (name, assignee).
func (s *Store) ticketView(t store.Ticket, nameKey string) store.Ticket {
	if app := s.rec.apps[appKey{t.CandidateID, t.PlanID}]; app != nil && nameKey != "" {
		t.Name, _ = answersOf(app)[nameKey].(string)
	}
	if u, ok := s.rec.staff.users[t.AssigneeID]; ok {
		t.AssigneeLogin = u.Login
	}
	return t
}

// TicketInbox returns the tickets f selects, those waiting longest first.
func (s *Store) TicketInbox(_ context.Context, f store.TicketFilter, nameKey string) ([]store.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := f.States
	if len(states) == 0 {
		states = []string{store.TicketOpen, store.TicketAnswered}
	}
	var out []store.Ticket
	for _, list := range s.rec.tickets {
		for _, t := range list {
			if slices.Contains(states, t.State) && (f.PlanID == "" || t.PlanID == f.PlanID) {
				out = append(out, s.ticketView(t, nameKey))
			}
		}
	}
	rank := map[string]int{store.TicketOpen: 0, store.TicketAnswered: 1, store.TicketClosed: 2}
	slices.SortFunc(out, func(a, b store.Ticket) int {
		if c := rank[a.State] - rank[b.State]; c != 0 {
			return c
		}
		if c := a.StateSince.Compare(b.StateSince); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	if f.Limit <= 0 {
		f.Limit = 200
	}
	return out[:min(len(out), f.Limit)], nil
}

// findTicket returns a pointer to the ticket id, or nil.
func (s *Store) findTicket(id int64) *store.Ticket {
	for cand, list := range s.rec.tickets {
		for i := range list {
			if list[i].ID == id {
				return &s.rec.tickets[cand][i]
			}
		}
	}
	return nil
}

// Ticket returns one ticket and its messages, or store.ErrNotFound.
func (s *Store) Ticket(_ context.Context, id int64, nameKey string) (store.Ticket, []store.TicketMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.findTicket(id)
	if t == nil {
		return store.Ticket{}, nil, fmt.Errorf("ticket %d: %w", id, store.ErrNotFound)
	}
	msgs := slices.Clone(s.rec.ticketMessages[id])
	for i := range msgs {
		if u, ok := s.rec.staff.users[msgs[i].StaffID]; ok {
			msgs[i].StaffLogin = u.Login
		}
	}
	return s.ticketView(*t, nameKey), msgs, nil
}

// ClaimTicket assigns a ticket that is not closed to a staff member (see
// the PostgreSQL store for the errors).
func (s *Store) ClaimTicket(_ context.Context, id, staffID int64, takeOver bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.findTicket(id)
	switch {
	case t == nil:
		return fmt.Errorf("claim ticket %d: %w", id, store.ErrNotFound)
	case t.State == store.TicketClosed:
		return fmt.Errorf("claim ticket %d: closed: %w", id, store.ErrNotFound)
	case t.AssigneeID != 0 && t.AssigneeID != staffID && !takeOver:
		return fmt.Errorf("claim ticket %d: claimed by someone else: %w", id, store.ErrConflict)
	}
	t.AssigneeID, t.ClaimedAt = staffID, at
	return nil
}

// document returns a pointer to the candidate's document, or nil.
func (s *Store) document(candidateID, documentID int64) *store.DocumentRecord {
	for k, app := range s.rec.apps {
		if k.candidate != candidateID {
			continue
		}
		for i := range app.docs {
			if app.docs[i].ID == documentID {
				return &app.docs[i]
			}
		}
	}
	return nil
}

// CandidateDocument returns one document of a candidate's applications, or
// store.ErrNotFound.
func (s *Store) CandidateDocument(_ context.Context, candidateID, documentID int64) (store.DocumentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.document(candidateID, documentID)
	if d == nil {
		return store.DocumentRecord{}, fmt.Errorf("document %d: %w", documentID, store.ErrNotFound)
	}
	out := *d
	out.Problems = slices.Clone(d.Problems)
	return out, nil
}

// ReviewDocument records staff's verdict on a document of the candidate.
func (s *Store) ReviewDocument(_ context.Context, candidateID int64, rv store.DocumentReview) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.document(candidateID, rv.DocumentID)
	if d == nil {
		return fmt.Errorf("review document: %w", store.ErrNotFound)
	}
	d.Review, d.ReviewReason, d.ReviewedBy, d.ReviewedAt = rv.Verdict, rv.Reason, rv.StaffID, rv.At
	return nil
}
