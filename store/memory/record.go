package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"regbot/store"
)

// record is the in-memory stand-in for the PostgreSQL record. Its fields are
// guarded by Store.mu.
type record struct {
	nextID     int64
	candidates map[string]int64                 // identity key → candidate id
	apps       map[appKey]*application          // (candidate, plan) → application
	inbound    map[int64][]store.InboundMessage // candidate → messages
	msgIDs     map[string]bool                  // identity key + msg id, recorded
	tickets    map[int64][]store.Ticket         // candidate → tickets
	// unreachable are the identities the platform refuses to deliver to.
	unreachable map[string]bool
	// identities are each candidate's identities, first contact first;
	// created when each candidate was.
	identities map[int64][]store.IdentityState
	created    map[int64]time.Time
	// ticketMessages are each ticket's conversation.
	ticketMessages map[int64][]store.TicketMessage
	// staff is the console's: accounts, sessions, the audit log.
	staff staffRecord
}

type appKey struct {
	candidate int64
	plan      string
}

type application struct {
	store.Application
	answers []byte // JSON, as PostgreSQL's jsonb would hold it
	// lookup are the answers applications are found by.
	lookup    map[store.LookupKey]string
	session   []byte
	seq       int64
	createdAt time.Time
	docs      []store.DocumentRecord
	events    []store.StatusEvent
	modified  int64 // record sequence of the last change, for LatestSession
}

func (r *record) init() {
	r.candidates = map[string]int64{}
	r.apps = map[appKey]*application{}
	r.inbound = map[int64][]store.InboundMessage{}
	r.msgIDs = map[string]bool{}
	r.tickets = map[int64][]store.Ticket{}
	r.unreachable = map[string]bool{}
	r.identities = map[int64][]store.IdentityState{}
	r.created = map[int64]time.Time{}
	r.ticketMessages = map[int64][]store.TicketMessage{}
	r.staff.init()
}

func (r *record) id() int64 {
	r.nextID++
	return r.nextID
}

