// Package bot connects the channels to the dialog engine. Each channel adapter
// (bot/wechat, bot/telegram, bot/web, bot/console) turns its platform's traffic
// into a dialogs.Inbound and hands it to a Router, which drops retried
// deliveries, serialises each candidate's messages, runs the engine, writes
// what the turn changed to the record and returns the bot's messages.
//
// A turn is two calls to the fast path (Redis: claim the message, check the
// rate limit, take the candidate's turn, get the session; then save the
// session, mark the message done, pass the turn on) and one batch to the
// record (PostgreSQL), as docs/turns.md describes. When the fast path fails
// the Router runs turns on the record alone (degraded mode) until it answers
// again.
package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Fast is a turn's fast path (store/redis, or store/memory): Begin, then
// Finish or Abort; one round trip each while the candidate has no other
// message in line.
type Fast interface {
	// Begin claims the message id, takes a token from the identity's rate
	// limit, waits for the identity's turn in arrival order and returns
	// the cached session.
	Begin(ctx context.Context, req store.BeginRequest) (store.Begun, error)
	// Finish saves the session, marks the message done with its reply and
	// passes the identity's turn on.
	Finish(ctx context.Context, req store.BeginRequest, b store.Begun, f store.Finish) error
	// Abort releases the message id and passes the identity's turn on.
	Abort(ctx context.Context, req store.BeginRequest, b store.Begun) error
}

// Record is the durable record of what candidates said (PostgreSQL, or
// memory).
type Record interface {
	// RecordTurn writes what one turn changed, atomically, and fills in
	// the ids and seq the record assigned. A recorded message id is
	// store.ErrConflict, a stale Seq store.ErrStale.
	RecordTurn(ctx context.Context, t *store.Turn) error
	// Resume returns the recorded session of id on plan, its seq and ids,
	// or store.ErrNotFound.
	Resume(ctx context.Context, id store.Identity, planID string) (store.Cached, error)
	// Reply returns what the bot answered a recorded message and how many
	// of those messages left inline, or store.ErrNotFound.
	Reply(ctx context.Context, id store.Identity, msgID string) ([]byte, int, error)
	// Serial runs fn with id's turns serialised by the record (the turn's
	// lock while the fast path is down); what fn records with its ctx is
	// one transaction.
	Serial(ctx context.Context, id store.Identity, fn func(ctx context.Context) error) error
}

// Dispatcher delivers what a turn queued in the outbox: notify.Notifier
// implements it. The turn inserts its outbox rows with the Dispatcher's
// fast-path claim, in the turn's batch; once the turn is recorded the
// Router hands the rows over, still within the identity's turn, so the
// calls for one identity come in turn order.
type Dispatcher interface {
	// FastClaim is the claim the turn's outbox rows are inserted with.
	FastClaim() store.FastClaim
	// Dispatch takes the rows a recorded turn queued (ClaimedUntil set on
	// those the claim holds) and delivers them; it must not wait for the
	// delivery.
	Dispatch(ctx context.Context, rows []store.Delivery)
}

// Split says, for one channel, which of a turn's messages leave in the HTTP
// response to the platform (inline, returned by Handle) and which go to the
// outbox (rest, delivered by the Dispatcher after the turn is recorded).
// The default sends everything inline. A split may reshape messages (the
// WeChat passive reply takes the first text, cut to the platform's limit).
type Split func(msgs []dialogs.Outbound) (inline, rest []dialogs.Outbound)

// Deps are the stores a Router uses.
type Deps struct {
	Fast   Fast
	Record Record
	// Dispatcher delivers the outbox rows (nil: rows stay queued, unclaimed,
	// for the outbox's queue).
	Dispatcher Dispatcher
}

// Router runs candidate messages through the engine. It is safe for
// concurrent use; all state lives in the stores.
type Router struct {
	engine  *dialogs.Engine
	deps    Deps
	log     *slog.Logger
	observe func(Observation)
	splits  map[string]Split
	// rate and burst are every candidate's token bucket (rate 0: none).
	rate  float64
	burst int
	// probeEvery is how often a degraded Router asks the fast path whether
	// it is back.
	probeEvery time.Duration

	degraded  atomic.Bool
	probeMu   sync.Mutex
	lastProbe time.Time
	// local limits candidates in degraded mode (the fast path's buckets are
	// out of reach).
	local localLimiter
}

