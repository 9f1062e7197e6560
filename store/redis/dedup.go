package redis

import (
	"context"
	"fmt"
	"time"
)

// FirstDelivery reports whether key is seen for the first time within ttl
// (SET NX PX: of concurrent deliveries exactly one is first).
func (s *Store) FirstDelivery(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	first, err := s.rdb.SetNX(ctx, s.dedupKey(key), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("dedup: %w", translate(err))
	}
	return first, nil
}

// ForgetDelivery forgets key, so that a redelivery of a message whose turn
// failed is handled instead of dropped.
func (s *Store) ForgetDelivery(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.dedupKey(key)).Err(); err != nil {
		return fmt.Errorf("dedup forget: %w", translate(err))
	}
	return nil
}
