package memory

import (
	"context"
	"time"
)

// FirstDelivery reports whether key is seen for the first time within ttl.
func (s *Store) FirstDelivery(_ context.Context, key string, ttl time.Duration) (bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	s.seen[key] = now.Add(ttl)
	if len(s.seen) >= 1024 && len(s.seen)%1024 == 0 {
		for k, exp := range s.seen {
			if !now.Before(exp) {
				delete(s.seen, k)
			}
		}
	}
	return true, nil
}

// ForgetDelivery forgets key, so that a redelivery of a message whose turn
// failed is handled instead of dropped.
func (s *Store) ForgetDelivery(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, key)
	return nil
}
