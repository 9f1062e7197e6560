package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"regbot/store"
)

// broadcasts is the in-memory stand-in for the broadcast tables, with the
// same rules as store/postgres (broadcasts.go there). Its fields are
// guarded by Store.mu.
type broadcasts struct {
	nextID     int64
	list       map[int64]*store.Broadcast
	recipients map[int64][]*recipient // by broadcast, by candidate id
	segments   map[string]store.Segment
	nextSeg    int64
}

// recipient is one recipient of a broadcast and its outbox row (0: not
// handed over yet).
type recipient struct {
	store.Recipient
	outboxID int64
}

func (b *broadcasts) init() {
	if b.list == nil {
		b.list = map[int64]*store.Broadcast{}
		b.recipients = map[int64][]*recipient{}
		b.segments = map[string]store.Segment{}
	}
}

// broadcastKey is the outbox key of a recipient's message (as
// store/postgres.BroadcastKey).
func broadcastKey(id, candidate int64) string {
	return "broadcast:" + strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(candidate, 10)
}

// Audience returns every application of plan planID with what broadcast
// filters and placeholders read, as store/postgres does.
func (s *Store) Audience(_ context.Context, planID, nameKey string) ([]store.AudienceMember, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &s.rec
	var out []store.AudienceMember
	for _, app := range r.apps {
		ids := r.identities[app.CandidateID]
		if app.PlanID != planID || len(ids) == 0 {
			continue
		}
		id := ids[len(ids)-1].Identity // the most recently created
		answers := answersOf(app)
		name, _ := answers[nameKey].(string)
		paymentURL, _ := store.SessionPaymentURL(app.session)
		m := store.AudienceMember{CandidateID: app.CandidateID, PlanID: app.PlanID, Status: app.Status, Condition: app.Condition,
			Identity: id, Unreachable: r.unreachable[id.Key()], Name: name, PaymentURL: paymentURL,
			CreatedAt: app.createdAt, UpdatedAt: app.UpdatedAt, StatusSince: app.createdAt}
		for _, t := range r.tickets[app.CandidateID] {
			if t.State != store.TicketClosed {
				m.OpenTicket = true
			}
		}
		for _, e := range app.events {
			if e.To == app.Status && e.At.After(m.StatusSince) {
				m.StatusSince = e.At
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b store.AudienceMember) int { return cmp.Compare(a.CandidateID, b.CandidateID) })
	return out, nil
}

// CreateBroadcast records a new broadcast and returns it with its id.
func (s *Store) CreateBroadcast(_ context.Context, b store.Broadcast) (store.Broadcast, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	s.bc.nextID++
	b.ID, b.CreatedAt = s.bc.nextID, s.now()
	s.bc.list[b.ID] = &b
	return b, nil
}

// Broadcast returns one broadcast, or store.ErrNotFound.
func (s *Store) Broadcast(_ context.Context, id int64) (store.Broadcast, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	b, ok := s.bc.list[id]
	if !ok {
		return store.Broadcast{}, fmt.Errorf("broadcast %d: %w", id, store.ErrNotFound)
	}
	return *b, nil
}

// Broadcasts returns the latest broadcasts, newest first, at most limit.
func (s *Store) Broadcasts(_ context.Context, limit int) ([]store.Broadcast, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	var out []store.Broadcast
	for _, b := range s.bc.list {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b store.Broadcast) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(limit, len(out))], nil
}