// Observation is what the Router reports about each message, for metrics.
type Observation struct {
	Channel   string
	Duplicate bool
	Err       error
	Duration  time.Duration
	Recovered bool
	// Limited is set for a message over the candidate's rate limit:
	// recorded, not run.
	Limited bool
	// Degraded is set for a turn run without the fast path.
	Degraded bool
	// Stale counts the times the turn ran again because its session was
	// older than the record.
	Stale int
	// Failed is set for a message whose turn failed for good: recorded as
	// failed and answered with one apology.
	Failed bool
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithObserver reports every handled message to fn (metrics).
func WithObserver(fn func(Observation)) RouterOption { return func(r *Router) { r.observe = fn } }

// WithSplit sets the split of channel's messages between the HTTP response
// and the outbox.
func WithSplit(channel string, s Split) RouterOption {
	return func(r *Router) { r.splits[channel] = s }
}

// WithUserRate limits each candidate to rate messages a second with bursts
// of burst (default none). A message over the limit is recorded but not run;
// the first of a run of them is answered with the plan's slow_down text.
func WithUserRate(rate float64, burst int) RouterOption {
	return func(r *Router) { r.rate, r.burst = rate, burst }
}

// NewRouter returns a Router over engine and the stores in deps.
func NewRouter(engine *dialogs.Engine, deps Deps, log *slog.Logger, opts ...RouterOption) *Router {
	r := &Router{engine: engine, deps: deps, log: log, observe: func(Observation) {}, splits: map[string]Split{},
		probeEvery: time.Second}
	for _, o := range opts {
		o(r)
	}
	r.local.buckets = map[string]*localBucket{}
	return r
}

// ErrDuplicate is returned by Handle for a message id already handled, with
// the messages its turn answered inline (the reply to give the platform's
// retry again; none when everything went by the outbox), and, as
// ErrInFlight, for one being handled right now.
var ErrDuplicate = errors.New("duplicate delivery")

// ErrInFlight is returned by Handle for a message id whose turn is running
// right now (a retry that came early). It matches ErrDuplicate.
var ErrInFlight = fmt.Errorf("%w: in flight", ErrDuplicate)

type replyByKey struct{}

// WithReplyBy tells the Router that the platform stops waiting for the HTTP
// response at t: a turn recorded later sends its whole reply by the outbox
// (and Handle returns no inline messages).
func WithReplyBy(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, replyByKey{}, t)
}

// maxStaleRuns bounds how often one turn runs again on a newer record.
const maxStaleRuns = 3

// Engine returns the engine the router runs.
func (r *Router) Engine() *dialogs.Engine { return r.engine }

// Degraded reports whether turns run without the fast path (Redis down).
func (r *Router) Degraded() bool { return r.degraded.Load() }

// Handle runs one inbound message: the bot's inline messages, after the turn
// is recorded; ErrDuplicate (with the stored inline reply) for a retried
// delivery.
func (r *Router) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	start := time.Now()
	obs := Observation{Channel: in.Channel}
	res, err := r.handle(ctx, in, &obs)
	obs.Duration = time.Since(start)
	if errors.Is(err, ErrDuplicate) {
		obs.Duplicate = true
		r.log.Debug("duplicate delivery dropped", "channel", in.Channel, "in_flight", errors.Is(err, ErrInFlight))
	} else {
		obs.Err = err
	}
	r.observe(obs)
	return res, err
}

