// Package postgres is the record on PostgreSQL (pgx v5): candidates and their
// channel identities, applications with their answers and session snapshot,
// work history, documents, status events, tickets, broadcasts and deliveries,
// staff users, and every inbound message. The schema is versioned SQL in
// migrations/, embedded in the binary and applied with tern (Migrate).
//
// The code is split by aggregate: applications.go, documents.go,
// tickets.go, status.go, inbound.go; turns.go writes one turn across them in
// one transaction.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/store"
	"regbot/store/seal"
)

// Store is the record on a PostgreSQL pool. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// keys seal personal data at rest (nil: nothing is sealed); sensitive
	// are the answer keys sealed (nil: defaultSensitive).
	keys      *seal.Keys
	sensitive []string
	// resealPage is how many rows Reseal reads and writes at a time (one
	// round trip each way).
	resealPage int
}

// New returns a Store on pool. It does not touch the network.
func New(pool *pgxpool.Pool, opts ...Option) *Store {
	s := &Store{pool: pool, resealPage: defaultResealPage}
	for _, o := range opts {
		o(s)
	}
	return s
}

// querier is what a statement runs on: the pool, or the transaction of a
// Serial call.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// serialTx is the context key of a Serial call's transaction.
type serialTx struct{ s *Store }

// db is the transaction of the Serial call ctx is in, or the pool.
func (s *Store) db(ctx context.Context) querier {
	if tx, ok := ctx.Value(serialTx{s}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
}

// Serial runs fn in one transaction that holds id's advisory lock
// (pg_advisory_xact_lock): calls for one identity run one at a time, in
// the order PostgreSQL grants the lock, across processes. What fn records
// through this Store with the ctx it is given (RecordTurn, Resume, Reply)
// is part of that transaction, committed when fn returns nil and rolled
// back otherwise. It is the turn's lock when Redis is down.
func (s *Store) Serial(ctx context.Context, id store.Identity, fn func(ctx context.Context) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("serial: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 7301))`, id.Key()); err != nil {
		return fmt.Errorf("serial: lock: %w", err)
	}
	if err := fn(context.WithValue(ctx, serialTx{s}, tx)); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("serial: commit: %w", translate(err))
	}
	return nil
}

// NewPool returns a pool for the connection URL (postgres://…, or key=value
// pairs) without connecting. maxConns 0 keeps pgx's default; tracer, when
// given, sees every query and batch (the benchmarks count them).
func NewPool(ctx context.Context, url string, maxConns int32, tracer ...pgx.QueryTracer) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the whole URL, password included.
		return nil, errors.New("database url: cannot be parsed (expected postgres://user@host:port/db?options)")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if len(tracer) > 0 {
		cfg.ConnConfig.Tracer = tracer[0]
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	return pool, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres ping: %w", err)
	}
	return nil
}

// translate maps pgx errors to the store's: no rows is store.ErrNotFound, a
// unique violation store.ErrConflict, the status machine's refusals a
// *store.TransitionError or store.ErrReasonRequired. Others pass unchanged.
func translate(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case pgErr.Code == "23505":
		return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.ConstraintName)
	case pgErr.Code == "23514" && pgErr.ConstraintName == "status_transition":
		from, to, _ := strings.Cut(pgErr.Detail, ">")
		return &store.TransitionError{From: store.Status(from), To: store.Status(to)}
	case pgErr.Code == "23514" && pgErr.ConstraintName == "status_events_rejected_reason":
		return store.ErrReasonRequired
	case pgErr.Code == seqConflict:
		return store.ErrStale
	case refusedData(pgErr.Code):
		return fmt.Errorf("%w: %w", store.ErrRefused, err)
	}
	return err
}

// refusedData reports whether a SQLSTATE says the data of a statement is
// refused (and would be again): class 22 (data exception: NUL in text,
// invalid encoding, a value out of range), 23 (integrity: a constraint the
// data breaks; 23505 is a conflict, translated before), 54 (a program limit:
// a value too large for an index row). Connection, resource and
// serialisation failures are transient and left as they are.
func refusedData(code string) bool {
	return strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23") || strings.HasPrefix(code, "54")
}