// ActiveBroadcasts returns the broadcasts being sent and the scheduled ones
// due at now, oldest first.
func (s *Store) ActiveBroadcasts(_ context.Context, now time.Time) ([]store.Broadcast, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	var out []store.Broadcast
	for _, b := range s.bc.list {
		if b.State == store.BroadcastSending || (b.State == store.BroadcastScheduled && !b.SendAt.After(now)) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b store.Broadcast) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// moved is broadcast id's error when it is not in one of from (s.mu held).
func (s *Store) moved(id int64, from []store.BroadcastState) (*store.Broadcast, error) {
	b, ok := s.bc.list[id]
	if !ok {
		return nil, fmt.Errorf("broadcast %d: %w", id, store.ErrNotFound)
	}
	if !slices.Contains(from, b.State) {
		return nil, fmt.Errorf("broadcast %d is %s: %w", id, b.State, store.ErrConflict)
	}
	return b, nil
}

// SetBroadcastState moves broadcast id to to, if it is in one of from.
func (s *Store) SetBroadcastState(_ context.Context, id int64, from []store.BroadcastState, to store.BroadcastState, note string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	b, err := s.moved(id, from)
	if err != nil {
		return err
	}
	b.State = to
	if to == store.BroadcastDone || to == store.BroadcastCancelled {
		b.FinishedAt = s.now()
	}
	if note != "" {
		b.Note = note
	}
	return nil
}

// ScheduleBroadcast sets a draft's (or a scheduled broadcast's) start time.
func (s *Store) ScheduleBroadcast(_ context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	b, err := s.moved(id, []store.BroadcastState{store.BroadcastDraft, store.BroadcastScheduled})
	if err != nil {
		return err
	}
	b.State, b.SendAt = store.BroadcastScheduled, at
	return nil
}

// StartBroadcast fixes the recipients of broadcast id and sets it sending
// (done with note when there are none), if it is in one of from.
func (s *Store) StartBroadcast(_ context.Context, id int64, from []store.BroadcastState, recipients []store.Recipient, note string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	b, err := s.moved(id, from)
	if err != nil {
		return err
	}
	now := s.now()
	b.State, b.StartedAt, b.Recipients, b.Note = store.BroadcastSending, now, len(recipients), note
	if len(recipients) == 0 {
		b.State, b.FinishedAt = store.BroadcastDone, now
	}
	list := make([]*recipient, len(recipients))
	for i, r := range recipients {
		r.Payload = clone(r.Payload)
		list[i] = &recipient{Recipient: r}
	}
	slices.SortFunc(list, func(a, b *recipient) int { return cmp.Compare(a.CandidateID, b.CandidateID) })
	s.bc.recipients[id] = list
	return nil
}

// waiting reports whether r is not handed over and not skipped.
func (r *recipient) waiting() bool { return r.outboxID == 0 && r.Skipped == "" }

// WaitingChannels returns the channels on which broadcast id still has
// recipients not handed to the outbox.
func (s *Store) WaitingChannels(_ context.Context, id int64) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	var out []string
	for _, r := range s.bc.recipients[id] {
		if r.waiting() && !slices.Contains(out, r.Identity.Channel) {
			out = append(out, r.Identity.Channel)
		}
	}
	return out, nil
}

// MaterializeRecipients hands up to n waiting recipients of broadcast id
// on channel to the outbox, as store/postgres does.
func (s *Store) MaterializeRecipients(_ context.Context, id int64, channel string, n int, claim store.FastClaim) ([]store.Delivery, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	var (
		out    []store.Delivery
		picked int
	)
	for _, r := range s.bc.recipients[id] {
		if picked == n {
			break
		}
		if !r.waiting() || r.Identity.Channel != channel {
			continue
		}
		picked++
		if s.rec.unreachable[r.Identity.Key()] {
			r.Skipped = "unreachable"
			continue
		}
		key := broadcastKey(id, r.CandidateID)
		d, ok := s.insertOutbox(store.Outgoing{Identity: r.Identity, Kind: store.OutBroadcast, Payload: r.Payload, Key: key}, claim, false)
		if !ok {
			r.outboxID = s.out.keys[key]
			continue
		}
		r.outboxID = d.ID
		out = append(out, d)
	}
	return out, picked, nil
}

// PendingBroadcastRows returns the outbox rows of broadcast id not yet
// delivered and under no live claim.
func (s *Store) PendingBroadcastRows(_ context.Context, id int64) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	now := s.now()
	var out []int64
	for _, r := range s.bc.recipients[id] {
		if row, ok := s.out.rows[r.outboxID]; ok && row.State == store.DeliveryPending && !row.claimedUntil.After(now) {
			out = append(out, row.ID)
		}
	}
	return out, nil
}

// FinishBroadcast sets broadcast id done when it is sending, every
// recipient is handed over (or skipped) and none of their rows is pending.
func (s *Store) FinishBroadcast(_ context.Context, id int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	b, ok := s.bc.list[id]
	if !ok || b.State != store.BroadcastSending {
		return false, nil
	}
	for _, r := range s.bc.recipients[id] {
		if r.waiting() {
			return false, nil
		}
		if row, ok := s.out.rows[r.outboxID]; ok && row.State == store.DeliveryPending {
			return false, nil
		}
	}
	b.State, b.FinishedAt = store.BroadcastDone, s.now()
	return true, nil
}