func (r *Router) handle(ctx context.Context, in dialogs.Inbound, obs *Observation) (dialogs.Result, error) {
	tooLong, err := r.cleanInbound(&in)
	if err != nil {
		return dialogs.Result{}, err
	}
	req := store.BeginRequest{Identity: in.Identity(), MsgID: in.MsgID}
	if in.System == nil {
		req.Rate, req.Burst = r.rate, r.burst
	}
	if r.degraded.Load() && !r.probe(ctx) {
		return r.serialOrFailed(ctx, in, req, tooLong, obs)
	}
	b, err := r.begin(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return dialogs.Result{}, fmt.Errorf("begin turn: %w", err)
		}
		r.enterDegraded(err)
		return r.serialOrFailed(ctx, in, req, tooLong, obs)
	}
	switch b.State {
	case store.BeginDone:
		msgs, derr := decodeReply(b.Reply)
		if derr != nil {
			r.log.Warn("stored reply unreadable", "channel", in.Channel, "err", derr)
		}
		return dialogs.Result{Messages: msgs}, ErrDuplicate
	case store.BeginBusy:
		return dialogs.Result{}, ErrInFlight
	}
	obs.Limited = b.State == store.BeginLimited
	out, err := r.run(ctx, in, b.Cached, r.hold(tooLong, obs.Limited, b.Notify), obs)
	if err != nil && permanent(err) && in.System == nil {
		out, err = r.recordFailed(ctx, in, b.Cached, err, obs)
	}
	if err != nil {
		if aerr := r.deps.Fast.Abort(context.WithoutCancel(ctx), req, b); aerr != nil {
			r.log.Warn("abort turn", "channel", in.Channel, "err", aerr)
		}
		return out.res, err
	}
	r.dispatch(ctx, out)
	fin := store.Finish{Reply: out.reply}
	if out.save {
		fin.Session = &out.cached
	}
	if err := r.deps.Fast.Finish(ctx, req, b, fin); err != nil {
		// The record holds the turn and the candidate gets the answer; the
		// fast path heals: an expired lease passes the turn on, and the
		// record's seq catches a stale cached session. Redis went away
		// during the turn: the next turns run without it.
		r.enterDegraded(err)
	}
	return out.res, nil
}

// busyPoll is how often a retry asks again about a message whose turn is in
// flight elsewhere.
const busyPoll = 50 * time.Millisecond

// begin is Fast.Begin, waiting while the message's turn is in flight
// elsewhere: the retry then gets that turn's reply when it is recorded, or
// takes the message over when its owner died (its lease ran out). It gives
// up with BeginBusy when ctx ends first.
func (r *Router) begin(ctx context.Context, req store.BeginRequest) (store.Begun, error) {
	for {
		b, err := r.deps.Fast.Begin(ctx, req)
		if err != nil || b.State != store.BeginBusy {
			return b, err
		}
		t := time.NewTimer(busyPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return b, nil
		case <-t.C:
		}
	}
}

// recordFailed records a message whose turn failed for good (cause) as
// failed, with one apology, so that the platform stops retrying it. When
// even that is refused the apology is answered without a record.
func (r *Router) recordFailed(ctx context.Context, in dialogs.Inbound, cached store.Cached, cause error, obs *Observation) (turnOut, error) {
	obs.Failed = true
	r.log.Error("turn failed for good; the message is recorded as failed", "channel", in.Channel, "err", cause)
	out, err := r.run(ctx, in, cached, r.failedHold(), obs)
	if err != nil && permanent(err) {
		r.log.Error("failed message not recorded", "channel", in.Channel, "err", err)
		return turnOut{res: dialogs.Result{Messages: r.failedHold().reply}}, nil
	}
	return out, err
}

// serialOrFailed is serial, then serial again to record the message as
// failed when its turn failed for good.
func (r *Router) serialOrFailed(ctx context.Context, in dialogs.Inbound, req store.BeginRequest, tooLong bool, obs *Observation) (dialogs.Result, error) {
	res, err := r.serial(ctx, in, req, held{}, tooLong, obs)
	if err == nil || !permanent(err) || in.System != nil {
		return res, err
	}
	obs.Failed = true
	r.log.Error("turn failed for good; the message is recorded as failed", "channel", in.Channel, "err", err)
	res, err = r.serial(ctx, in, req, r.failedHold(), false, obs)
	if err != nil && permanent(err) {
		r.log.Error("failed message not recorded", "channel", in.Channel, "err", err)
		return dialogs.Result{Messages: r.failedHold().reply}, nil
	}
	return res, err
}

