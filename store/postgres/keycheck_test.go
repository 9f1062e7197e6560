package postgres_test

import (
	"context"
	"errors"
	"testing"

	"regbot/store/postgres"
)

// TestCheckKeys: the first key a record sees is its key; a store with
// another key is refused, one with that key as an old key is accepted and
// moves the check value to its current key, after which the old key alone
// is refused.
func TestCheckKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	check := func(name string, st *postgres.Store, want error) {
		t.Helper()
		if err := st.CheckKeys(ctx); !errors.Is(err, want) {
			t.Fatalf("%s: CheckKeys = %v, want %v", name, err, want)
		}
	}
	check("first key", postgres.New(pool, postgres.WithKeys(testKeys(t, 1))), nil)
	check("same key again", postgres.New(pool, postgres.WithKeys(testKeys(t, 1))), nil)
	check("another key", postgres.New(pool, postgres.WithKeys(testKeys(t, 2))), postgres.ErrWrongRecordKey)
	check("insecure mode checks nothing", postgres.New(pool), nil)
	check("rotated: new key, first key old", postgres.New(pool, postgres.WithKeys(testKeys(t, 2, 1))), nil)
	check("the first key after the rotation", postgres.New(pool, postgres.WithKeys(testKeys(t, 1))), postgres.ErrWrongRecordKey)
	check("the new key alone", postgres.New(pool, postgres.WithKeys(testKeys(t, 2))), nil)
}
