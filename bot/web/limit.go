package web

import (
	"context"
	"math"
	"sync"
	"time"
)

// RateLimiter takes tokens from named token buckets that refill at rate
// tokens per second up to burst. store/memory and store/redis satisfy it;
// the Redis one shares the limit between instances.
type RateLimiter interface {
	Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error)
}

// limiter is the default RateLimiter: token buckets in process. Buckets
// that have refilled completely are dropped, so the map only holds clients
// seen within about one refill period.
type limiter struct {
	perSecond float64
	burst     float64
	now       func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[string]*bucket{}, lastSweep: now()}
}

// Allow implements RateLimiter. Every caller of one limiter passes the same
// rate and burst.
func (l *limiter) Allow(_ context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perSecond, l.burst = rate, float64(burst)
	if now.Sub(l.lastSweep) > l.fullAfter() {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0, nil
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.perSecond * float64(time.Second)))
	return false, wait, nil
}

// fullAfter is how long an empty bucket takes to refill.
func (l *limiter) fullAfter() time.Duration {
	return time.Duration(l.burst / l.perSecond * float64(time.Second))
}

// sweep drops the buckets that are full by now: they behave as new ones.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.perSecond >= l.burst {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// size is the number of buckets held (tests).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
