package storetest

import (
	"context"
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
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.r.redis.Add(1)
		return next(ctx, cmds)
	}
}

type pgTracer struct{ r *RoundTrips }

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.r.pg.Add(1)
	t.r.statements.Add(1)
	return ctx
}

func (t pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.r.pg.Add(1)
	return ctx
}

func (t pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	t.r.statements.Add(1)
}

func (t pgTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
