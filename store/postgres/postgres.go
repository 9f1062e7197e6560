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
)

// Store is the record on a PostgreSQL pool. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool. It does not touch the network.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// NewPool returns a pool for the connection URL (postgres://…, or key=value
// pairs) without connecting. maxConns 0 keeps pgx's default.
func NewPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors quote the whole URL, password included.
		return nil, errors.New("database url: cannot be parsed (expected postgres://user@host:port/db?options)")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
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
	}
	return err
}
