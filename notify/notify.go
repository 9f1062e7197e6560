// Package notify delivers the outbox: every message the bot sends after the
// HTTP response (the rest of a turn's reply, status notifications, staff
// replies, reminders, broadcasts) is a row of the record's outbox, inserted
// in the transaction of its cause, and notify sends it on the candidate's
// channel exactly once, in order per identity.
//
// Two ways lead a row to its channel:
//
//   - The fast path: the process that recorded a turn holds a short claim
//     on the turn's rows (taken by the insert) and sends them at once from a
//     small pool of workers, one identity at a time; it marks them sent in
//     small deferred batches, so a turn costs no extra database round trip.
//   - The queue: River (riverqueue/river) on PostgreSQL, or an in-process
//     queue on the memory store, runs every other delivery attempt:
//     retries with back-off, scheduled messages (not_before), messages
//     queued outside a turn, and rows whose fast-path claim expired because
//     their process died (a periodic sweep hands them over).
//
// Both call the same delivery code: claim the row (the record refuses while
// an earlier message of the identity is pending), load its images, hand it
// to the channel's Sender, and classify the result: sent; rate limited
// (snoozed for the platform's retry_after); transient (retried with
// back-off, given up after MaxAttempts); unreachable, permanent or outside
// the platform's window (recorded as failed or skipped and never retried).
// Every failed attempt is kept with its error (store.DeliveryAttempt).
// docs/notify.md describes it for operators.
package notify

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// Defaults of Config, filled in by WithDefaults.
const (
	DefaultWorkers       = 32
	DefaultLease         = 60 * time.Second
	DefaultFlushInterval = 20 * time.Millisecond
	DefaultFlushBatch    = 256
	DefaultMaxBacklog    = 10000
	DefaultQueueWorkers  = 32
	DefaultMaxAttempts   = 12
	DefaultRetryBackoff  = 5 * time.Second
	DefaultMaxRetryWait  = 30 * time.Minute
	DefaultOrderWait     = time.Second
	DefaultSweepInterval = 10 * time.Second
	DefaultSendTimeout   = 20 * time.Second
	DefaultPollInterval  = time.Second
)

// Config tunes delivery (the `notify:` section of the regbot config).
type Config struct {
	// Workers is how many fast-path sends run at once (default 32).
	Workers int `yaml:"workers"`
	// Lease is how long the process that recorded a turn holds its
	// messages for the fast path; a process that dies leaves them to the
	// queue after it (default 60s). At least twice send_timeout.
	Lease time.Duration `yaml:"lease"`
	// FlushInterval is how long the fast path collects outcomes before it
	// writes them in one statement (default 20ms).
	FlushInterval time.Duration `yaml:"flush_interval"`
	// FlushBatch writes the collected outcomes as soon as this many are
	// waiting (default 256).
	FlushBatch int `yaml:"flush_batch"`
	// MaxBacklog is how many messages the fast path holds in memory; more
	// go straight to the queue (default 10000).
	MaxBacklog int `yaml:"max_backlog"`
	// QueueWorkers is how many queue deliveries run at once per process
	// (default 32).
	QueueWorkers int `yaml:"queue_workers"`
	// MaxAttempts bounds the tries of a message that keeps failing
	// transiently; then it is recorded as failed (default 12).
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBackoff is the wait after the first failed attempt, doubled
	// after each further one (default 5s) …
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// MaxRetryWait … up to this (default 30m).
	MaxRetryWait time.Duration `yaml:"max_retry_wait"`
	// OrderWait is how long a message waits before it looks again whether
	// the earlier message of the same candidate it waits for is out
	// (default 1s).
	OrderWait time.Duration `yaml:"order_wait"`
	// SweepInterval is how often the queue looks for messages nobody
	// delivers (their process died) (default 10s).
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// SendTimeout bounds one delivery attempt, image loading and every
	// platform call included (default 20s).
	SendTimeout time.Duration `yaml:"send_timeout"`
	// PollInterval is how often idle queue workers look for jobs that
	// became due (a retry, a message that waited for an earlier one);
	// new jobs wake them at once (default 1s).
	PollInterval time.Duration `yaml:"poll_interval"`
}

