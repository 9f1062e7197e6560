package memory

import (
	"time"

	"regbot/store"
)

// cancelReminders cancels the identity's pending reminders
// (store.Turn.CancelReminders); the caller holds s.mu.
func (s *Store) cancelReminders(id store.Identity, at time.Time) {
	for _, rowID := range append([]int64(nil), s.out.pending[id.Key()]...) {
		if r := s.out.rows[rowID]; r != nil && r.Kind == store.OutReminder && r.State == store.DeliveryPending {
			r.claimedBy, r.claimedUntil = "", time.Time{}
			s.finish(r, store.DeliveryCancelled, at)
		}
	}
}
