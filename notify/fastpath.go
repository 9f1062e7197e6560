package notify

import (
	"context"
	"sync"
	"time"

	"regbot/store"
)

// fastPath sends the rows a turn of this process queued, at once: each
// identity has a lane of rows in id order, a pool of workers takes lanes
// one at a time (so one identity's rows go out in order and one slow
// identity holds one worker only), and the outcomes are written by a
// flusher in one statement per batch.
//
// A row that fails goes to the queue, and so does every later row of its
// identity until the hand-over is written (held): after that, the record
// itself keeps the identity's later rows off the fast path (the insert
// claims nothing behind a pending row another owner holds). A row the
// record claimed for this process *before* that write (the failed row was
// still this process's own claim then) but dispatched after it follows to
// the queue too (handed): else it would overtake the failed row.
type fastPath struct {
	n *Notifier

	mu      sync.Mutex
	cond    *sync.Cond // signalled when ready gains a lane, and on stop
	lanes   map[string]*lane
	ready   []*lane
	backlog int
	// held counts each identity's rows handed over and not yet written:
	// while it is not zero, the identity's rows follow them to the queue.
	held map[string]int
	// handed marks the identities whose rows were handed over with a hold
	// (see overtakes).
	handed   map[string]handedMark
	stopping bool
	workers  sync.WaitGroup

	// ctx is the base of every send; cancel ends sends that outlive stop's
	// grace period.
	ctx    context.Context
	cancel context.CancelFunc

	out     sync.Mutex // guards settled and handing
	settled []store.Settlement
	handing []handOver
	kick    chan struct{}
	quit    chan struct{}
	flushed chan struct{}
}

// handedMark is the earliest row of an identity handed to the queue with a
// hold (since the mark was last forgotten), and when the latest hand-over
// was written.
type handedMark struct {
	id      int64
	written time.Time
}

// clockMargin allows for the record's clock (claims) running ahead of the
// process's (hand-overs written) when overtakes compares them. Erring this
// way only sends a row by the queue that could have gone at once.
const clockMargin = 2 * time.Second

// lane is one identity's rows waiting for a worker, oldest first.
type lane struct {
	key  string
	rows []store.Delivery
	// busy is set while the lane is in ready or with a worker.
	busy bool
}

// handOver is a row given to the queue: tried after delay (or at its
// not_before, whichever is later).
type handOver struct {
	id    int64
	delay time.Duration
	// tried says the fast path made an attempt (the queue's first run is
	// the second attempt).
	tried bool
	// key is the row's identity, whose held count the hand-over took.
	key string
}

