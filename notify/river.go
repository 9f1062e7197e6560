package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"regbot/store"
)

// riverQueueName is the River queue outbox deliveries run on.
const riverQueueName = "outbox"

// RiverRecord is the PostgreSQL record's outbox (store/postgres.Store):
// the queue's hand-overs run inside the transactions that insert their
// River jobs.
type RiverRecord interface {
	Record
	InsertOutboxTx(ctx context.Context, tx pgx.Tx, msgs []store.Outgoing) ([]store.Delivery, error)
	QueueDeliveriesTx(ctx context.Context, tx pgx.Tx, owner string, ids []int64) ([]store.Queued, error)
	QueueOrphansTx(ctx context.Context, tx pgx.Tx, limit int) ([]store.Queued, error)
	CancelDeliveries(ctx context.Context, ids []int64) (int, error)
}

// MigrateRiver applies River's own migrations to the schema the pool's
// search_path selects (the schema regbot's tables are in). It is
// idempotent; `regbot migrate` and `regbot serve` run it after the
// record's migrations.
func MigrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	schema, err := CurrentSchema(ctx, pool)
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{
		Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// CurrentSchema is the schema River's tables are in on pool (the first of
// its search_path that exists): for another River client over the same
// queue, as the console's queue dashboard.
func CurrentSchema(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var schema *string
	if err := pool.QueryRow(ctx, "select current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", errors.New("no schema of the search_path exists")
	}
	return *schema, nil
}

// riverQueue is the durable queue on PostgreSQL: one River job per outbox
// row handed to it, inserted in the transaction that marks the row queued;
// a sweep in every process hands over the rows whose fast-path claim
// expired.
type riverQueue struct {
	pool *pgxpool.Pool
	rec  RiverRecord
	log  *slog.Logger

	n *Notifier

	mu      sync.Mutex
	client  *river.Client[pgx.Tx] // built on first use
	started bool
	quit    chan struct{}
	swept   sync.WaitGroup
}

// NewRiverQueue returns the River queue over the PostgreSQL record on pool
// (River's tables must be migrated: MigrateRiver). It does no I/O until
// the Notifier starts it.
func NewRiverQueue(pool *pgxpool.Pool, rec RiverRecord, log *slog.Logger) Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &riverQueue{pool: pool, rec: rec, log: log, quit: make(chan struct{})}
}

// deliverArgs is the job of delivering one outbox row.
type deliverArgs struct {
	OutboxID int64 `json:"outbox_id" river:"unique"`
}

// Kind names the job kind in River's tables.
func (deliverArgs) Kind() string { return "regbot_outbox_deliver" }

// deliverWorker runs deliverArgs jobs with the Notifier's delivery code.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	n *Notifier
}

// Work maps a delivery's verdict to River: done (cancelled when it ended
// in a failure), snoozed (no attempt used), or failed (retried after the
// back-off).
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	v := w.n.work(ctx, job.Args.OutboxID, job.Attempt, job.MaxAttempts)
	switch {
	case v.done && v.err != nil:
		return river.JobCancel(v.err)
	case v.done:
		return nil
	case v.wait > 0:
		return river.JobSnooze(v.wait)
	}
	return v.err
}

// NextRetry is the Notifier's back-off.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return time.Now().Add(w.n.backoff(job.Attempt))
}

// rescueAfter is how long a delivery job may be running before River takes
// it for a job of a dead process: its longest run (2 x send_timeout) and
// as much again.
func rescueAfter(sendTimeout time.Duration) time.Duration { return 4 * sendTimeout }

// Timeout bounds one run: the send and writing its outcome.
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return 2 * w.n.cfg.SendTimeout
}

func (q *riverQueue) bind(n *Notifier) { q.n = n }

// riverClient returns the River client, building it on first use (it needs
// the schema's name, so it is not built before there is a context to ask
// the database with). A client that is not started still inserts jobs: a
// command that queues messages without delivering them (regbot status
// import) leaves them to the serving processes.
func (q *riverQueue) riverClient(ctx context.Context) (*river.Client[pgx.Tx], error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client != nil {
		return q.client, nil
	}
	schema, err := CurrentSchema(ctx, q.pool)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{n: q.n}); err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(q.pool), &river.Config{
		Queues:      map[string]river.QueueConfig{riverQueueName: {MaxWorkers: q.n.cfg.QueueWorkers}},
		Workers:     workers,
		Schema:      schema,
		MaxAttempts: q.n.cfg.MaxAttempts,
		// A run ends within 2 x send_timeout (deliverWorker.Timeout). A job
		// still "running" well after that was run by a process that died
		// (SIGKILL, a crash): River's rescuer (every 30 s, by the leader)
		// gives it back after RescueStuckJobsAfter. River's default is an
		// hour, which left the messages of a killed process's running jobs
		// undelivered for that long. A rescued job of a process that is in
		// fact alive sends nothing twice: its delivery claims the outbox row
		// (ClaimDelivery, held for 2 x send_timeout) before it sends.
		JobTimeout:           2 * q.n.cfg.SendTimeout,
		RescueStuckJobsAfter: rescueAfter(q.n.cfg.SendTimeout),
		// Snoozed and retried jobs come due without a notification: idle
		// producers find them by polling.
		FetchPollInterval: q.n.cfg.PollInterval,
		// A producer fetches at most one batch per cooldown, which bounds a
		// queue at queue_workers / cooldown jobs a second (River's 100 ms
		// default: 320/s with 32 workers).
		FetchCooldown: min(10*time.Millisecond, q.n.cfg.PollInterval),
		// River's own lines below warn (each errored job at info) would
		// repeat what notify logs.
		Logger: RiverLogger(q.log),
	})
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	q.client = client
	return client, nil
}

