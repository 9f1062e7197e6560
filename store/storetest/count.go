package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// RoundTrips counts what a test's clients send: Redis round trips (a
// command or a pipeline, through Hook), PostgreSQL round trips (a query or
// a batch, through Tracer) and the statements in them. The benchmarks
// report them per turn and TestRoundTripsPerTurn keeps them from growing.
type RoundTrips struct {
	redis, pg, statements atomic.Int64

	mu      sync.Mutex
	watches map[*watch]struct{}
}

// watch is a Watch in progress.
type watch struct {
	into  *RoundTrips
	match func(goredis.Cmder) bool
}

// Scope returns ctx marked so that the round trips made with it, and only
// those, are counted in r as well (r on its own, not a client's hook): a
// turn's own round trips, without what the process does meanwhile (the
// lock heartbeat, the outbox's flusher) or what opening a connection costs.
// Give the returned context to the call whose round trips are measured.
// Redis commands that run on a context of their own are not counted: see
// Watch.
func (r *RoundTrips) Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, r)
}

type scopeKey struct{}

// Watch counts in into, until stop is called, every Redis round trip
// through r's Hook that carries a command match accepts (one for a
// pipeline however many of its commands match). It finds a call's round
// trips where Scope cannot: go-redis's autopipeliner (the turn's scripts,
// store/redis) runs commands on a context of its own, and a round trip
// it sends may carry other callers' commands too.
func (r *RoundTrips) Watch(into *RoundTrips, match func(goredis.Cmder) bool) (stop func()) {
	w := &watch{into: into, match: match}
	r.mu.Lock()
	if r.watches == nil {
		r.watches = map[*watch]struct{}{}
	}
	r.watches[w] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.watches, w)
		r.mu.Unlock()
	}
}

// watched counts a round trip of cmds, made with ctx, in the watches that
// match one of them, unless Scope already counted it in the same place (a
// Store without the autopipeliner runs the scripts with the turn's
// context).
func (r *RoundTrips) watched(ctx context.Context, cmds ...goredis.Cmder) {
	sc := scoped(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.watches {
		if w.into == sc {
			continue
		}
		for _, c := range cmds {
			if w.match(c) {
				w.into.redis.Add(1)
				break
			}
		}
	}
}

// scoped is the RoundTrips ctx is scoped to, if any.
func scoped(ctx context.Context) *RoundTrips {
	r, _ := ctx.Value(scopeKey{}).(*RoundTrips)
	return r
}

// Counts is a reading of RoundTrips.
type Counts struct {
	Redis, PG, Statements int64
}

// Sub is c minus an earlier reading.
func (c Counts) Sub(o Counts) Counts {
	return Counts{Redis: c.Redis - o.Redis, PG: c.PG - o.PG, Statements: c.Statements - o.Statements}
}

// Read returns the counts so far.
func (r *RoundTrips) Read() Counts {
	return Counts{Redis: r.redis.Load(), PG: r.pg.Load(), Statements: r.statements.Load()}
}

// Hook is the go-redis hook that counts (rdb.AddHook(r.Hook())).
func (r *RoundTrips) Hook() goredis.Hook { return redisHook{r} }

// Tracer is the pgx tracer that counts (pgxpool config ConnConfig.Tracer).
func (r *RoundTrips) Tracer() pgx.QueryTracer { return pgTracer{r} }

type redisHook struct{ r *RoundTrips }

func (h redisHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h redisHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.r.redis.Add(1)
		if sc := scoped(ctx); sc != nil && !handshake(cmd) {
			sc.redis.Add(1)
		}
		h.r.watched(ctx, cmd)
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.r.redis.Add(1)
		if sc := scoped(ctx); sc != nil && (len(cmds) == 0 || !handshake(cmds[0])) {
			sc.redis.Add(1)
		}
		h.r.watched(ctx, cmds...)
		return next(ctx, cmds)
	}
}

// handshake tells the commands go-redis sends when it opens a connection
// (HELLO, then CLIENT SETINFO, AUTH, SELECT in a pipeline), with the
// context of the call that needed it. A scope leaves them out, as pgx's
// tracer never sees a connection's start-up.
func handshake(cmd goredis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select":
		return true
	case "client":
		return len(cmd.Args()) > 1 && strings.EqualFold(fmt.Sprint(cmd.Args()[1]), "setinfo")
	}
	return false
}

type pgTracer struct{ r *RoundTrips }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	for _, r := range []*RoundTrips{t.r, scoped(ctx)} {
		if r != nil {
			r.pg.Add(1)
			r.statements.Add(1)
		}
	}
	return ctx
}

func (t pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.r.pg.Add(1)
	if sc := scoped(ctx); sc != nil {
		sc.pg.Add(1)
	}
	return ctx
}

func (t pgTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	t.r.statements.Add(1)
	if sc := scoped(ctx); sc != nil {
		sc.statements.Add(1)
	}
}

func (t pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