func newFastPath(n *Notifier) *fastPath {
	f := &fastPath{n: n, lanes: map[string]*lane{}, held: map[string]int{}, handed: map[string]handedMark{},
		kick: make(chan struct{}, 1), quit: make(chan struct{}), flushed: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

func (f *fastPath) start() {
	for range f.n.cfg.Workers {
		f.workers.Add(1)
		go f.work()
	}
	go f.flushLoop()
}

// stop lets the workers finish the sends under way (at most SendTimeout),
// hands the rows still waiting to the queue and writes every outcome.
func (f *fastPath) stop() {
	f.mu.Lock()
	f.stopping = true
	f.cond.Broadcast()
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		f.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(f.n.cfg.SendTimeout):
		f.cancel()
		<-done
	}
	f.cancel()
	close(f.quit)
	<-f.flushed
}

// dispatch takes rows just committed (see Notifier.Dispatch).
func (f *fastPath) dispatch(rows []store.Delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range rows {
		key := d.Identity.Key()
		switch {
		case d.ClaimedUntil.IsZero():
			// Not ours to send (scheduled, or behind another owner's row):
			// the queue needs a job for it.
			f.handOver(d, 0, "unclaimed", false)
			continue
		case f.stopping:
			f.handOver(d, 0, "stopping", true)
			continue
		case f.held[key] > 0 || f.overtakes(key, d):
			f.handOver(d, 0, "behind_failure", true)
			continue
		case f.backlog >= f.n.cfg.MaxBacklog:
			f.handOver(d, 0, "backlog", true)
			continue
		}
		l := f.lanes[key]
		if l == nil {
			l = &lane{key: key}
			f.lanes[key] = l
		}
		l.rows = append(l.rows, d)
		f.backlog++
		if !l.busy {
			l.busy = true
			f.ready = append(f.ready, l)
			f.cond.Signal()
		}
	}
	f.n.metrics.backlog.Set(float64(f.backlog))
}

// overtakes reports whether d, claimed for this process, would overtake a
// row of its identity that this process handed to the queue: d comes after
// it and was claimed before the hand-over was written (the record let the
// claim through because the earlier row was still this process's then; the
// Router's turn dispatches its rows after the commit, so a failure and its
// hand-over can come in between). A row claimed after the write was checked
// by the record against the queued row already. Marks older than a lease are
// forgotten: a claim taken before them has run out, and drain hands such a
// row over anyway. f.mu is held.
func (f *fastPath) overtakes(key string, d store.Delivery) bool {
	m, ok := f.handed[key]
	if !ok {
		return false
	}
	if time.Since(m.written) > f.n.cfg.Lease {
		delete(f.handed, key)
		return false
	}
	claimedAt := d.ClaimedUntil.Add(-f.n.cfg.Lease)
	return d.ID > m.id && claimedAt.Before(m.written.Add(clockMargin))
}

// handOver gives d to the queue through the flusher, to be tried after
// delay. hold keeps the identity's later rows off the fast path until it is
// written. f.mu is held.
func (f *fastPath) handOver(d store.Delivery, delay time.Duration, reason string, hold bool) {
	h := f.newHandOver(d, delay, reason, hold)
	f.out.Lock()
	f.handing = append(f.handing, h)
	f.out.Unlock()
	f.poke()
}

// newHandOver counts d's hand-over (and its hold). f.mu is held.
func (f *fastPath) newHandOver(d store.Delivery, delay time.Duration, reason string, hold bool) handOver {
	h := handOver{id: d.ID, delay: delay, tried: reason == "failed"}
	if hold {
		h.key = d.Identity.Key()
		f.held[h.key]++
	}
	f.n.metrics.handedOver.WithLabelValues(reason).Inc()
	return h
}

// work is one worker: it takes a ready lane and sends its rows in order
// until the lane is empty.
func (f *fastPath) work() {
	defer f.workers.Done()
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for len(f.ready) == 0 && !f.stopping {
			f.cond.Wait()
		}
		if len(f.ready) == 0 {
			return
		}
		l := f.ready[0]
		f.ready[0] = nil
		f.ready = f.ready[1:]
		f.drain(l)
	}
}

// drain sends l's rows one by one. f.mu is held, except during each send.
func (f *fastPath) drain(l *lane) {
	for len(l.rows) > 0 {
		d := l.rows[0]
		l.rows[0] = store.Delivery{}
		l.rows = l.rows[1:]
		f.backlog--
		f.n.metrics.backlog.Set(float64(f.backlog))
		switch {
		case f.stopping:
			f.handOver(d, 0, "stopping", true)
			continue
		case f.held[l.key] > 0 || f.overtakes(l.key, d):
			f.handOver(d, 0, "behind_failure", true)
			continue
		case time.Until(d.ClaimedUntil) < f.n.cfg.SendTimeout+time.Second:
			// The claim could run out during the send: the queue might
			// send it too.
			f.handOver(d, 0, "lease", true)
			continue
		}
		f.mu.Unlock()
		out := f.n.send(f.ctx, d, false, false)
		f.n.observe("fast", d.Identity.Channel, out)
		f.mu.Lock()
		switch {
		case out.wait > 0:
			f.settleFailed(out.settlement, d, out.wait)
		case out.retry:
			f.n.log.Warn("outbox delivery failed; the queue retries it", "outbox_id", d.ID, "channel", d.Identity.Channel, "err", out.err)
			f.settleFailed(out.settlement, d, f.n.backoff(1))
		default:
			if out.err != nil {
				f.n.log.Warn("outbox delivery given up", "outbox_id", d.ID, "channel", d.Identity.Channel,
					"state", out.settlement.State, "err", out.err)
			}
			f.settle(out.settlement)
		}
	}
	l.busy = false
	delete(f.lanes, l.key)
}

