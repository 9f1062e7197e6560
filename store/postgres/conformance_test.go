package postgres_test

import (
	"context"
	"errors"
	"fmt"
	goredis "github.com/redis/go-redis/v9"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// TestConformance runs the suite on the production pair: PostgreSQL as the
// record, Redis as the fast path, each test on its own schema and key prefix.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		rdb, prefix := storetest.RedisPrefix(t)
		return stores(t, rdb, prefix)
	})
}

// stores are PostgreSQL on a fresh schema and Redis (rdb) under prefix.
func stores(t *testing.T, rdb goredis.UniversalClient, prefix string) storetest.Stores {
	pool := newPool(t)
	// As in production: personal data sealed under a record key.
	pg := postgres.New(pool, postgres.WithKeys(testKeys(t, 7)))
	rs, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	ob := txOutbox{Store: pg, pool: pool}
	return storetest.Stores{Fast: rs, Locker: rs, Limiter: rs, Record: pg, Inspect: inspector(pg),
		Queue: func(ctx context.Context, msgs []store.Outgoing) error {
			_, err := ob.QueueOutbox(ctx, msgs)
			return err
		},
		Outbox: func(ctx context.Context, id store.Identity) ([]store.Delivery, error) {
			app, err := pg.Application(ctx, id, "internet-marketing-l4")
			if err != nil {
				return nil, err
			}
			return pg.Deliveries(ctx, app.CandidateID, 0)
		}}
}

// newStore returns a Store on a fresh schema with the migrations applied.
func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	return postgres.New(newPool(t), postgres.WithKeys(testKeys(t, 7)))
}

// newPool returns a pool on a fresh schema with the migrations applied.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// poolAt returns a pool on a fresh schema migrated to version v only (the
// migration tests start from an older schema and write what the code of
// that time wrote).
func poolAt(t *testing.T, v int32) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.NewPool(context.Background(), storetest.PostgresURL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, to, err := postgres.MigrateTo(context.Background(), pool, v); err != nil || to != v {
		t.Fatalf("migrate to %d: %d %v", v, to, err)
	}
	return pool
}

// inspector reads the record back in the suite's form.
func inspector(pg *postgres.Store) func(ctx context.Context, id store.Identity, planID string) (storetest.Recorded, error) {
	return func(ctx context.Context, id store.Identity, planID string) (storetest.Recorded, error) {
		app, err := pg.Application(ctx, id, planID)
		if err != nil {
			return storetest.Recorded{}, err
		}
		rec := storetest.Recorded{Condition: app.Condition, Status: app.Status, Answers: app.Answers, WorkHistory: app.WorkHistory}
		events, err := pg.StatusEvents(ctx, id, planID)
		if err != nil {
			return rec, err
		}
		for _, e := range events {
			rec.StatusEvents = append(rec.StatusEvents, storetest.StatusChange{From: e.From, To: e.To, Actor: e.Actor, Reason: e.Reason})
		}
		docs, err := pg.Documents(ctx, id, planID)
		if err != nil {
			return rec, err
		}
		for _, d := range docs {
			rec.Documents = append(rec.Documents, storetest.RecordedDocument{Document: d.Document, Current: d.SupersededAt.IsZero()})
		}
		tickets, err := pg.Tickets(ctx, id)
		if err != nil {
			return rec, err
		}
		for _, tk := range tickets {
			rec.Tickets = append(rec.Tickets, storetest.RecordedTicket{Reason: tk.Reason, Text: tk.Text})
		}
		msgs, err := pg.InboundMessages(ctx, id)
		if err != nil {
			return rec, err
		}
		for _, msg := range msgs {
			rec.Inbound = append(rec.Inbound, storetest.RecordedMessage{MsgID: msg.MsgID, Text: msg.Text})
		}
		return rec, nil
	}
}

// TestSerialRollsBack: what a failed Serial call recorded is gone.
func TestSerialRollsBack(t *testing.T) {
	t.Parallel()
	pg := newStore(t)
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "serial"}
	boom := errors.New("boom")
	err := pg.Serial(ctx, id, func(ctx context.Context) error {
		turn := store.Turn{Identity: id, PlanID: "p", MsgID: "rolled-back", Inbound: "x"}
		if err := pg.RecordTurn(ctx, &turn); err != nil {
			return err
		}
		if _, _, err := pg.Reply(ctx, id, "rolled-back"); err != nil {
			return fmt.Errorf("inside the call the turn is there: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Serial returned %v, want fn's error", err)
	}
	if _, _, err := pg.Reply(ctx, id, "rolled-back"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a turn recorded in a failed Serial call: %v, want none (rolled back)", err)
	}
}

// TestConformanceOnRedisCluster runs the suite with the fast path on a
// 3-node Redis Cluster: every script of a turn touches one slot.
func TestConformanceOnRedisCluster(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		rdb, prefix := storetest.RedisClusterPrefix(t)
		return stores(t, rdb, prefix)
	})
}
