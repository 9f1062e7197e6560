package wechat

import (
	"context"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// errStopped is returned for work handed to a stopped sender.
var errStopped = errors.New("wechat: sender stopped")

// job is one batch of customer-service messages for one candidate.
type job struct {
	user  string
	parts []part
}

// sender delivers customer-service messages in the background: an
// in-process pool of workers, each with a bounded queue. A candidate's jobs
// always go to the same worker, so they arrive in order. Failed sends are
// retried with exponential back-off and jitter on transient errors.
//
// Jobs live only in memory: a crash loses what is queued. That is
// acceptable for replies (the candidate asks again), and it keeps the
// webhook independent of PostgreSQL; notifications that must survive a
// crash go through the durable River queue of notify/, which calls
// Adapter.Send from its own workers.
type sender struct {
	queues  []chan job
	deliver func(ctx context.Context, j job)
	wg      sync.WaitGroup

	mu      sync.RWMutex // held for reading while enqueuing, for writing by stop
	closed  bool
	started atomic.Bool
	// stopping cancels back-off waits: once Stop is called, queued jobs are
	// each tried once.
	stopping chan struct{}
	stopOnce sync.Once
}

func newSender(workers, queueSize int, deliver func(context.Context, job)) *sender {
	s := &sender{deliver: deliver, stopping: make(chan struct{})}
	s.queues = make([]chan job, workers)
	for i := range s.queues {
		s.queues[i] = make(chan job, queueSize)
	}
	return s
}

// start runs the workers until stop; ctx is the base of every send.
func (s *sender) start(ctx context.Context) {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, q := range s.queues {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for j := range q {
				s.deliver(ctx, j)
			}
		}()
	}
}

// enqueue queues j behind the candidate's earlier jobs. It waits while the
// queue is full, until ctx is done.
func (s *sender) enqueue(ctx context.Context, j job) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errStopped
	}
	h := fnv.New32a()
	h.Write([]byte(j.user))
	q := s.queues[h.Sum32()%uint32(len(s.queues))]
	select {
	case q <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop refuses new jobs, lets the workers finish the queued ones (without
// back-off waits) and waits for them. It is safe to call twice.
func (s *sender) stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.mu.Lock()
		s.closed = true
		for _, q := range s.queues {
			close(q)
		}
		s.mu.Unlock()
		if !s.started.Load() {
			// Never started: nobody will drain the queues.
			return
		}
		s.wg.Wait()
	})
}

// retry runs fn up to attempts times while it fails with a transient
// *APIError, waiting backoff, 2×backoff… (±25% jitter) in between; the
// waits end early when the sender stops.
func (s *sender) retry(ctx context.Context, attempts int, backoff time.Duration, fn func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		var ae *APIError
		if !errors.As(err, &ae) || !ae.transient() || i == attempts-1 {
			return err
		}
		d := backoff << i
		d += time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.stopping:
			t.Stop()
			return err
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
	return err
}