// settle queues an outcome for the flusher.
func (f *fastPath) settle(s store.Settlement) {
	f.out.Lock()
	f.settled = append(f.settled, s)
	full := len(f.settled) >= f.n.cfg.FlushBatch
	f.out.Unlock()
	if full {
		f.poke()
	}
}

// settleFailed queues the outcome of d's failed send and d's hand-over to
// the queue after delay, in one critical section: a flush between the two
// would write the outcome alone, releasing the claim before the row is
// queued (see flush). f.mu is held.
func (f *fastPath) settleFailed(s store.Settlement, d store.Delivery, delay time.Duration) {
	h := f.newHandOver(d, delay, "failed", true)
	f.out.Lock()
	f.settled = append(f.settled, s)
	f.handing = append(f.handing, h)
	f.out.Unlock()
	f.poke()
}

func (f *fastPath) poke() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// flushLoop writes the collected outcomes every FlushInterval (sooner when
// a batch is full), and once more when the fast path stops.
func (f *fastPath) flushLoop() {
	defer close(f.flushed)
	t := time.NewTicker(f.n.cfg.FlushInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-f.quit:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := f.flush(ctx); err != nil {
				f.n.log.Error("outbox outcomes not written at stop; the rows are sent again once their claim expires", "err", err)
			}
			cancel()
			return
		case <-t.C:
		case <-f.kick:
		}
		err := f.flush(context.Background())
		switch {
		case err != nil && !failing:
			failing = true
			f.n.log.Error("outbox outcomes not written; retrying", "err", err)
		case err != nil:
			// Once per outage; wait a little before the next try.
			select {
			case <-time.After(time.Second):
			case <-f.quit:
			}
		case failing:
			failing = false
			f.n.log.Info("outbox outcomes written again")
		}
	}
}

// flush writes the collected hand-overs, then the outcomes. In this order
// a failed row stays under this process's claim until it is queued: written
// the other way round, the outcome released the claim first and a sweep in
// between took the row as an orphan, with no back-off (a 429's retry_after
// ignored). A handed-over row's job runs after its back-off, long after its
// outcome is written. What fails is kept for the next flush.
func (f *fastPath) flush(ctx context.Context) error {
	f.out.Lock()
	settled, handed := f.settled, f.handing
	f.settled, f.handing = nil, nil
	f.out.Unlock()
	if len(settled) == 0 && len(handed) == 0 {
		return nil
	}
	if len(handed) > 0 {
		if err := f.n.queue.handOver(ctx, f.n.owner, handed); err != nil {
			f.requeue(settled, handed)
			return err
		}
		f.handedOver(handed)
	}
	if len(settled) == 0 {
		return nil
	}
	if err := f.n.rec.SettleDeliveries(ctx, f.n.owner, settled); err != nil {
		f.requeue(settled, nil)
		return err
	}
	return nil
}

// handedOver marks the identities of hand-overs just written (overtakes)
// and lets their later rows on the fast path again.
func (f *fastPath) handedOver(handed []handOver) {
	written := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	// Marks older than a lease mean nothing (see overtakes): forget them
	// here too, or an identity that never sends again keeps its mark.
	for key, m := range f.handed {
		if written.Sub(m.written) > f.n.cfg.Lease {
			delete(f.handed, key)
		}
	}
	for _, h := range handed {
		if h.key == "" {
			continue
		}
		// The earliest row handed over, the latest write: a row claimed
		// before the write and after any of them goes to the queue.
		m, ok := f.handed[h.key]
		if !ok || written.Sub(m.written) > f.n.cfg.Lease {
			m.id = h.id
		}
		f.handed[h.key] = handedMark{id: min(m.id, h.id), written: written}
		if f.held[h.key]--; f.held[h.key] <= 0 {
			delete(f.held, h.key)
		}
	}
}

// requeue puts outcomes that were not written back in front.
func (f *fastPath) requeue(settled []store.Settlement, handed []handOver) {
	f.out.Lock()
	f.settled = append(settled, f.settled...)
	f.handing = append(handed, f.handing...)
	f.out.Unlock()
}
