package postgres_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestMaterializeRecipientsConcurrently: four hand-overs racing on one
// broadcast (as the Runners of several processes do) take every
// recipient exactly once, skip the unreachable one, and each outbox row is
// linked to its recipient.
func TestMaterializeRecipientsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rec := postgres.New(pool)
	const n = 400
	if _, err := pool.Exec(ctx, `
		with c as (insert into candidates (created_at) select now() from generate_series(1, $1) returning id)
		insert into identities (channel, user_id, candidate_id, unreachable_at)
		select 'telegram', id::text, id, case when id = 7 then now() end from c`, n); err != nil {
		t.Fatal(err)
	}
	b, err := rec.CreateBroadcast(ctx, store.Broadcast{PlanID: "p", Title: "t", Filter: "true", Body: "x", State: store.BroadcastDraft})
	if err != nil {
		t.Fatal(err)
	}
	recipients := make([]store.Recipient, n)
	for i := range recipients {
		id := int64(i + 1)
		recipients[i] = store.Recipient{CandidateID: id, Identity: store.Identity{Channel: "telegram", UserID: itoa(id)}, Payload: []byte(`[{"text":"x"}]`)}
	}
	if err := rec.StartBroadcast(ctx, b.ID, []store.BroadcastState{store.BroadcastDraft}, recipients, ""); err != nil {
		t.Fatal(err)
	}
	if err := rec.StartBroadcast(ctx, b.ID, []store.BroadcastState{store.BroadcastDraft}, recipients, ""); err == nil {
		t.Fatal("a broadcast started twice")
	}
	var (
		mu    sync.Mutex
		seen  = map[int64]int{}
		taken int
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				rows, picked, err := rec.MaterializeRecipients(ctx, b.ID, "telegram", 17, store.FastClaim{Owner: "w" + itoa(int64(w)), Lease: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				taken += picked
				for _, d := range rows {
					seen[d.CandidateID]++
					if d.Key != postgres.BroadcastKey(b.ID, d.CandidateID) || d.ClaimedUntil.IsZero() {
						t.Errorf("row %+v: key or claim missing", d)
					}
				}
				mu.Unlock()
				if picked == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if taken != n || len(seen) != n-1 || seen[7] != 0 {
		t.Fatalf("took %d recipients, %d rows (unreachable one: %d), want %d and %d", taken, len(seen), seen[7], n, n-1)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("candidate %d handed over %d times", id, k)
		}
	}
	p, err := rec.BroadcastProgress(ctx, b.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != n || p.Sending != n-1 || p.Skipped != 1 || p.Reasons["unreachable"] != 1 || p.Waiting != 0 {
		t.Fatalf("progress %+v", p)
	}
	if channels, err := rec.WaitingChannels(ctx, b.ID); err != nil || len(channels) != 0 {
		t.Fatalf("waiting channels %v, %v", channels, err)
	}
	if done, err := rec.FinishBroadcast(ctx, b.ID); err != nil || done {
		t.Fatalf("finished with rows pending: %v, %v", done, err)
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