// serial runs the turn on the record alone: the record's lock for the
// identity's turn, its message ids for duplicates, its snapshot for the
// session, a per-process rate limit. A hold that is on (a failed message)
// takes the place of the rate limit.
func (r *Router) serial(ctx context.Context, in dialogs.Inbound, req store.BeginRequest, h held, tooLong bool, obs *Observation) (dialogs.Result, error) {
	obs.Degraded = true
	var out turnOut
	err := r.deps.Record.Serial(ctx, req.Identity, func(ctx context.Context) error {
		if in.MsgID != "" {
			reply, inline, err := r.deps.Record.Reply(ctx, req.Identity, in.MsgID)
			switch {
			case err == nil:
				out.res.Messages = inlineOf(reply, inline)
				return ErrDuplicate
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("recorded reply: %w", err)
			}
		}
		cached, err := r.deps.Record.Resume(ctx, req.Identity, r.engine.Plan().ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("resume: %w", err)
		}
		if !h.on {
			limited, notify := false, false
			if req.Rate > 0 {
				limited, notify = r.local.take(req.Identity.Key(), req.Rate, req.Burst, time.Now())
			}
			obs.Limited = limited
			h = r.hold(tooLong, limited, notify)
		}
		out, err = r.run(ctx, in, cached, h, obs)
		return err
	})
	if errors.Is(err, ErrDuplicate) {
		return out.res, err
	}
	if err != nil {
		return out.res, err
	}
	r.dispatch(ctx, out)
	return out.res, nil
}

// turnOut is what a recorded turn gives back.
type turnOut struct {
	res dialogs.Result
	// reply is the inline reply, encoded, for the done mark.
	reply []byte
	// cached is the session as recorded; save says the fast path's copy
	// must be replaced with it.
	cached store.Cached
	save   bool
	// rows are the outbox rows the turn queued.
	rows []store.Delivery
}

// run loads the session (the cached copy, else the record's), runs the
// engine and records the turn; a stale session is reloaded from the record
// and the turn run again.
func (r *Router) run(ctx context.Context, in dialogs.Inbound, cached store.Cached, h held, obs *Observation) (turnOut, error) {
	id := in.Identity()
	fromRecord := false
	if cached.Data == nil || cached.ApplicationID == 0 {
		c, err := r.deps.Record.Resume(ctx, id, r.engine.Plan().ID)
		switch {
		case err == nil:
			cached, fromRecord = c, true
			obs.Recovered = c.Data != nil
		case errors.Is(err, store.ErrNotFound):
			cached = store.Cached{}
		default:
			return turnOut{}, fmt.Errorf("resume: %w", err)
		}
	}
	for runs := 1; ; runs++ {
		out, err := r.once(ctx, in, cached, fromRecord, h)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, store.ErrStale) && runs < maxStaleRuns:
			obs.Stale++
			c, rerr := r.deps.Record.Resume(ctx, id, r.engine.Plan().ID)
			if rerr != nil && !errors.Is(rerr, store.ErrNotFound) {
				return turnOut{}, fmt.Errorf("resume after a stale session: %w", rerr)
			}
			cached, fromRecord = c, true
		case errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrStale):
			// The record already has this message id: a retry that the fast
			// path missed (Redis lost the key). Nothing changes; the retry
			// gets the recorded reply.
			reply, inline, rerr := r.deps.Record.Reply(ctx, id, in.MsgID)
			if rerr != nil {
				r.log.Warn("recorded reply of a duplicate", "channel", id.Channel, "err", rerr)
			}
			return turnOut{res: dialogs.Result{Messages: inlineOf(reply, inline)}}, ErrDuplicate
		default:
			return turnOut{}, err
		}
	}
}