// WithDefaults returns c with every zero setting replaced by its default.
func (c Config) WithDefaults() Config {
	c.Workers = cmp.Or(c.Workers, DefaultWorkers)
	c.Lease = cmp.Or(c.Lease, DefaultLease)
	c.FlushInterval = cmp.Or(c.FlushInterval, DefaultFlushInterval)
	c.FlushBatch = cmp.Or(c.FlushBatch, DefaultFlushBatch)
	c.MaxBacklog = cmp.Or(c.MaxBacklog, DefaultMaxBacklog)
	c.QueueWorkers = cmp.Or(c.QueueWorkers, DefaultQueueWorkers)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.RetryBackoff = cmp.Or(c.RetryBackoff, DefaultRetryBackoff)
	c.MaxRetryWait = cmp.Or(c.MaxRetryWait, DefaultMaxRetryWait)
	c.OrderWait = cmp.Or(c.OrderWait, DefaultOrderWait)
	c.SweepInterval = cmp.Or(c.SweepInterval, DefaultSweepInterval)
	c.SendTimeout = cmp.Or(c.SendTimeout, DefaultSendTimeout)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	return c
}

// Validate reports every problem of c (after WithDefaults) at once.
func (c Config) Validate() error {
	var errs []error
	positive := map[string]int{"workers": c.Workers, "flush_batch": c.FlushBatch, "max_backlog": c.MaxBacklog,
		"queue_workers": c.QueueWorkers, "max_attempts": c.MaxAttempts}
	for _, name := range []string{"workers", "flush_batch", "max_backlog", "queue_workers", "max_attempts"} {
		if positive[name] < 1 {
			errs = append(errs, fmt.Errorf("notify.%s %d: must be at least 1", name, positive[name]))
		}
	}
	durations := []struct {
		name string
		d    time.Duration
	}{{"lease", c.Lease}, {"flush_interval", c.FlushInterval}, {"retry_backoff", c.RetryBackoff},
		{"max_retry_wait", c.MaxRetryWait}, {"order_wait", c.OrderWait}, {"sweep_interval", c.SweepInterval},
		{"send_timeout", c.SendTimeout}, {"poll_interval", c.PollInterval}}
	for _, d := range durations {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("notify.%s %s: must be positive", d.name, d.d))
		}
	}
	if c.SendTimeout > 0 && c.Lease < 2*c.SendTimeout {
		errs = append(errs, fmt.Errorf("notify.lease %s: must be at least twice send_timeout (%s)", c.Lease, c.SendTimeout))
	}
	if c.MaxRetryWait < c.RetryBackoff {
		errs = append(errs, fmt.Errorf("notify.max_retry_wait %s: must be at least retry_backoff (%s)", c.MaxRetryWait, c.RetryBackoff))
	}
	return errors.Join(errs...)
}

// Sender is a channel's sending side (bot/wechat, bot/telegram and bot/web
// adapters satisfy it). Deliver sends d's messages, skipping the first
// d.Done sends, and returns how many sends are done in all. Its error is
// classified with bot.ErrUnreachable, bot.ErrPermanent,
// bot.ErrWindowClosed or *bot.RateLimitedError; any other error is
// transient.
type Sender interface {
	Deliver(ctx context.Context, d bot.Delivery) (done int, err error)
}

// Record is what delivery needs of the record (store/postgres.Store,
// store/memory.Store).
type Record interface {
	// ClaimDelivery claims the outbox row id for owner for lease, or says
	// why not.
	ClaimDelivery(ctx context.Context, id int64, owner string, lease time.Duration) (store.Claim, error)
	// SettleDeliveries records the outcomes of owner's attempts.
	SettleDeliveries(ctx context.Context, owner string, results []store.Settlement) error
	// SettleDelivery records one outcome of owner's and returns the
	// identity's next pending, due row (0: none).
	SettleDelivery(ctx context.Context, owner string, res store.Settlement) (next int64, err error)
}

// Blobs loads the images of messages (the blob store).
type Blobs interface {
	Get(ctx context.Context, ref string) ([]byte, error)
}

