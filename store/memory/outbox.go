package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"regbot/store"
)

// outbox is the in-memory stand-in for the outbox tables, with the same
// rules as store/postgres (outbox.go there): claims, per-identity order,
// the queue's ownership. Its fields are guarded by Store.mu.
type outbox struct {
	nextID int64
	rows   map[int64]*outRow
	keys   map[string]int64
	// pending are each identity's pending row ids, ascending.
	pending map[string][]int64
}

type outRow struct {
	store.Delivery
	claimedBy    string
	claimedUntil time.Time
	queued       bool
	attempts     []store.DeliveryAttempt
}

func (o *outbox) init() {
	o.rows = map[int64]*outRow{}
	o.keys = map[string]int64{}
	o.pending = map[string][]int64{}
}

// insert adds one row; ok is false when its key exists.
func (s *Store) insertOutbox(m store.Outgoing, claim store.FastClaim, queued bool) (store.Delivery, bool) {
	o := &s.out
	if m.Key != "" {
		if _, ok := o.keys[m.Key]; ok {
			return store.Delivery{}, false
		}
	}
	now := s.now()
	o.nextID++
	r := &outRow{Delivery: store.Delivery{
		ID: o.nextID, CandidateID: s.rec.candidates[m.Identity.Key()], Identity: m.Identity, Kind: m.Kind, Key: m.Key,
		Payload: clone(m.Payload), State: store.DeliveryPending, NotBefore: m.NotBefore, CreatedAt: now,
	}, queued: queued}
	if r.NotBefore.IsZero() {
		r.NotBefore = now
	}
	if claim.Owner != "" && !r.NotBefore.After(now) && !s.blockedFor(m.Identity, r.ID, claim.Owner) {
		r.claimedBy, r.claimedUntil = claim.Owner, now.Add(claim.Lease)
		r.ClaimedUntil = r.claimedUntil
	}
	o.rows[r.ID] = r
	if m.Key != "" {
		o.keys[m.Key] = r.ID
	}
	k := m.Identity.Key()
	o.pending[k] = append(o.pending[k], r.ID)
	d := r.Delivery
	d.Payload = clone(d.Payload)
	return d, true
}

// blockedFor reports whether an earlier due row of id than before is
// pending, other than owner's live claims ("" counts every row).
func (s *Store) blockedFor(id store.Identity, before int64, owner string) bool {
	now := s.now()
	for _, pid := range s.out.pending[id.Key()] {
		if pid >= before {
			break
		}
		r := s.out.rows[pid]
		if r.NotBefore.After(now) {
			continue
		}
		if owner != "" && r.claimedBy == owner && r.claimedUntil.After(now) {
			continue
		}
		return true
	}
	return false
}

