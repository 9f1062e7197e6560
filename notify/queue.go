package notify

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

// Queue is the durable side of delivery, which runs every attempt the fast
// path does not make: NewRiverQueue on PostgreSQL, NewMemoryQueue on the
// embedded store. Both run the same delivery code (Notifier.work).
type Queue interface {
	// bind gives the queue its Notifier (New calls it; no I/O).
	bind(n *Notifier)
	// start runs the queue's workers and its sweep until stop.
	start(ctx context.Context) error
	stop()
	// add inserts msgs owned by the queue from the start, with their jobs,
	// in tx (nil: a transaction of its own).
	add(ctx context.Context, tx pgx.Tx, msgs []store.Outgoing) ([]store.Delivery, error)
	// handOver gives rows owner held (or nobody held) to the queue.
	handOver(ctx context.Context, owner string, rows []handOver) error
	// cancel withdraws pending rows.
	cancel(ctx context.Context, ids []int64) (int, error)
}

// sweepBatch is how many orphaned rows one sweep statement hands over.
const sweepBatch = 500

// MemoryRecord is the memory store's outbox (store/memory.Store).
type MemoryRecord interface {
	Record
	QueueOutbox(ctx context.Context, msgs []store.Outgoing) ([]store.Delivery, error)
	QueueDeliveries(ctx context.Context, owner string, ids []int64) ([]store.Queued, error)
	QueueOrphans(ctx context.Context, limit int) ([]store.Queued, error)
	CancelDeliveries(ctx context.Context, ids []int64) (int, error)
}

// memoryQueue is the in-process queue of the embedded store: a timer heap
// of jobs and a pool of workers, with River's semantics (attempts counted
// on failures, not on waits; back-off between attempts).
type memoryQueue struct {
	rec MemoryRecord
	n   *Notifier

	mu      sync.Mutex
	jobs    jobHeap
	wake    chan struct{}
	run     chan memJob
	quit    chan struct{}
	wg      sync.WaitGroup
	stopped bool
	ctx     context.Context
	cancelF context.CancelFunc
}

// memJob is one queued delivery of the memory queue.
type memJob struct {
	id      int64
	at      time.Time
	attempt int
}

// NewMemoryQueue returns the in-process queue over the memory store's
// outbox. Nothing in it survives the process, like the store itself.
func NewMemoryQueue(rec MemoryRecord) Queue {
	return &memoryQueue{rec: rec, wake: make(chan struct{}, 1), run: make(chan memJob), quit: make(chan struct{})}
}

func (q *memoryQueue) bind(n *Notifier) { q.n = n }

func (q *memoryQueue) start(ctx context.Context) error {
	n := q.n
	q.ctx, q.cancelF = context.WithCancel(context.WithoutCancel(ctx))
	q.wg.Add(2 + n.cfg.QueueWorkers)
	go q.schedule()
	go q.sweep()
	for range n.cfg.QueueWorkers {
		go q.worker()
	}
	return nil
}

func (q *memoryQueue) stop() {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	q.stopped = true
	q.mu.Unlock()
	close(q.quit)
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(q.n.cfg.SendTimeout):
		q.cancelF()
		<-done
	}
	q.cancelF()
}

// push schedules a job.
func (q *memoryQueue) push(j memJob) {
	q.mu.Lock()
	heap.Push(&q.jobs, j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// schedule hands each job to a worker when it is due.
func (q *memoryQueue) schedule() {
	defer q.wg.Done()
	defer close(q.run)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		q.mu.Lock()
		wait := time.Hour
		var due *memJob
		if len(q.jobs) > 0 {
			if d := time.Until(q.jobs[0].at); d > 0 {
				wait = d
			} else {
				j := heap.Pop(&q.jobs).(memJob)
				due = &j
			}
		}
		q.mu.Unlock()
		if due != nil {
			select {
			case q.run <- *due:
			case <-q.quit:
				return
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-q.wake:
		case <-q.quit:
			return
		}
	}
}

// worker runs due jobs.
func (q *memoryQueue) worker() {
	defer q.wg.Done()
	for j := range q.run {
		v := q.n.work(q.ctx, j.id, j.attempt, q.n.cfg.MaxAttempts)
		switch {
		case v.done:
		case v.wait > 0:
			j.at = time.Now().Add(v.wait)
			q.push(j)
		default:
			j.at = time.Now().Add(q.n.backoff(j.attempt))
			j.attempt++
			q.push(j)
		}
	}
}

// sweep hands rows nobody delivers to the queue, every SweepInterval.
func (q *memoryQueue) sweep() {
	defer q.wg.Done()
	t := time.NewTicker(q.n.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-q.quit:
			return
		}
		rows, err := q.rec.QueueOrphans(q.ctx, sweepBatch)
		if err != nil {
			q.n.log.Error("outbox sweep", "err", err)
			continue
		}
		for _, r := range rows {
			q.push(memJob{id: r.ID, at: r.NotBefore, attempt: 1})
		}
	}
}

func (q *memoryQueue) add(ctx context.Context, tx pgx.Tx, msgs []store.Outgoing) ([]store.Delivery, error) {
	if tx != nil {
		return nil, errors.New("notify: the memory store has no transactions (use Queue)")
	}
	rows, err := q.rec.QueueOutbox(ctx, msgs)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		q.push(memJob{id: r.ID, at: r.NotBefore, attempt: 1})
	}
	return rows, nil
}

func (q *memoryQueue) handOver(ctx context.Context, owner string, rows []handOver) error {
	ids, delays := handOverIDs(rows)
	queued, err := q.rec.QueueDeliveries(ctx, owner, ids)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range queued {
		d := delays[r.ID]
		q.push(memJob{id: r.ID, at: later(r.NotBefore, now.Add(d.delay)), attempt: d.attempt})
	}
	return nil
}

func (q *memoryQueue) cancel(ctx context.Context, ids []int64) (int, error) {
	return q.rec.CancelDeliveries(ctx, ids)
}

// handOverTerms are when and as which attempt a handed-over row runs.
type handOverTerms struct {
	delay   time.Duration
	attempt int
}

// handOverIDs lists the rows' ids and their terms: a row that failed on
// the fast path starts at its second attempt.
func handOverIDs(rows []handOver) ([]int64, map[int64]handOverTerms) {
	ids := make([]int64, len(rows))
	terms := make(map[int64]handOverTerms, len(rows))
	for i, r := range rows {
		ids[i] = r.id
		t := handOverTerms{delay: r.delay, attempt: 1}
		if r.tried {
			t.attempt = 2
		}
		terms[r.id] = t
	}
	return ids, terms
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// jobHeap orders jobs by due time.
type jobHeap []memJob

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(memJob)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}