// Deps are what a Notifier works with.
type Deps struct {
	Record Record
	// Queue is the durable side: NewRiverQueue (PostgreSQL) or
	// NewMemoryQueue (the embedded store).
	Queue Queue
	// Blobs loads images (nil: messages with images fail).
	Blobs Blobs
	// Senders are the channels by name ("wechat", "telegram", "web"). A
	// message for a channel without a Sender fails.
	Senders map[string]Sender
	// Instance names this process in claims; it must differ between
	// processes and between starts (default: random).
	Instance string
	// Registerer receives the metrics (nil: none registered).
	Registerer prometheus.Registerer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Notifier delivers outbox rows: the fast path for the rows a turn of this
// process queued (Dispatch), the queue for everything else. Build it with
// New, run it with Start and Stop.
type Notifier struct {
	cfg     Config
	log     *slog.Logger
	rec     Record
	queue   Queue
	blobs   Blobs
	senders map[string]Sender
	now     func() time.Time
	metrics *metrics
	// owner names the fast path's claims, queueOwner the queue's: they
	// differ, so that the fast path never takes a row the queue is
	// sending as its own.
	owner, queueOwner string
	fast              *fastPath

	mu      sync.Mutex
	started bool
	stopped bool
}

// New returns a Notifier for cfg (defaults filled in, then validated). It
// does no I/O.
func New(cfg Config, deps Deps, log *slog.Logger) (*Notifier, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Record == nil || deps.Queue == nil {
		return nil, errors.New("notify: Record and Queue are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	n := &Notifier{
		cfg: cfg, log: log, rec: deps.Record, queue: deps.Queue, blobs: deps.Blobs,
		senders: deps.Senders, now: deps.Now, metrics: m,
		owner: cmp.Or(deps.Instance, rand.Text()[:16]),
	}
	n.queueOwner = n.owner + "/queue"
	if n.now == nil {
		n.now = time.Now
	}
	n.fast = newFastPath(n)
	n.queue.bind(n)
	return n, nil
}

// FastClaim is the claim a turn takes on the outbox rows it queues, for
// this Notifier's fast path (store.FastClaim).
func (n *Notifier) FastClaim() store.FastClaim {
	return store.FastClaim{Owner: n.owner, Lease: n.cfg.Lease}
}

// Start starts the fast path's workers and the queue. Stop it with Stop,
// not by cancelling ctx.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started || n.stopped {
		return errors.New("notify: already started")
	}
	if err := n.queue.start(ctx); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	n.fast.start()
	n.started = true
	return nil
}

// Stop finishes the fast path's sends under way, hands what it still holds
// to the queue, writes the outcomes and stops the queue (its deliveries
// under way finish first). It is safe to call twice.
func (n *Notifier) Stop() {
	n.mu.Lock()
	if n.stopped || !n.started {
		n.stopped = true
		n.mu.Unlock()
		return
	}
	n.stopped = true
	n.mu.Unlock()
	n.fast.stop()
	n.queue.stop()
}

// Dispatch takes the outbox rows a turn of this process has just committed
// (their ids, identities and payloads, ClaimedUntil set on the rows the
// insert claimed with FastClaim) and delivers them: claimed rows at once on
// the fast path, in order per identity, the others through the queue. It
// does not wait for the sends and does no I/O itself; it is safe for
// concurrent use.
func (n *Notifier) Dispatch(ctx context.Context, rows []store.Delivery) {
	n.fast.dispatch(rows)
}

// Backlog is how many rows the fast path holds waiting for a worker. A
// producer of many rows (a broadcast) keeps it low, so that the replies of
// turns do not wait behind its rows.
func (n *Notifier) Backlog() int {
	n.fast.mu.Lock()
	defer n.fast.mu.Unlock()
	return n.fast.backlog
}

// QueueTx queues msgs inside tx, a transaction of the caller on the
// PostgreSQL record (a status change, a staff reply, a reminder, a
// broadcast): the outbox rows and their queue jobs exist only if tx
// commits. A message whose Key was queued before is left out of the
// result. Not available on the memory store (use Queue).
func (n *Notifier) QueueTx(ctx context.Context, tx pgx.Tx, msgs ...store.Outgoing) ([]store.Delivery, error) {
	if tx == nil {
		return nil, errors.New("notify: QueueTx without a transaction")
	}
	return n.queue.add(ctx, tx, msgs)
}

// Queue queues msgs in a transaction of their own (on the memory store: at
// once). A message whose Key was queued before is left out of the result.
func (n *Notifier) Queue(ctx context.Context, msgs ...store.Outgoing) ([]store.Delivery, error) {
	return n.queue.add(ctx, nil, msgs)
}

// QueueMessages queues msgs for id in a transaction of their own, to be
// delivered not before notBefore (zero: now): how a channel adapter hands
// over what it could not answer with (a WeChat turn past its reply budget,
// a Telegram reply whose send got a 429 while the webhook waited). Images
// must be in the blob store (Ref set).
func (n *Notifier) QueueMessages(ctx context.Context, id store.Identity, kind store.OutKind, msgs []dialogs.Outbound, notBefore time.Time) error {
	payload, err := dialogs.EncodeMessages(msgs)
	if err != nil {
		return err
	}
	_, err = n.Queue(ctx, store.Outgoing{Identity: id, Kind: kind, Payload: payload, NotBefore: notBefore})
	return err
}

// Cancel withdraws pending messages before they are sent (a reminder made
// moot, a cancelled broadcast); their queue jobs end without sending.
// It returns how many it withdrew.
func (n *Notifier) Cancel(ctx context.Context, ids ...int64) (int, error) {
	return n.queue.cancel(ctx, ids)
}