// InsertOutbox inserts msgs for the fast path: the rows the rules allow
// (due, and no earlier due row of the identity pending except owner's own
// live claims) are claimed for claim.Owner (ClaimedUntil set), the others
// are for the queue to take. A message whose key exists is left out.
func (s *Store) InsertOutbox(_ context.Context, msgs []store.Outgoing, claim store.FastClaim) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Delivery
	for _, m := range msgs {
		if d, ok := s.insertOutbox(m, claim, false); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// QueueOutbox inserts msgs owned by the queue from the start: the memory
// equivalent of store/postgres's InsertOutboxTx, for messages queued
// outside a turn. A message whose key exists is left out.
func (s *Store) QueueOutbox(_ context.Context, msgs []store.Outgoing) ([]store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Delivery, 0, len(msgs))
	for _, m := range msgs {
		if d, ok := s.insertOutbox(m, store.FastClaim{}, true); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// ClaimDelivery claims the outbox row id for owner for lease (see
// store/postgres.Store.ClaimDelivery).
func (s *Store) ClaimDelivery(_ context.Context, id int64, owner string, lease time.Duration) (store.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.out.rows[id]
	if !ok || r.State != store.DeliveryPending {
		return store.Claim{State: store.ClaimDone}, nil
	}
	now := s.now()
	switch {
	case r.NotBefore.After(now):
		return store.Claim{State: store.ClaimEarly, Until: r.NotBefore}, nil
	case s.blockedFor(r.Identity, id, ""):
		return store.Claim{State: store.ClaimBlocked}, nil
	case r.claimedBy != "" && r.claimedUntil.After(now):
		return store.Claim{State: store.ClaimHeld, Until: r.claimedUntil}, nil
	}
	r.claimedBy, r.claimedUntil = owner, now.Add(lease)
	d := r.Delivery
	d.Payload, d.ClaimedUntil = clone(d.Payload), r.claimedUntil
	return store.Claim{State: store.ClaimTaken, Delivery: d, Until: r.claimedUntil, Unreachable: s.rec.unreachable[r.Identity.Key()]}, nil
}

// SettleDeliveries records the outcomes of delivery attempts made by owner
// (see store/postgres.Store.SettleDeliveries).
func (s *Store) SettleDeliveries(_ context.Context, owner string, results []store.Settlement) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, res := range results {
		r, ok := s.out.rows[res.ID]
		if !ok || r.State != store.DeliveryPending || (!res.Tried && r.claimedBy != owner) {
			continue
		}
		at := res.At
		if at.IsZero() {
			at = s.now()
		}
		if res.Tried {
			r.Attempts++
			if res.Error != "" {
				r.attempts = append(r.attempts, store.DeliveryAttempt{At: at, Error: res.Error, Permanent: res.Permanent})
			}
		}
		if res.Error != "" {
			r.LastError = res.Error
		}
		r.PartsSent = max(r.PartsSent, res.PartsSent)
		if res.Unreachable {
			s.rec.unreachable[r.Identity.Key()] = true
		}
		if r.claimedBy == owner || res.State != store.DeliveryPending {
			r.claimedBy, r.claimedUntil = "", time.Time{}
		}
		if res.State != store.DeliveryPending {
			s.finish(r, res.State, at)
		}
	}
	return nil
}

// SettleDelivery records one outcome and returns the identity's next
// pending, due row after it (0: none) (see store/postgres).
func (s *Store) SettleDelivery(ctx context.Context, owner string, res store.Settlement) (int64, error) {
	if err := s.SettleDeliveries(ctx, owner, []store.Settlement{res}); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.out.rows[res.ID]
	if !ok {
		return 0, nil
	}
	now := s.now()
	for _, pid := range s.out.pending[r.Identity.Key()] {
		if pid > res.ID && !s.out.rows[pid].NotBefore.After(now) {
			return pid, nil
		}
	}
	return 0, nil
}

// finish moves r out of pending.
func (s *Store) finish(r *outRow, state store.DeliveryState, at time.Time) {
	r.State = state
	if state == store.DeliverySent {
		r.SentAt = at
	}
	k := r.Identity.Key()
	ids := s.out.pending[k]
	if i, ok := slices.BinarySearch(ids, r.ID); ok {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(s.out.pending, k)
	} else {
		s.out.pending[k] = ids
	}
}

// QueueDeliveries hands the rows ids to the queue: those still pending,
// not queued and not under another owner's live claim are marked queued
// and returned (see store/postgres.Store.QueueDeliveriesTx).
func (s *Store) QueueDeliveries(_ context.Context, owner string, ids []int64) ([]store.Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []store.Queued
	for _, id := range ids {
		r, ok := s.out.rows[id]
		if !ok || r.State != store.DeliveryPending || r.queued ||
			(r.claimedBy != "" && r.claimedBy != owner && r.claimedUntil.After(now)) {
			continue
		}
		r.queued, r.claimedBy, r.claimedUntil = true, "", time.Time{}
		out = append(out, store.Queued{ID: id, NotBefore: r.NotBefore})
	}
	return out, nil
}

// QueueOrphans hands up to limit pending rows nobody delivers (not queued,
// no live claim) to the queue, oldest first.
func (s *Store) QueueOrphans(_ context.Context, limit int) ([]store.Queued, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var ids []int64
	for _, pending := range s.out.pending {
		for _, id := range pending {
			r := s.out.rows[id]
			if !r.queued && (r.claimedBy == "" || !r.claimedUntil.After(now)) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]store.Queued, len(ids))
	for i, id := range ids {
		r := s.out.rows[id]
		r.queued, r.claimedBy, r.claimedUntil = true, "", time.Time{}
		out[i] = store.Queued{ID: id, NotBefore: r.NotBefore}
	}
	return out, nil
}

// CancelDeliveries withdraws the pending rows ids and returns how many.
func (s *Store) CancelDeliveries(_ context.Context, ids []int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if r, ok := s.out.rows[id]; ok && r.State == store.DeliveryPending {
			r.claimedBy, r.claimedUntil = "", time.Time{}
			s.finish(r, store.DeliveryCancelled, s.now())
			n++
		}
	}
	return n, nil
}

// Deliveries returns the candidate's outbox messages, newest first, at most
// limit (0: 100).
func (s *Store) Deliveries(_ context.Context, candidateID int64, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Delivery
	for id := s.out.nextID; id > 0 && len(out) < limit; id-- {
		if r, ok := s.out.rows[id]; ok && r.CandidateID == candidateID {
			d := r.Delivery
			d.Payload, d.ClaimedUntil = clone(d.Payload), time.Time{}
			out = append(out, d)
		}
	}
	return out, nil
}

// Delivery returns one outbox message, or store.ErrNotFound.
func (s *Store) Delivery(_ context.Context, id int64) (store.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.out.rows[id]
	if !ok {
		return store.Delivery{}, fmt.Errorf("delivery %d: %w", id, store.ErrNotFound)
	}
	d := r.Delivery
	d.Payload, d.ClaimedUntil = clone(d.Payload), time.Time{}
	return d, nil
}

// DeliveryAttempts returns the failed attempts of the outbox message id,
// oldest first.
func (s *Store) DeliveryAttempts(_ context.Context, id int64) ([]store.DeliveryAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.out.rows[id]
	if !ok {
		return nil, fmt.Errorf("delivery attempts %d: %w", id, store.ErrNotFound)
	}
	return slices.Clone(r.attempts), nil
}
