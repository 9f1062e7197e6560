package broadcasts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"regbot/bot"
	"regbot/store"
)

// Defaults of Config.
const (
	DefaultPollInterval = time.Second
	DefaultBatch        = 500
	DefaultMaxBacklog   = 1000
	DefaultWorkers      = 2
	// DefaultTelegramRate stays under Telegram's ~30 messages a second.
	DefaultTelegramRate = 25
	// DefaultWeChatRate paces customer-service and template messages.
	DefaultWeChatRate = 50
)

// Config tunes sending (the `broadcasts:` section of the regbot config).
type Config struct {
	// Rates are the sends per second per channel, shared by every process
	// (0: no limit). Defaults: telegram 25, wechat 50, web none.
	Rates map[string]float64 `yaml:"rates"`
	// Burst is how many sends of a channel may go at once after a pause
	// (default 1: evenly spaced).
	Burst int `yaml:"burst"`
	// PollInterval is how often each process looks for broadcasts to start,
	// to send, paused or cancelled (default 1s).
	PollInterval time.Duration `yaml:"poll_interval"`
	// Batch is the most recipients handed to the outbox at once (default
	// 500).
	Batch int `yaml:"batch"`
	// MaxBacklog is the most outbox rows the process's fast path may hold
	// before a broadcast waits for it (default 1000), so replies to
	// candidates never queue long behind a broadcast.
	MaxBacklog int `yaml:"max_backlog"`
	// Workers is how many batches of a channel one process hands over at
	// once (default 2): the hand-over is a database statement, and two
	// overlap its round trips and use two database cores.
	Workers int `yaml:"workers"`
}

// WithDefaults fills in every zero setting.
func (c Config) WithDefaults() Config {
	rates := map[string]float64{"telegram": DefaultTelegramRate, "wechat": DefaultWeChatRate}
	for ch, r := range c.Rates {
		rates[ch] = r
	}
	c.Rates = rates
	c.Burst = cmp.Or(c.Burst, 1)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.Batch = cmp.Or(c.Batch, DefaultBatch)
	c.MaxBacklog = cmp.Or(c.MaxBacklog, DefaultMaxBacklog)
	c.Workers = cmp.Or(c.Workers, DefaultWorkers)
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	for ch, r := range c.Rates {
		if r < 0 {
			errs = append(errs, fmt.Errorf("broadcasts.rates.%s %v: must not be negative", ch, r))
		}
	}
	if c.Burst < 1 {
		errs = append(errs, fmt.Errorf("broadcasts.burst %d: must be at least 1", c.Burst))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("broadcasts.poll_interval %s: must be positive", c.PollInterval))
	}
	if c.Batch < 1 || c.MaxBacklog < 1 || c.Workers < 1 {
		errs = append(errs, fmt.Errorf("broadcasts.batch %d, max_backlog %d and workers %d: must be at least 1", c.Batch, c.MaxBacklog, c.Workers))
	}
	return errors.Join(errs...)
}

// interval is the time between two sends on channel (0: no limit).
func (c Config) interval(channel string) time.Duration {
	r := c.Rates[channel]
	if r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / r)
}

// Limiter is the send rate shared by every process: store/redis.Store, or
// store/postgres.Store without Redis, or store/memory.Store for one
// process.
type Limiter interface {
	// TakeRate grants up to n sends of the bucket key (one every interval,
	// bursts of burst) and, when none, says how long until the next.
	TakeRate(ctx context.Context, key string, interval time.Duration, burst, n int) (int, time.Duration, error)
	// HoldRate grants none for d (a platform's retry_after).
	HoldRate(ctx context.Context, key string, interval time.Duration, burst int, d time.Duration) error
}

// Outbox is notify's side of sending (notify.Notifier).
type Outbox interface {
	// FastClaim is the claim under which this process delivers rows
	// itself, at once.
	FastClaim() store.FastClaim
	// Dispatch delivers rows just committed.
	Dispatch(ctx context.Context, rows []store.Delivery)
	// Backlog is how many rows wait for the fast path's workers.
	Backlog() int
}

// RunnerStore is what the Runner needs of the record.
type RunnerStore interface {
	ActiveBroadcasts(ctx context.Context, now time.Time) ([]store.Broadcast, error)
	WaitingChannels(ctx context.Context, id int64) ([]string, error)
	MaterializeRecipients(ctx context.Context, id int64, channel string, n int, claim store.FastClaim) ([]store.Delivery, int, error)
	FinishBroadcast(ctx context.Context, id int64) (bool, error)
}

// Sender is a channel's sending side (notify.Sender).
type Sender interface {
	Deliver(ctx context.Context, d bot.Delivery) (int, error)
}

