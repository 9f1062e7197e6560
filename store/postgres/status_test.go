package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestStatusTransitionsTable: the trigger's copy of the status machine
// (migration 004 and later) is store.Transitions(), change for change.
func TestStatusTransitionsTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `select from_status, to_status from status_transitions`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Transition, error) {
		var from, to string
		err := r.Scan(&from, &to)
		return store.Transition{From: store.Status(from), To: store.Status(to)}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Transitions()
	key := func(a, b store.Transition) int {
		if c := slices.Index(store.Statuses(), a.From) - slices.Index(store.Statuses(), b.From); c != 0 {
			return c
		}
		return slices.Index(store.Statuses(), a.To) - slices.Index(store.Statuses(), b.To)
	}
	slices.SortFunc(got, key)
	slices.SortFunc(want, key)
	if !slices.Equal(got, want) {
		t.Fatalf("status_transitions:\n got %v\nwant store.Transitions() %v\n(add a migration that brings the table in line)", got, want)
	}
}