// RecordTurn writes what one turn changed, all or nothing, as
// store/postgres does: a message id already recorded for the identity gives
// store.ErrConflict, a stale t.Seq store.ErrStale, a change the status
// machine refuses its error. It fills in t.CandidateID, t.ApplicationID,
// t.Seq and t.Rows.
func (s *Store) RecordTurn(_ context.Context, t *store.Turn) error {
	var answers []byte
	if !t.KeepAnswers {
		var err error
		if answers, err = json.Marshal(orEmpty(t.Answers)); err != nil {
			return fmt.Errorf("record turn: answers: %w", err)
		}
	}
	if t.At.IsZero() {
		t.At = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.rec
	key := t.Identity.Key()
	if t.MsgID != "" && r.msgIDs[key+"\x00"+t.MsgID] {
		return fmt.Errorf("record turn: message %s already recorded: %w", t.MsgID, store.ErrConflict)
	}
	cand, known := r.candidates[key]
	app := r.apps[appKey{cand, t.PlanID}]
	switch {
	case t.Seq > 0 && (app == nil || app.seq != t.Seq):
		return fmt.Errorf("record turn: %w", store.ErrStale)
	case t.Fresh && app != nil:
		return fmt.Errorf("record turn: %w", store.ErrStale)
	}
	events, err := statusEvents(app, *t)
	if err != nil {
		return fmt.Errorf("record turn: %w", err)
	}
	if !known {
		cand = r.id()
		r.candidates[key] = cand
		r.created[cand] = t.At
		r.identities[cand] = append(r.identities[cand], store.IdentityState{Identity: t.Identity, CreatedAt: t.At})
	}
	if !t.System {
		delete(r.unreachable, key) // the candidate wrote: reachable again
	}
	if t.CancelReminders {
		s.cancelReminders(t.Identity, t.At)
	}
	changed := !t.KeepAnswers || !t.KeepWork || t.Session != nil || t.Status != "" ||
		len(t.Documents) > 0 || len(t.Escalations) > 0 || len(t.Outbox) > 0
	if app == nil {
		app = &application{Application: store.Application{ID: r.id(), CandidateID: cand, PlanID: t.PlanID}, createdAt: t.At, answers: []byte("{}")}
		r.apps[appKey{cand, t.PlanID}] = app
		changed = true
	}
	for _, ev := range events {
		app.events = append(app.events, ev)
		app.Status = ev.To
	}
	if changed {
		app.seq++
		app.UpdatedAt = t.At
		app.modified = r.id()
	}
	if !t.KeepAnswers {
		app.Condition = t.Condition
		app.answers = answers
		app.lookup = map[store.LookupKey]string{}
		for _, k := range []store.LookupKey{store.LookupIDNumber, store.LookupMobile} {
			if v, ok := t.Answers[string(k)].(string); ok {
				app.lookup[k] = v
			}
		}
	}
	if !t.KeepWork {
		app.WorkHistory = slices.Clone(t.WorkHistory)
	}
	if t.Session != nil {
		app.session = clone(t.Session)
	}
	for _, d := range t.Documents {
		for i := range app.docs {
			if app.docs[i].Material == d.Material && app.docs[i].SupersededAt.IsZero() {
				app.docs[i].SupersededAt = t.At
			}
		}
		d.Problems = slices.Clone(d.Problems)
		if d.At.IsZero() {
			d.At = t.At
		}
		app.docs = append(app.docs, store.DocumentRecord{Document: d, ID: r.id()})
	}
	for _, e := range t.Escalations {
		at := e.At
		if at.IsZero() {
			at = t.At
		}
		tk := store.Ticket{ID: r.id(), CandidateID: cand, Identity: t.Identity, PlanID: t.PlanID,
			Reason: e.Reason, Text: e.Text, Code: e.Code, Handover: e.Handover, State: store.TicketOpen, OpenedAt: at, StateSince: at}
		r.tickets[cand] = append(r.tickets[cand], tk)
		if e.Text != "" {
			r.ticketMessages[tk.ID] = append(r.ticketMessages[tk.ID], store.TicketMessage{ID: r.id(), Author: store.AuthorCandidate, Text: e.Text, At: at})
		}
	}
	for _, u := range t.Tickets {
		r.updateTicket(cand, u, t.At)
	}
	t.Rows = t.Rows[:0]
	for _, m := range t.Outbox {
		if d, ok := s.insertOutbox(m, t.Claim, false); ok {
			t.Rows = append(t.Rows, d)
		}
	}
	if !t.System {
		r.inbound[cand] = append(r.inbound[cand], store.InboundMessage{MsgID: t.MsgID, Text: t.Inbound, At: t.At,
			Reply: clone(t.Reply), ReplyInline: t.ReplyInline})
	}
	if t.MsgID != "" {
		r.msgIDs[key+"\x00"+t.MsgID] = true
	}
	t.CandidateID, t.ApplicationID, t.Seq = cand, app.ID, app.seq
	return nil
}

// statusEvents returns the status events turn t makes on app (nil: a new
// application): its creation at the initial status, then the turn's change
// if the status machine allows it.
func statusEvents(app *application, t store.Turn) ([]store.StatusEvent, error) {
	var events []store.StatusEvent
	cur := store.Status("")
	if app != nil {
		cur = app.Status
	} else {
		if t.Status != "" && t.Status != store.InitialStatus {
			return nil, store.CheckTransition("", t.Status, t.StatusReason)
		}
		events = append(events, store.StatusEvent{To: store.InitialStatus, Actor: store.ActorSystem, At: t.At})
		cur = store.InitialStatus
	}
	if t.Status == "" || t.Status == cur {
		return events, nil
	}
	if err := store.CheckTransition(cur, t.Status, t.StatusReason); err != nil {
		return nil, err
	}
	actor := cmp.Or(t.StatusActor, store.ActorSystem)
	return append(events, store.StatusEvent{From: cur, To: t.Status, Actor: actor, Reason: t.StatusReason, At: t.At}), nil
}

// Serial runs fn holding id's turn (as store/postgres does with an advisory
// lock, for turns without the fast path).
func (s *Store) Serial(ctx context.Context, id store.Identity, fn func(ctx context.Context) error) error {
	unlock, err := s.LockUser(ctx, id)
	if err != nil {
		return fmt.Errorf("serial: %w", err)
	}
	defer unlock()
	return fn(ctx)
}

// Resume returns what the record holds to go on with id's conversation on
// plan: the session snapshot (nil when none was recorded), the
// application's seq and the ids; store.ErrNotFound when id has no
// application to plan.
func (s *Store) Resume(_ context.Context, id store.Identity, planID string) (store.Cached, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.rec.app(id, planID)
	if err != nil {
		return store.Cached{}, fmt.Errorf("resume: %w", err)
	}
	return store.Cached{Data: clone(app.session), Seq: app.seq, CandidateID: app.CandidateID, ApplicationID: app.ID}, nil
}

// Reply returns what the bot answered the recorded message msgID of id and
// how many of its messages left inline, or store.ErrNotFound.
func (s *Store) Reply(_ context.Context, id store.Identity, msgID string) ([]byte, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cand, ok := s.rec.candidates[id.Key()]; ok {
		for _, m := range s.rec.inbound[cand] {
			if m.MsgID == msgID {
				return clone(m.Reply), m.ReplyInline, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("reply: %w", store.ErrNotFound)
}

// LatestSession returns the session snapshot of the identity's most recently
// changed application, or store.ErrNotFound.
func (s *Store) LatestSession(_ context.Context, id store.Identity) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var latest *application
	if cand, ok := s.rec.candidates[id.Key()]; ok {
		for k, app := range s.rec.apps {
			if k.candidate == cand && app.session != nil && (latest == nil || app.modified > latest.modified) {
				latest = app
			}
		}
	}
	if latest == nil {
		return nil, fmt.Errorf("latest session: %w", store.ErrNotFound)
	}
	return clone(latest.session), nil
}

// store.Application returns the identity's application to plan, or
// store.ErrNotFound.
func (s *Store) Application(_ context.Context, id store.Identity, planID string) (store.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.rec.app(id, planID)
	if err != nil {
		return store.Application{}, err
	}
	out := app.Application
	if err := json.Unmarshal(app.answers, &out.Answers); err != nil {
		return store.Application{}, fmt.Errorf("application: answers: %w", err)
	}
	out.WorkHistory = slices.Clone(app.WorkHistory)
	return out, nil
}

// Documents returns every document recorded for the identity's application
// to plan, oldest first, superseded ones included.
func (s *Store) Documents(_ context.Context, id store.Identity, planID string) ([]store.DocumentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.rec.app(id, planID)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(app.docs)
	for i := range out {
		out[i].Problems = slices.Clone(out[i].Problems)
	}
	return out, nil
}

// StatusEvents returns the status history of the identity's application to
// plan, oldest first.
func (s *Store) StatusEvents(_ context.Context, id store.Identity, planID string) ([]store.StatusEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.rec.app(id, planID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(app.events), nil
}

// Tickets returns the escalation tickets of the identity's candidate, oldest
// first.
func (s *Store) Tickets(_ context.Context, id store.Identity) ([]store.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cand, ok := s.rec.candidates[id.Key()]
	if !ok {
		return nil, fmt.Errorf("tickets: %w", store.ErrNotFound)
	}
	return slices.Clone(s.rec.tickets[cand]), nil
}

// InboundMessages returns every message the identity's candidate sent, in
// the order recorded.
func (s *Store) InboundMessages(_ context.Context, id store.Identity) ([]store.InboundMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cand, ok := s.rec.candidates[id.Key()]
	if !ok {
		return nil, fmt.Errorf("inbound messages: %w", store.ErrNotFound)
	}
	return slices.Clone(s.rec.inbound[cand]), nil
}

// updateTicket adds the update's message to the candidate's latest ticket
// with its code that is not closed, and moves its state, as the PostgreSQL
// record does.
func (r *record) updateTicket(cand int64, u store.TicketUpdate, at time.Time) {
	list := r.tickets[cand]
	for i := len(list) - 1; i >= 0; i-- {
		tk := &list[i]
		if tk.Code != u.Code || tk.State == store.TicketClosed {
			continue
		}
		if u.Text != "" || u.ImageRef != "" {
			r.ticketMessages[tk.ID] = append(r.ticketMessages[tk.ID], store.TicketMessage{
				ID: r.id(), Author: u.Author, StaffID: u.StaffID, Text: u.Text, ImageRef: u.ImageRef, At: at})
		}
		state := tk.State
		switch {
		case u.Close:
			state = store.TicketClosed
			tk.ClosedAt, tk.ClosedBy = at, u.ClosedBy
		case u.Author == store.AuthorCandidate:
			state = store.TicketOpen
		case u.Author == store.AuthorStaff:
			state = store.TicketAnswered
		}
		if state != tk.State {
			tk.State, tk.StateSince = state, at
		}
		return
	}
}

func (r *record) app(id store.Identity, planID string) (*application, error) {
	cand, ok := r.candidates[id.Key()]
	if !ok {
		return nil, fmt.Errorf("application: %w", store.ErrNotFound)
	}
	app := r.apps[appKey{cand, planID}]
	if app == nil {
		return nil, fmt.Errorf("application: %w", store.ErrNotFound)
	}
	return app, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// MarkUnreachable records that the platform refuses to deliver to id (the
// user blocked the bot). The next turn of id clears it.
func (s *Store) MarkUnreachable(_ context.Context, id store.Identity) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.unreachable[id.Key()] = true
	return nil
}

// Unreachable reports whether id is marked unreachable.
func (s *Store) Unreachable(_ context.Context, id store.Identity) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rec.candidates[id.Key()]; !ok {
		return false, fmt.Errorf("unreachable: %w", store.ErrNotFound)
	}
	return s.rec.unreachable[id.Key()], nil
}

// FindApplications returns the applications to plan whose answer key is
// value, most recently changed first, or store.ErrNotFound.
func (s *Store) FindApplications(_ context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*application
	for k, app := range s.rec.apps {
		if k.plan != planID {
			continue
		}
		if v, ok := app.lookup[key]; ok && v == value {
			found = append(found, app)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("find applications: %w", store.ErrNotFound)
	}
	slices.SortFunc(found, func(a, b *application) int { return int(b.modified - a.modified) })
	refs := make([]store.ApplicationRef, len(found))
	for i, app := range found {
		for idKey, cand := range s.rec.candidates {
			if cand == app.CandidateID {
				channel, user, _ := strings.Cut(idKey, ":")
				refs[i].Identity = store.Identity{Channel: channel, UserID: user}
			}
		}
		refs[i].CandidateID, refs[i].PlanID, refs[i].Status, refs[i].UpdatedAt = app.CandidateID, planID, app.Status, app.UpdatedAt
	}
	return refs, nil
}