// once runs the turn once on cached and records it.
func (r *Router) once(ctx context.Context, in dialogs.Inbound, cached store.Cached, fromRecord bool, h held) (turnOut, error) {
	id := in.Identity()
	var sess *dialogs.Session
	if cached.Data != nil {
		s, err := r.engine.Unmarshal(cached.Data)
		if err != nil {
			if fromRecord {
				return turnOut{}, fmt.Errorf("recorded session: %w", err)
			}
			// An unreadable cached copy: the record's is the truth.
			r.log.Warn("cached session unreadable; taking the record's", "channel", id.Channel, "err", err)
			return turnOut{}, store.ErrStale
		}
		sess = s
	} else {
		sess = r.engine.NewSession(id)
	}
	answers, condition := cloneAnswers(sess.Answers), sess.Condition
	work := slices.Clone(sess.Work)

	var res dialogs.Result
	if h.on {
		// Over the rate limit, too long, failed: recorded as said, not run.
		res.Messages = h.reply
	} else {
		var err error
		if res, err = r.handleEngine(func() (dialogs.Result, error) { return r.engine.Handle(ctx, sess, in) }); err != nil {
			return turnOut{}, fmt.Errorf("engine: %w", err)
		}
	}
	turn := r.engine.TurnRecord(sess, in, res)
	turn.Failed = h.failed
	turn.CandidateID, turn.ApplicationID, turn.Seq = cached.CandidateID, cached.ApplicationID, cached.Seq
	turn.Fresh = cached.ApplicationID == 0
	data := cached.Data
	if !h.on {
		var err error
		if data, err = sess.Marshal(); err != nil {
			return turnOut{}, err
		}
	}
	if turn.Fresh || !bytes.Equal(data, cached.Data) {
		turn.Session = data
	}
	turn.KeepAnswers = !turn.Fresh && condition == sess.Condition && equalAnswers(answers, sess.Answers)
	turn.KeepWork = !turn.Fresh && slices.Equal(work, sess.Work)
	if in.System != nil && turn.Inbound == "" {
		// The system row keeps the turn's message id; it names the actor.
		turn.Inbound = r.engine.InboundRecord(in, "")
	}

	inline, rest := res.Messages, []dialogs.Outbound(nil)
	if by, ok := ctx.Value(replyByKey{}).(time.Time); in.System != nil || (ok && time.Now().After(by)) {
		inline, rest = nil, res.Messages
	} else if split := r.splits[in.Channel]; split != nil && len(res.Messages) > 0 {
		inline, rest = split(res.Messages)
	}
	// Each message is encoded once: the inline reply (the done mark), the
	// whole reply (the record) and the rest (the outbox) join them.
	var out turnOut
	inParts, inErr := encodeEach(inline)
	restParts, restErr := encodeEach(rest)
	out.reply = dialogs.JoinEncoded(inParts...)
	if inErr != nil {
		r.log.Error("turn reply not kept", "channel", id.Channel, "err", inErr)
	}
	turn.Reply, turn.ReplyInline = out.reply, len(inline)
	if len(rest) > 0 {
		turn.Reply = dialogs.JoinEncoded(slices.Concat(inParts, restParts)...)
		if inErr == nil && restErr != nil {
			r.log.Error("turn reply not kept", "channel", id.Channel, "err", restErr)
		}
		if restErr != nil {
			return turnOut{}, fmt.Errorf("outbox: %w", restErr)
		}
		payload := dialogs.JoinEncoded(restParts...)
		kind := store.OutReply
		if in.System != nil {
			kind = store.OutNotification
		}
		// The reply's rest first: the engine's own outbox messages (a
		// notification, a reminder) come after what the turn answered.
		o := store.Outgoing{Identity: id, Kind: kind, Payload: payload}
		if restErr == nil {
			// What the payload decodes to: the deliverer reads it from here.
			o.Messages = withoutImageData(rest)
		}
		turn.Outbox = append([]store.Outgoing{o}, turn.Outbox...)
	}
	if r.deps.Dispatcher != nil {
		turn.Claim = r.deps.Dispatcher.FastClaim()
	}
	if err := r.deps.Record.RecordTurn(ctx, &turn); err != nil {
		return turnOut{}, fmt.Errorf("record turn: %w", err)
	}
	out.rows = turn.Rows
	out.res = dialogs.Result{Messages: inline, Events: res.Events, ImageRef: res.ImageRef}
	out.cached = store.Cached{Data: data, Seq: turn.Seq, CandidateID: turn.CandidateID, ApplicationID: turn.ApplicationID}
	out.save = fromRecord || turn.Session != nil || turn.Seq != cached.Seq
	return out, nil
}