func (q *riverQueue) start(ctx context.Context) error {
	client, err := q.riverClient(ctx)
	if err != nil {
		return err
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	q.mu.Lock()
	q.started = true
	q.mu.Unlock()
	q.swept.Add(1)
	go q.sweepLoop()
	return nil
}

func (q *riverQueue) stop() {
	q.mu.Lock()
	started := q.started
	q.started = false
	q.mu.Unlock()
	if !started {
		return
	}
	close(q.quit)
	q.swept.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*q.n.cfg.SendTimeout)
	defer cancel()
	if err := q.client.Stop(ctx); err != nil {
		q.log.Warn("river stop", "err", err)
	}
}

// jobs builds the insert parameters of rows' delivery jobs, each scheduled
// at its due time.
func (q *riverQueue) jobs(rows []store.Queued, terms map[int64]handOverTerms) []river.InsertManyParams {
	now := time.Now()
	params := make([]river.InsertManyParams, len(rows))
	for i, r := range rows {
		opts := &river.InsertOpts{Queue: riverQueueName}
		at := r.NotBefore
		if t, ok := terms[r.ID]; ok {
			at = later(at, now.Add(t.delay))
			if t.attempt > 1 {
				// The fast path's attempt counts.
				opts.MaxAttempts = max(q.n.cfg.MaxAttempts-1, 1)
			}
		}
		if at.After(now) {
			opts.ScheduledAt = at
		}
		params[i] = river.InsertManyParams{Args: deliverArgs{OutboxID: r.ID}, InsertOpts: opts}
	}
	return params
}

func (q *riverQueue) add(ctx context.Context, tx pgx.Tx, msgs []store.Outgoing) ([]store.Delivery, error) {
	client, err := q.riverClient(ctx)
	if err != nil {
		return nil, err
	}
	if tx == nil {
		var out []store.Delivery
		err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
			var err error
			out, err = q.add(ctx, tx, msgs)
			return err
		})
		return out, err
	}
	rows, err := q.rec.InsertOutboxTx(ctx, tx, msgs)
	if err != nil || len(rows) == 0 {
		return rows, err
	}
	queued := make([]store.Queued, len(rows))
	for i, r := range rows {
		queued[i] = store.Queued{ID: r.ID, NotBefore: r.NotBefore}
	}
	if _, err := client.InsertManyTx(ctx, tx, q.jobs(queued, nil)); err != nil {
		return nil, fmt.Errorf("queue outbox jobs: %w", err)
	}
	return rows, nil
}

func (q *riverQueue) handOver(ctx context.Context, owner string, rows []handOver) error {
	client, err := q.riverClient(ctx)
	if err != nil {
		return err
	}
	ids, terms := handOverIDs(rows)
	return pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
		queued, err := q.rec.QueueDeliveriesTx(ctx, tx, owner, ids)
		if err != nil || len(queued) == 0 {
			return err
		}
		if _, err := client.InsertManyTx(ctx, tx, q.jobs(queued, terms)); err != nil {
			return fmt.Errorf("queue outbox jobs: %w", err)
		}
		return nil
	})
}

func (q *riverQueue) cancel(ctx context.Context, ids []int64) (int, error) {
	return q.rec.CancelDeliveries(ctx, ids)
}

// sweepLoop hands the rows nobody delivers to the queue, at start and then
// every SweepInterval. Every process sweeps; the statement skips rows
// another sweep has locked.
func (q *riverQueue) sweepLoop() {
	defer q.swept.Done()
	t := time.NewTicker(q.n.cfg.SweepInterval)
	defer t.Stop()
	for {
		if err := q.sweep(context.Background()); err != nil {
			q.log.Error("outbox sweep", "err", err)
		}
		select {
		case <-t.C:
		case <-q.quit:
			return
		}
	}
}

// sweep hands over orphaned rows, sweepBatch at a time, until none is
// left.
func (q *riverQueue) sweep(ctx context.Context) error {
	for {
		var n int
		err := pgx.BeginFunc(ctx, q.pool, func(tx pgx.Tx) error {
			rows, err := q.rec.QueueOrphansTx(ctx, tx, sweepBatch)
			if err != nil || len(rows) == 0 {
				return err
			}
			n = len(rows)
			if _, err := q.client.InsertManyTx(ctx, tx, q.jobs(rows, nil)); err != nil {
				return fmt.Errorf("queue outbox jobs: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n > 0 {
			q.log.Info("outbox rows recovered for the queue", "rows", n)
		}
		if n < sweepBatch {
			return nil
		}
	}
}

// RiverLogger is log for River's own lines (and its UI's): warnings and
// errors only, as its informational lines repeat what regbot logs.
func RiverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelWarn})
}

// minLevel drops records below its level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
