package memory

import (
	"context"
	"fmt"
	"math"
	"time"
)

type bucket struct {
	tokens float64
	at     time.Time
}

// Allow takes one token from the bucket named key, which refills at rate
// tokens per second up to burst. It reports whether a token was taken and,
// if not, how long until one is available.
func (s *Store) Allow(_ context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	if rate <= 0 || burst < 1 {
		return false, 0, fmt.Errorf("rate limit %s: rate %v and burst %d must be positive", key, rate, burst)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[key]
	if !ok {
		b = bucket{tokens: float64(burst), at: now}
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+elapsed*rate)
	}
	b.at = now
	allowed := b.tokens >= 1
	var wait time.Duration
	if allowed {
		b.tokens--
	} else {
		wait = time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
	}
	s.buckets[key] = b
	if len(s.buckets)%1024 == 0 {
		for k, old := range s.buckets {
			// A bucket that has refilled completely is the same as none.
			if now.Sub(old.at).Seconds()*rate >= float64(burst) {
				delete(s.buckets, k)
			}
		}
	}
	return allowed, wait, nil
}