// dispatch hands the turn's outbox rows to the Dispatcher.
func (r *Router) dispatch(ctx context.Context, out turnOut) {
	if r.deps.Dispatcher != nil && len(out.rows) > 0 {
		r.deps.Dispatcher.Dispatch(ctx, out.rows)
	}
}

// enterDegraded switches to turns on the record alone, logging once per
// outage.
func (r *Router) enterDegraded(err error) {
	r.probeMu.Lock()
	r.lastProbe = time.Now()
	r.probeMu.Unlock()
	if r.degraded.CompareAndSwap(false, true) {
		r.log.Error("fast path (redis) unavailable: turns run on PostgreSQL alone until it answers again", "err", err)
	}
}

// probe reports whether the fast path may be tried again: at most once per
// probeEvery while degraded, one turn tries it (and ends the outage when it
// answers).
func (r *Router) probe(ctx context.Context) bool {
	r.probeMu.Lock()
	defer r.probeMu.Unlock()
	if time.Since(r.lastProbe) < r.probeEvery {
		return false
	}
	r.lastProbe = time.Now()
	if p, ok := r.deps.Fast.(interface{ Ping(context.Context) error }); ok {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := p.Ping(pctx)
		cancel()
		if err != nil {
			return false
		}
	}
	if r.degraded.CompareAndSwap(true, false) {
		r.log.Info("fast path (redis) answers again: turns use it")
	}
	return true
}

// withoutImageData is msgs as DecodeMessages reads them back: images
// without their bytes (copies; msgs is left as it is).
func withoutImageData(msgs []dialogs.Outbound) []dialogs.Outbound {
	out := slices.Clone(msgs)
	for i, m := range out {
		if m.Image != nil && m.Image.Data != nil {
			img := *m.Image
			img.Data = nil
			out[i].Image = &img
		}
	}
	return out
}

// encodeEach encodes each message (dialogs.EncodeMessage) for the record:
// an image without a blob reference is kept by its name only, and the
// first such error returned with the parts. Any other error returns no
// parts: joined, a missing part would be invalid JSON in the record.
func encodeEach(msgs []dialogs.Outbound) ([][]byte, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	parts := make([][]byte, len(msgs))
	var first error
	for i, m := range msgs {
		data, err := dialogs.EncodeMessage(m)
		if errors.Is(err, dialogs.ErrImageWithoutRef) {
			m.Image = nil
			if data, err = dialogs.EncodeMessage(m); err == nil {
				err = dialogs.ErrImageWithoutRef
			}
		}
		if err != nil && !errors.Is(err, dialogs.ErrImageWithoutRef) {
			return nil, err
		}
		if err != nil && first == nil {
			first = err
		}
		parts[i] = data
	}
	return parts, first
}

func decodeReply(reply []byte) ([]dialogs.Outbound, error) {
	if len(reply) == 0 {
		return nil, nil
	}
	return dialogs.DecodeMessages(reply)
}

// inlineOf is the inline part of a recorded reply.
func inlineOf(reply []byte, inline int) []dialogs.Outbound {
	msgs, err := decodeReply(reply)
	if err != nil || inline > len(msgs) {
		return nil
	}
	return msgs[:inline]
}

func cloneAnswers(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// equalAnswers compares two answer maps (bool, float64 and string values,
// others by reflection).
func equalAnswers(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		switch v := v.(type) {
		case bool, float64, string, int, int64:
			if v != w {
				return false
			}
		default:
			if !reflect.DeepEqual(v, w) {
				return false
			}
		}
	}
	return true
}

// localLimiter is the per-process token buckets of degraded mode.
type localLimiter struct {
	mu      sync.Mutex
	buckets map[string]*localBucket
}

type localBucket struct {
	tokens float64
	at     time.Time
	told   bool
}

// take takes a token from key's bucket: limited when there was none,
// notify for the first refusal of a run of them.
func (l *localLimiter) take(key string, rate float64, burst int, now time.Time) (limited, notify bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= 100_000 {
			clear(l.buckets)
		}
		b = &localBucket{tokens: float64(burst), at: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		b.told = false
		return false, false
	}
	notify = !b.told
	b.told = true
	return true, notify
}