// Runner sends the broadcasts of the record from this process: it starts
// scheduled ones when their time comes, and for each channel hands
// recipients to the outbox as the channel's shared rate allows. Every
// `regbot serve` process runs one; they share the work. Build it with
// NewRunner, run it with Start and Stop.
type Runner struct {
	cfg    Config
	svc    *Service
	st     RunnerStore
	outbox Outbox
	lim    Limiter
	log    *slog.Logger

	mu    sync.Mutex
	work  map[string][]int64 // channel → broadcasts with recipients waiting there
	lanes map[string]chan struct{}
	// paced are the identities whose broadcast message this process handed
	// to the outbox with a send of the rate already taken (by channel and
	// user id): Pace lets it through without taking another.
	paced map[string]time.Time
	// held is, by channel, until when this process sends no broadcast
	// message (a platform's retry_after it was told).
	held map[string]time.Time

	quit    chan struct{}
	done    sync.WaitGroup
	started bool
	stopped bool
}

// NewRunner returns a Runner. lim may be nil when no channel is limited.
// It does no I/O.
func NewRunner(cfg Config, svc *Service, st RunnerStore, outbox Outbox, lim Limiter, log *slog.Logger) (*Runner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, svc: svc, st: st, outbox: outbox, lim: lim, log: log,
		work: map[string][]int64{}, lanes: map[string]chan struct{}{}, paced: map[string]time.Time{},
		held: map[string]time.Time{}, quit: make(chan struct{})}, nil
}

// Start runs the runner until Stop.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.stopped {
		return errors.New("broadcasts: runner already started")
	}
	r.started = true
	r.done.Add(1)
	go r.loop(context.WithoutCancel(ctx))
	return nil
}

// Stop stops handing recipients to the outbox and waits for the batch
// under way. It is safe to call twice.
func (r *Runner) Stop() {
	r.mu.Lock()
	if r.stopped || !r.started {
		r.stopped = true
		r.mu.Unlock()
		return
	}
	r.stopped = true
	close(r.quit)
	r.mu.Unlock()
	r.done.Wait()
}

// loop looks at the record every PollInterval.
func (r *Runner) loop(ctx context.Context) {
	defer r.done.Done()
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if err := r.refresh(ctx); err != nil {
			r.log.Error("broadcasts: refresh", "err", err)
		}
		select {
		case <-t.C:
		case <-r.quit:
			return
		}
	}
}

// refresh starts the scheduled broadcasts that are due, finishes those
// with nothing left, and tells each channel's lane what it has to send.
func (r *Runner) refresh(ctx context.Context) error {
	active, err := r.st.ActiveBroadcasts(ctx, time.Now())
	if err != nil {
		return err
	}
	work := map[string][]int64{}
	for _, b := range active {
		if b.State == store.BroadcastScheduled {
			err := r.svc.start(ctx, b)
			switch {
			case errors.Is(err, store.ErrConflict):
				continue // another process started it
			case err != nil:
				r.log.Error("broadcasts: start", "broadcast", b.ID, "err", err)
				continue
			}
			r.log.Info("broadcast started", "broadcast", b.ID)
		}
		channels, err := r.st.WaitingChannels(ctx, b.ID)
		if err != nil {
			return err
		}
		if len(channels) == 0 {
			if done, err := r.st.FinishBroadcast(ctx, b.ID); err != nil {
				return err
			} else if done {
				r.log.Info("broadcast done", "broadcast", b.ID)
			}
			continue
		}
		for _, ch := range channels {
			work[ch] = append(work[ch], b.ID)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.work = work
	for ch := range work {
		wake, ok := r.lanes[ch]
		if !ok {
			wake = make(chan struct{}, r.cfg.Workers)
			r.lanes[ch] = wake
			for i := range r.cfg.Workers {
				r.done.Add(1)
				go r.lane(ctx, ch, wake, i)
			}
		}
		for range r.cfg.Workers {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
	for k, at := range r.paced {
		if time.Since(at) > 5*time.Minute {
			delete(r.paced, k)
		}
	}
	return nil
}

// next is the broadcast a channel's lane sends for now (round robin over
// the active ones), or 0.
func (r *Runner) next(channel string, turn int) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.work[channel]
	if len(ids) == 0 {
		return 0
	}
	return ids[turn%len(ids)]
}

// exhausted drops id from channel's work until the next refresh.
func (r *Runner) exhausted(channel string, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.work[channel]
	for i, x := range ids {
		if x == id {
			r.work[channel] = append(ids[:i:i], ids[i+1:]...)
			return
		}
	}
}

// rateKey is the channel's bucket of broadcast sends.
func rateKey(channel string) string { return "broadcast:" + channel }

// lane hands channel's waiting recipients to the outbox, a batch at a
// time, each batch as large as the sends the channel's rate grants.
// Workers lanes run per channel; first is where this one starts the round
// robin over the channel's broadcasts.
func (r *Runner) lane(ctx context.Context, channel string, wake <-chan struct{}, first int) {
	defer r.done.Done()
	interval := r.cfg.interval(channel)
	for turn := first; ; turn++ {
		id := r.next(channel, turn)
		if id == 0 {
			select {
			case <-wake:
				continue
			case <-r.quit:
				return
			}
		}
		want := min(r.cfg.Batch, (r.cfg.MaxBacklog-r.outbox.Backlog())/r.cfg.Workers)
		if want < 1 {
			if !r.sleep(10 * time.Millisecond) {
				return
			}
			continue
		}
		if interval > 0 && r.lim != nil {
			granted, wait, err := r.lim.TakeRate(ctx, rateKey(channel), interval, r.cfg.Burst, want)
			if err != nil {
				r.log.Error("broadcasts: rate", "channel", channel, "err", err)
				wait = time.Second
			}
			if granted == 0 {
				if !r.sleep(min(max(wait, time.Millisecond), time.Second)) {
					return
				}
				continue
			}
			want = granted
		}
		rows, picked, err := r.st.MaterializeRecipients(ctx, id, channel, want, r.outbox.FastClaim())
		if err != nil {
			r.log.Error("broadcasts: hand recipients to the outbox", "broadcast", id, "channel", channel, "err", err)
			if !r.sleep(time.Second) {
				return
			}
			continue
		}
		if picked < want {
			r.exhausted(channel, id)
		}
		if len(rows) == 0 {
			continue
		}
		r.mark(rows)
		r.outbox.Dispatch(ctx, rows)
	}
}

// sleep waits d; false when the runner stops meanwhile.
func (r *Runner) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.quit:
		return false
	}
}

// mark records rows as paced: their sends were granted by the rate.
func (r *Runner) mark(rows []store.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for _, d := range rows {
		r.paced[d.Identity.Key()] = now
	}
}

// unmark reports whether a broadcast message to id was paced by this
// process, and forgets it.
func (r *Runner) unmark(id store.Identity) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.paced[id.Key()]
	delete(r.paced, id.Key())
	return ok
}