// reason classes a recipient's failure or skip as store/postgres does.
func reason(r *recipient, row *outRow) string {
	switch {
	case r.Skipped != "":
		return r.Skipped
	case row == nil:
		return ""
	case strings.Contains(row.LastError, "recipient unreachable"):
		return "unreachable"
	case strings.Contains(row.LastError, "outside the platform's reply window"):
		return "window_closed"
	case strings.HasPrefix(row.LastError, "gave up after"):
		return "gave_up"
	case strings.Contains(row.LastError, "permanent send failure"):
		return "permanent"
	case row.State == store.DeliveryFailed:
		return "failed"
	}
	return ""
}

// stateOf is a recipient's state: skipped, waiting, or its row's.
func stateOf(r *recipient, row *outRow) string {
	switch {
	case r.Skipped != "":
		return string(store.DeliverySkipped)
	case row == nil:
		return "waiting"
	}
	return string(row.State)
}

// BroadcastProgress counts broadcast id's recipients by state.
func (s *Store) BroadcastProgress(_ context.Context, id int64, window time.Duration) (store.BroadcastProgress, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	p := store.BroadcastProgress{Reasons: map[string]int{}, RecentWindow: window}
	since := s.now().Add(-window)
	for _, r := range s.bc.recipients[id] {
		row := s.out.rows[r.outboxID]
		p.Total++
		state := stateOf(r, row)
		switch store.DeliveryState(state) {
		case "waiting":
			p.Waiting++
		case store.DeliveryPending:
			p.Sending++
		case store.DeliverySent:
			p.Sent++
		case store.DeliveryFailed:
			p.Failed++
		case store.DeliverySkipped:
			p.Skipped++
		case store.DeliveryCancelled:
			p.Cancelled++
		}
		if why := reason(r, row); why != "" && (state == string(store.DeliveryFailed) || state == string(store.DeliverySkipped)) {
			p.Reasons[why]++
		}
		if row != nil && !row.SentAt.IsZero() {
			if row.SentAt.After(since) {
				p.RecentSent++
			}
			if row.SentAt.After(p.LastSentAt) {
				p.LastSentAt = row.SentAt
			}
		}
	}
	return p, nil
}

// BroadcastReport calls fn for each recipient of broadcast id, by
// candidate id.
func (s *Store) BroadcastReport(_ context.Context, id int64, nameKey string, fn func(store.RecipientReport) error) error {
	s.mu.Lock()
	b, ok := s.bc.list[id]
	var lines []store.RecipientReport
	if ok {
		for _, r := range s.bc.recipients[id] {
			row := s.out.rows[r.outboxID]
			line := store.RecipientReport{CandidateID: r.CandidateID, Identity: r.Identity, State: stateOf(r, row), Reason: reason(r, row)}
			if app, ok := s.rec.apps[appKey{r.CandidateID, b.PlanID}]; ok {
				line.Name, _ = answersOf(app)[nameKey].(string)
			}
			if row != nil {
				line.Attempts, line.Error, line.SentAt, line.OutboxID = row.Attempts, row.LastError, row.SentAt, row.ID
			}
			lines = append(lines, line)
		}
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("broadcast %d: %w", id, store.ErrNotFound)
	}
	for _, l := range lines {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// SaveSegment creates the segment name or replaces its filter.
func (s *Store) SaveSegment(_ context.Context, seg store.Segment) (store.Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	now := s.now()
	if old, ok := s.bc.segments[seg.Name]; ok {
		old.Filter, old.UpdatedAt = seg.Filter, now
		s.bc.segments[seg.Name] = old
		return old, nil
	}
	s.bc.nextSeg++
	seg.ID, seg.CreatedAt, seg.UpdatedAt = s.bc.nextSeg, now, now
	s.bc.segments[seg.Name] = seg
	return seg, nil
}

// Segments returns the saved segments by name.
func (s *Store) Segments(_ context.Context) ([]store.Segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	var out []store.Segment
	for _, g := range s.bc.segments {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b store.Segment) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteSegment deletes the segment name (store.ErrNotFound if none).
func (s *Store) DeleteSegment(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bc.init()
	if _, ok := s.bc.segments[name]; !ok {
		return fmt.Errorf("segment %q: %w", name, store.ErrNotFound)
	}
	delete(s.bc.segments, name)
	return nil
}
