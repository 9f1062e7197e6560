// Package bot connects the channels to the dialog engine. Each channel adapter
// (bot/wechat, bot/telegram, bot/web, bot/console) turns its platform's traffic
// into a dialogs.Inbound and hands it to a Router, which drops retried
// deliveries, serialises each candidate's messages, runs the engine, writes
// what the turn changed to the record and returns the bot's messages.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Sessions keeps the fast copy of each candidate's session (Redis, or memory).
type Sessions interface {
	// LoadSession returns the session bytes and their revision, or
	// store.ErrNotFound.
	LoadSession(ctx context.Context, id store.Identity) (data []byte, rev int64, err error)
	// SaveSession stores data if the stored revision is still rev (0: no
	// session yet) and returns the new revision; store.ErrConflict otherwise.
	SaveSession(ctx context.Context, id store.Identity, data []byte, rev int64) (int64, error)
}

// Deduper remembers platform message ids so that a retried delivery is
// handled once.
type Deduper interface {
	// FirstDelivery reports whether key is seen for the first time within ttl.
	FirstDelivery(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// ForgetDelivery forgets key after its turn failed, so that the
	// platform's retry is handled rather than dropped.
	ForgetDelivery(ctx context.Context, key string) error
}

// Locker serialises one candidate's messages: a second message waits until
// the first is handled, and waiters go in arrival order.
type Locker interface {
	LockUser(ctx context.Context, id store.Identity) (unlock func(), err error)
}

// Record is the durable record of what candidates said (PostgreSQL, or memory).
type Record interface {
	// RecordTurn writes what one turn changed, atomically.
	RecordTurn(ctx context.Context, t store.Turn) error
	// LatestSession returns the last session snapshot recorded for id, or
	// store.ErrNotFound.
	LatestSession(ctx context.Context, id store.Identity) ([]byte, error)
}

// Deps are the stores a Router uses.
type Deps struct {
	Sessions Sessions
	Deduper  Deduper
	Locker   Locker
	Record   Record
}

// Router runs candidate messages through the engine. It is safe for
// concurrent use; all state lives in the stores.
type Router struct {
	engine *dialogs.Engine
	deps   Deps
	log    *slog.Logger
	// DedupTTL is how long a message id is remembered.
	dedupTTL time.Duration
	observe  func(Observation)
}

// Observation is what the Router reports about each message, for metrics.
type Observation struct {
	Channel   string
	Duplicate bool
	Err       error
	Duration  time.Duration
	Recovered bool
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithObserver reports every handled message to fn (metrics).
func WithObserver(fn func(Observation)) RouterOption { return func(r *Router) { r.observe = fn } }

// WithDedupTTL sets how long message ids are remembered (default 24h).
func WithDedupTTL(d time.Duration) RouterOption { return func(r *Router) { r.dedupTTL = d } }

// NewRouter returns a Router over engine and the stores in deps.
func NewRouter(engine *dialogs.Engine, deps Deps, log *slog.Logger, opts ...RouterOption) *Router {
	r := &Router{engine: engine, deps: deps, log: log, dedupTTL: 24 * time.Hour, observe: func(Observation) {}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// ErrDuplicate is returned by Handle for a message id already handled.
var ErrDuplicate = errors.New("duplicate delivery")

// Engine returns the engine the router runs.
func (r *Router) Engine() *dialogs.Engine { return r.engine }

// Handle runs one inbound message: it returns ErrDuplicate for a retried
// delivery, otherwise the bot's messages, after the turn is recorded.
func (r *Router) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	start := time.Now()
	obs := Observation{Channel: in.Channel}
	defer func() {
		obs.Duration = time.Since(start)
		r.observe(obs)
	}()
	id := in.Identity()
	if in.MsgID != "" {
		first, err := r.deps.Deduper.FirstDelivery(ctx, dedupKey(in), r.dedupTTL)
		if err != nil {
			obs.Err = err
			return dialogs.Result{}, fmt.Errorf("dedup: %w", err)
		}
		if !first {
			obs.Duplicate = true
			return dialogs.Result{}, ErrDuplicate
		}
	}
	unlock, err := r.deps.Locker.LockUser(ctx, id)
	if err != nil {
		obs.Err = err
		return dialogs.Result{}, fmt.Errorf("lock user: %w", err)
	}
	defer unlock()

	res, recovered, err := r.turn(ctx, in)
	obs.Recovered = recovered
	if errors.Is(err, ErrDuplicate) {
		obs.Duplicate = true
		return dialogs.Result{}, err
	}
	obs.Err = err
	if err != nil && in.MsgID != "" {
		// Nothing of the turn was recorded: let a redelivery run it.
		if ferr := r.deps.Deduper.ForgetDelivery(context.WithoutCancel(ctx), dedupKey(in)); ferr != nil {
			r.log.Error("forget failed delivery", "channel", in.Channel, "err", ferr)
		}
	}
	return res, err
}

func (r *Router) turn(ctx context.Context, in dialogs.Inbound) (dialogs.Result, bool, error) {
	id := in.Identity()
	sess, rev, recovered, err := r.load(ctx, id)
	if err != nil {
		return dialogs.Result{}, false, err
	}
	res, err := r.engine.Handle(ctx, sess, in)
	if err != nil {
		return dialogs.Result{}, recovered, fmt.Errorf("engine: %w", err)
	}
	data, err := sess.Marshal()
	if err != nil {
		return dialogs.Result{}, recovered, err
	}
	turn := r.engine.TurnRecord(sess, in, res)
	turn.Session = data
	switch err := r.deps.Record.RecordTurn(ctx, turn); {
	case errors.Is(err, store.ErrConflict):
		// The record already has this message id: a retry that the fast
		// de-duplication missed (Redis lost the key). Nothing changes.
		return dialogs.Result{}, recovered, ErrDuplicate
	case err != nil:
		return dialogs.Result{}, recovered, fmt.Errorf("record turn: %w", err)
	}
	if _, err := r.deps.Sessions.SaveSession(ctx, id, data, rev); err != nil {
		// The record already holds the turn and the candidate gets the
		// answer; the fast copy is rebuilt from the record once Redis lost it.
		r.log.Error("save session", "channel", id.Channel, "err", err)
	}
	return res, recovered, nil
}

// load returns the candidate's session: the fast copy, else the last recorded
// snapshot (Redis lost it), else a new session.
func (r *Router) load(ctx context.Context, id store.Identity) (*dialogs.Session, int64, bool, error) {
	data, rev, err := r.deps.Sessions.LoadSession(ctx, id)
	switch {
	case err == nil:
		s, err := r.engine.Unmarshal(data)
		if err == nil {
			return s, rev, false, nil
		}
		r.log.Warn("stored session unreadable; rebuilding from the record", "err", err)
	case !errors.Is(err, store.ErrNotFound):
		return nil, 0, false, fmt.Errorf("load session: %w", err)
	}
	snap, err := r.deps.Record.LatestSession(ctx, id)
	switch {
	case err == nil:
		s, err := r.engine.Unmarshal(snap)
		if err != nil {
			return nil, 0, false, fmt.Errorf("recorded session: %w", err)
		}
		return s, rev, true, nil
	case errors.Is(err, store.ErrNotFound):
		return r.engine.NewSession(id), rev, false, nil
	default:
		return nil, 0, false, fmt.Errorf("load recorded session: %w", err)
	}
}

func dedupKey(in dialogs.Inbound) string { return in.Channel + ":" + in.MsgID }
