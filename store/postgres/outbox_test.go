package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestOutboxConformance runs the outbox suite on PostgreSQL, each test on a
// schema of its own.
func TestOutboxConformance(t *testing.T) {
	t.Parallel()
	storetest.RunOutbox(t, func(t *testing.T) storetest.OutboxStores {
		pool := newPool(t)
		pg := postgres.New(pool)
		return storetest.OutboxStores{Outbox: txOutbox{Store: pg, pool: pool}, Record: pg}
	})
}

// txOutbox runs the store's transactional hand-overs each in a transaction
// of its own, as the suite calls them.
type txOutbox struct {
	*postgres.Store
	pool *pgxpool.Pool
}

func (o txOutbox) QueueOutbox(ctx context.Context, msgs []store.Outgoing) (out []store.Delivery, err error) {
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		out, err = o.InsertOutboxTx(ctx, tx, msgs)
		return err
	})
	return out, err
}

func (o txOutbox) QueueDeliveries(ctx context.Context, owner string, ids []int64) (out []store.Queued, err error) {
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		out, err = o.QueueDeliveriesTx(ctx, tx, owner, ids)
		return err
	})
	return out, err
}

func (o txOutbox) QueueOrphans(ctx context.Context, limit int) (out []store.Queued, err error) {
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		out, err = o.QueueOrphansTx(ctx, tx, limit)
		return err
	})
	return out, err
}
