package web

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per client key, in process. Each
// bucket holds up to burst tokens and refills at perSecond. Buckets that
// have refilled completely are dropped, so the map only holds clients seen
// within about one refill period.
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

// newLimiter allows perMinute requests a minute per key, in bursts of up to
// perMinute.
func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{
		perSecond: float64(perMinute) / 60,
		burst:     float64(perMinute),
		now:       now,
		buckets:   map[string]*bucket{},
		lastSweep: now(),
	}
}

// allow takes a token from key's bucket. When it is empty, allow reports
// false and how long until the next token.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
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
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.perSecond * float64(time.Second)))
	return false, wait
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