// Pace wraps channel's Sender so that the channel's rate holds for every
// broadcast message, not only those the Runner hands over: a message sent
// by the queue (a retry, a row recovered after a crash) first takes a send
// of the shared rate. A platform's rate-limit answer (Telegram's 429
// retry_after) to any message holds the channel's broadcasts for as long
// as it asks, in every process.
func (r *Runner) Pace(channel string, s Sender) Sender {
	return &pacedSender{r: r, channel: channel, next: s}
}

type pacedSender struct {
	r       *Runner
	channel string
	next    Sender
}

// Deliver takes a send of the rate for a broadcast message the Runner did
// not pace, then sends; a rate-limit answer holds the channel's bucket.
func (p *pacedSender) Deliver(ctx context.Context, d bot.Delivery) (int, error) {
	interval := p.r.cfg.interval(p.channel)
	limited := interval > 0 && p.r.lim != nil
	if limited && d.Kind == store.OutBroadcast {
		if err := p.r.waitHold(ctx, p.channel); err != nil {
			return d.Done, err
		}
		if !p.r.unmark(store.Identity{Channel: p.channel, UserID: d.UserID}) {
			if err := p.r.wait(ctx, p.channel, interval); err != nil {
				return d.Done, err
			}
		}
	}
	done, err := p.next.Deliver(ctx, d)
	var rl *bot.RateLimitedError
	if limited && errors.As(err, &rl) {
		p.r.hold(p.channel, rl.RetryAfter)
		if herr := p.r.lim.HoldRate(context.WithoutCancel(ctx), rateKey(p.channel), interval, p.r.cfg.Burst, rl.RetryAfter); herr != nil {
			p.r.log.Error("broadcasts: hold the rate", "channel", p.channel, "err", herr)
		}
	}
	return done, err
}

// hold keeps this process from sending broadcast messages on channel for
// d; the shared bucket (HoldRate) keeps every process's Runner from
// granting more.
func (r *Runner) hold(channel string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until := time.Now().Add(d); until.After(r.held[channel]) {
		r.held[channel] = until
	}
}

// waitHold waits while channel is held: a message granted before the
// platform's 429 came waits for its retry_after too.
func (r *Runner) waitHold(ctx context.Context, channel string) error {
	r.mu.Lock()
	until := r.held[channel]
	r.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait takes one send of channel's rate, waiting for it.
func (r *Runner) wait(ctx context.Context, channel string, interval time.Duration) error {
	for {
		granted, wait, err := r.lim.TakeRate(ctx, rateKey(channel), interval, r.cfg.Burst, 1)
		if err != nil {
			return err
		}
		if granted > 0 {
			return nil
		}
		t := time.NewTimer(min(max(wait, time.Millisecond), time.Second))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
