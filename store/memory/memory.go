// Package memory is the embedded store: the turn's fast path (message ids,
// per-user turns, cached sessions), rate limits and the record of turns,
// all in the process's memory. It is what `regbot chat` and a `regbot serve` without a database run on, and it
// passes the same conformance suite (store/storetest) as PostgreSQL + Redis.
// Nothing in it survives the process.
package memory

import (
	"sync"
	"time"

	"regbot/store"
)

// Store holds everything in memory. It is safe for concurrent use; the zero
// value is not usable, call New.
type Store struct {
	now func() time.Time

	mu          sync.Mutex
	sessions    map[string]store.Cached
	msgs        map[string]msgState // identity key + "\x00" + message id
	locks       map[string]*userLock
	buckets     map[string]bucket
	userBuckets map[string]userBucket
	held        map[int64]func() // Begun.Token → unlock
	nextToken   int64

	rec record
	out outbox
	bc  broadcasts

	// pace are the send-rate buckets (TakeRate): the next send's
	// theoretical arrival time by key.
	paceMu sync.Mutex
	pace   map[string]time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for expiry and rate limits (default
// time.Now); tests use it to move time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		now:         time.Now,
		sessions:    map[string]store.Cached{},
		msgs:        map[string]msgState{},
		locks:       map[string]*userLock{},
		buckets:     map[string]bucket{},
		userBuckets: map[string]userBucket{},
		held:        map[int64]func(){},
	}
	s.rec.init()
	s.out.init()
	for _, o := range opts {
		o(s)
	}
	return s
}
