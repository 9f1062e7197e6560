package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"regbot/store"
)

// Outbox is the outbox side of a record (notify's view of it), with the
// queue hand-overs as plain calls (store/postgres runs them in a
// transaction of their own for the suite).
type Outbox interface {
	InsertOutbox(ctx context.Context, msgs []store.Outgoing, claim store.FastClaim) ([]store.Delivery, error)
	// QueueOutbox inserts msgs owned by the queue from the start.
	QueueOutbox(ctx context.Context, msgs []store.Outgoing) ([]store.Delivery, error)
	ClaimDelivery(ctx context.Context, id int64, owner string, lease time.Duration) (store.Claim, error)
	SettleDeliveries(ctx context.Context, owner string, results []store.Settlement) error
	QueueDeliveries(ctx context.Context, owner string, ids []int64) ([]store.Queued, error)
	QueueOrphans(ctx context.Context, limit int) ([]store.Queued, error)
	CancelDeliveries(ctx context.Context, ids []int64) (int, error)
	Deliveries(ctx context.Context, candidateID int64, limit int) ([]store.Delivery, error)
	Delivery(ctx context.Context, id int64) (store.Delivery, error)
	DeliveryAttempts(ctx context.Context, id int64) ([]store.DeliveryAttempt, error)
	SettleDelivery(ctx context.Context, owner string, res store.Settlement) (next int64, err error)
}

// OutboxStores is one implementation of the outbox under test, with the
// record that creates candidates.
type OutboxStores struct {
	Outbox Outbox
	Record Record
}

// RunOutbox runs the outbox conformance suite; newStores builds a fresh,
// isolated implementation for one subtest. Subtests run in parallel.
func RunOutbox(t *testing.T, newStores func(t *testing.T) OutboxStores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s OutboxStores)
	}{
		{"FastClaimOnlyWhenNothingEarlierWaits", testOutboxFastClaim},
		{"ClaimKeepsIdentityOrder", testOutboxClaimOrder},
		{"ScheduledRowsWaitAndDoNotBlock", testOutboxScheduled},
		{"SettleRecordsAttempts", testOutboxSettle},
		{"SettleUnreachable", testOutboxUnreachable},
		{"KeyQueuesOnce", testOutboxKey},
		{"QueueHandOver", testOutboxQueueHandOver},
		{"OrphansAfterClaimExpires", testOutboxOrphans},
		{"Cancel", testOutboxCancel},
		{"DeliveriesOfCandidate", testOutboxDeliveries},
		{"ConcurrentClaimOneWinner", testOutboxConcurrentClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStores(t))
		})
	}
}

// candidate records a first turn for a new identity, so that it has a
// candidate.
func candidate(t *testing.T, s OutboxStores, channel string) store.Identity {
	t.Helper()
	id := newIdentity(channel)
	turn := store.Turn{Identity: id, PlanID: "plan", MsgID: "first", Inbound: "你好", Session: []byte(`{}`), At: time.Now()}
	if err := s.Record.RecordTurn(ctxFor(t), &turn); err != nil {
		t.Fatal(err)
	}
	return id
}

func outgoing(id store.Identity, text string) store.Outgoing {
	return store.Outgoing{Identity: id, Kind: store.OutReply, Payload: []byte(text)}
}

func insert(t *testing.T, s OutboxStores, claim store.FastClaim, msgs ...store.Outgoing) []store.Delivery {
	t.Helper()
	ds, err := s.Outbox.InsertOutbox(ctxFor(t), msgs, claim)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func claimOf(t *testing.T, s OutboxStores, id int64, owner string) store.Claim {
	t.Helper()
	c, err := s.Outbox.ClaimDelivery(ctxFor(t), id, owner, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func settle(t *testing.T, s OutboxStores, owner string, results ...store.Settlement) {
	t.Helper()
	if err := s.Outbox.SettleDeliveries(ctxFor(t), owner, results); err != nil {
		t.Fatal(err)
	}
}

func testOutboxFastClaim(t *testing.T, s OutboxStores) {
	id := candidate(t, s, "telegram")
	a, b := store.FastClaim{Owner: "a", Lease: time.Minute}, store.FastClaim{Owner: "b", Lease: time.Minute}
	first := insert(t, s, a, outgoing(id, "1"))
	if len(first) != 1 || first[0].ClaimedUntil.IsZero() || first[0].ID == 0 || first[0].CandidateID == 0 {
		t.Fatalf("first row: %+v; want inserted, claimed, with a candidate", first)
	}
	// a's own live claim does not block a's next row (its queue keeps the
	// order), but it blocks b's.
	second := insert(t, s, a, outgoing(id, "2"))
	if second[0].ClaimedUntil.IsZero() {
		t.Fatal("second row of the same owner was not claimed")
	}
	third := insert(t, s, b, outgoing(id, "3"))
	if !third[0].ClaimedUntil.IsZero() {
		t.Fatal("a row behind another owner's pending rows was claimed: it could overtake them")
	}
	// Nor is a row behind one nobody holds (the queue's).
	queued := candidate(t, s, "telegram")
	insert(t, s, store.FastClaim{}, outgoing(queued, "q"))
	if d := insert(t, s, a, outgoing(queued, "after q")); !d[0].ClaimedUntil.IsZero() {
		t.Fatal("a row behind an unclaimed pending row was claimed: it could overtake it")
	}
	// Another identity is independent.
	other := insert(t, s, b, outgoing(candidate(t, s, "telegram"), "x"))
	if other[0].ClaimedUntil.IsZero() {
		t.Fatal("another identity's row was not claimed")
	}
	// No owner: no claim.
	if d := insert(t, s, store.FastClaim{}, outgoing(candidate(t, s, "telegram"), "y")); !d[0].ClaimedUntil.IsZero() {
		t.Fatal("a row was claimed without an owner")
	}
	// Once a's rows are sent, b's next row is claimed.
	settle(t, s, "a", store.Settlement{ID: first[0].ID, State: store.DeliverySent, Tried: true},
		store.Settlement{ID: second[0].ID, State: store.DeliverySent, Tried: true})
	settle(t, s, "b", store.Settlement{ID: third[0].ID, State: store.DeliverySent, Tried: true})
	if d := insert(t, s, b, outgoing(id, "4")); d[0].ClaimedUntil.IsZero() {
		t.Fatal("a row with nothing pending before it was not claimed")
	}
}

func testOutboxClaimOrder(t *testing.T, s OutboxStores) {
	id := candidate(t, s, "wechat")
	rows := insert(t, s, store.FastClaim{}, outgoing(id, "1"), outgoing(id, "2"))
	if c := claimOf(t, s, rows[1].ID, "q"); c.State != store.ClaimBlocked {
		t.Fatalf("claim of the second row while the first is pending: %v, want ClaimBlocked", c.State)
	}
	c := claimOf(t, s, rows[0].ID, "q")
	if c.State != store.ClaimTaken || string(c.Delivery.Payload) != "1" || c.Delivery.Identity != id || c.Until.IsZero() {
		t.Fatalf("claim of the first row: %+v", c)
	}
	if c := claimOf(t, s, rows[0].ID, "other"); c.State != store.ClaimHeld || c.Until.IsZero() {
		t.Fatalf("second claim of a held row: %v (until %v), want ClaimHeld with its end", c.State, c.Until)
	}
	next, err := s.Outbox.SettleDelivery(ctxFor(t), "q", store.Settlement{ID: rows[0].ID, State: store.DeliverySent, Tried: true, PartsSent: 1})
	if err != nil || next != rows[1].ID {
		t.Fatalf("settling the first row: next %d, %v; want %d", next, err, rows[1].ID)
	}
	if c := claimOf(t, s, rows[0].ID, "q"); c.State != store.ClaimDone {
		t.Fatalf("claim of a sent row: %v, want ClaimDone", c.State)
	}
	if c := claimOf(t, s, rows[1].ID, "q"); c.State != store.ClaimTaken {
		t.Fatalf("claim of the second row once the first was sent: %v, want ClaimTaken", c.State)
	}
	if next, err := s.Outbox.SettleDelivery(ctxFor(t), "q", store.Settlement{ID: rows[1].ID, State: store.DeliverySent, Tried: true}); err != nil || next != 0 {
		t.Fatalf("settling the last row: next %d, %v; want 0", next, err)
	}
	if c := claimOf(t, s, 1<<40, "q"); c.State != store.ClaimDone {
		t.Fatalf("claim of a row that does not exist: %v, want ClaimDone", c.State)
	}
	d, err := s.Outbox.Delivery(ctxFor(t), rows[0].ID)
	if err != nil || d.State != store.DeliverySent || d.SentAt.IsZero() || d.Attempts != 1 || d.PartsSent != 1 {
		t.Fatalf("sent row: %+v, %v", d, err)
	}
}

func testOutboxScheduled(t *testing.T, s OutboxStores) {
	id := candidate(t, s, "wechat")
	later := time.Now().Add(time.Hour)
	reminder := outgoing(id, "reminder")
	reminder.Kind, reminder.NotBefore = store.OutReminder, later
	rows := insert(t, s, store.FastClaim{Owner: "a", Lease: time.Minute}, reminder, outgoing(id, "now"))
	if !rows[0].ClaimedUntil.IsZero() {
		t.Fatal("a row due in an hour was claimed for the fast path")
	}
	if rows[1].ClaimedUntil.IsZero() {
		t.Fatal("a due row behind a scheduled one was not claimed: the scheduled row must not block it")
	}
	c := claimOf(t, s, rows[0].ID, "q")
	if c.State != store.ClaimEarly || c.Until.Sub(later).Abs() > time.Second {
		t.Fatalf("claim of a scheduled row: %v until %v, want ClaimEarly until %v", c.State, c.Until, later)
	}
}

func testOutboxSettle(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "telegram")
	row := insert(t, s, store.FastClaim{Owner: "a", Lease: time.Minute}, outgoing(id, "1"))[0]
	settle(t, s, "a", store.Settlement{ID: row.ID, State: store.DeliveryPending, Tried: true, Error: "timeout", PartsSent: 1})
	if c := claimOf(t, s, row.ID, "q"); c.State != store.ClaimTaken || c.Delivery.Attempts != 1 || c.Delivery.PartsSent != 1 {
		t.Fatalf("after a failed attempt the claim is given back and the attempt counted: %+v", c)
	}
	settle(t, s, "q", store.Settlement{ID: row.ID, State: store.DeliveryPending, Tried: true, Error: "502"})
	settle(t, s, "q", store.Settlement{ID: row.ID, State: store.DeliveryFailed, Tried: true, Error: "403 blocked", Permanent: true})
	// A late settlement of a row already final changes nothing.
	settle(t, s, "a", store.Settlement{ID: row.ID, State: store.DeliverySent, Tried: true})
	d, err := s.Outbox.Delivery(ctx, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != store.DeliveryFailed || d.Attempts != 3 || d.LastError != "403 blocked" || !d.SentAt.IsZero() || d.PartsSent != 1 {
		t.Fatalf("failed row: %+v", d)
	}
	attempts, err := s.Outbox.DeliveryAttempts(ctx, row.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range attempts {
		got = append(got, fmt.Sprintf("%s/%v", a.Error, a.Permanent))
	}
	if want := "[timeout/false 502/false 403 blocked/true]"; fmt.Sprint(got) != want {
		t.Fatalf("attempts %v, want %s", got, want)
	}
	// Giving a claim back without an attempt counts nothing.
	row2 := insert(t, s, store.FastClaim{Owner: "a", Lease: time.Minute}, outgoing(id, "2"))[0]
	settle(t, s, "a", store.Settlement{ID: row2.ID, State: store.DeliveryPending})
	if c := claimOf(t, s, row2.ID, "q"); c.State != store.ClaimTaken || c.Delivery.Attempts != 0 {
		t.Fatalf("after a claim given back: %+v", c)
	}
	// Another owner cannot give back a claim it does not hold.
	settle(t, s, "a", store.Settlement{ID: row2.ID, State: store.DeliveryPending})
	if c := claimOf(t, s, row2.ID, "r"); c.State != store.ClaimHeld {
		t.Fatalf("a claim was given back by someone who does not hold it: %v", c.State)
	}
}

func testOutboxUnreachable(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "telegram")
	row := insert(t, s, store.FastClaim{Owner: "a", Lease: time.Minute}, outgoing(id, "1"))[0]
	settle(t, s, "a", store.Settlement{ID: row.ID, State: store.DeliveryFailed, Tried: true, Error: "blocked", Permanent: true, Unreachable: true})
	if u, err := s.Record.Unreachable(ctx, id); err != nil || !u {
		t.Fatalf("identity after a settlement saying unreachable: %v, %v", u, err)
	}
	next := insert(t, s, store.FastClaim{}, outgoing(id, "2"))[0]
	if c := claimOf(t, s, next.ID, "q"); c.State != store.ClaimTaken || !c.Unreachable {
		t.Fatalf("claim for an unreachable identity: %+v, want taken and Unreachable", c)
	}
}

func testOutboxKey(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "wechat")
	m := outgoing(id, "审核通过")
	m.Kind, m.Key = store.OutNotification, "status:"+id.UserID+":under_review"
	if rows := insert(t, s, store.FastClaim{}, m); len(rows) != 1 || rows[0].Key != m.Key {
		t.Fatalf("first insert with a key: %+v", rows)
	}
	if rows := insert(t, s, store.FastClaim{}, m, outgoing(id, "other")); len(rows) != 1 || string(rows[0].Payload) != "other" {
		t.Fatalf("second insert with the same key: %+v, want only the keyless message", rows)
	}
	if rows, err := s.Outbox.QueueOutbox(ctx, []store.Outgoing{m}); err != nil || len(rows) != 0 {
		t.Fatalf("queued insert with an existing key: %+v, %v", rows, err)
	}
	// One batch: rows come back in the order of the messages, a repeated
	// key once.
	k := outgoing(id, "k1")
	k.Key = "k:" + id.UserID
	again := k
	again.Payload = []byte("k2")
	rows, err := s.Outbox.QueueOutbox(ctx, []store.Outgoing{outgoing(id, "a"), k, outgoing(id, "b"), again, outgoing(id, "c")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range rows {
		got = append(got, string(r.Payload))
		if i > 0 && r.ID <= rows[i-1].ID {
			t.Fatalf("ids out of order: %+v", rows)
		}
		if d, err := s.Outbox.Delivery(ctx, r.ID); err != nil || string(d.Payload) != string(r.Payload) {
			t.Fatalf("row %d holds %q, returned with %q (%v)", r.ID, d.Payload, r.Payload, err)
		}
	}
	if fmt.Sprint(got) != "[a k1 b c]" {
		t.Fatalf("queued batch with a repeated key: %v", got)
	}
}

func testOutboxQueueHandOver(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "telegram")
	mine := insert(t, s, store.FastClaim{Owner: "a", Lease: time.Minute}, outgoing(id, "1"))[0]
	theirs := insert(t, s, store.FastClaim{Owner: "b", Lease: time.Minute}, outgoing(candidate(t, s, "telegram"), "2"))[0]
	queued, err := s.Outbox.QueueDeliveries(ctx, "a", []int64{mine.ID, theirs.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].ID != mine.ID {
		t.Fatalf("hand-over of a's row and b's live claim: %+v, want only a's", queued)
	}
	if again, err := s.Outbox.QueueDeliveries(ctx, "a", []int64{mine.ID}); err != nil || len(again) != 0 {
		t.Fatalf("second hand-over of a queued row: %+v, %v", again, err)
	}
	// The queue's claim is free once handed over.
	if c := claimOf(t, s, mine.ID, "q"); c.State != store.ClaimTaken {
		t.Fatalf("claim of a handed-over row: %v", c.State)
	}
	rows, err := s.Outbox.QueueOutbox(ctx, []store.Outgoing{outgoing(id, "3")})
	if err != nil || len(rows) != 1 || !rows[0].ClaimedUntil.IsZero() {
		t.Fatalf("queued insert: %+v, %v", rows, err)
	}
	if orphans, err := s.Outbox.QueueOrphans(ctx, 100); err != nil || len(orphans) != 0 {
		t.Fatalf("orphans when every row is queued or claimed: %+v, %v", orphans, err)
	}
}

func testOutboxOrphans(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	short := insert(t, s, store.FastClaim{Owner: "dead", Lease: 50 * time.Millisecond}, outgoing(candidate(t, s, "wechat"), "1"))[0]
	long := insert(t, s, store.FastClaim{Owner: "alive", Lease: time.Hour}, outgoing(candidate(t, s, "wechat"), "2"))[0]
	unclaimed := insert(t, s, store.FastClaim{}, outgoing(candidate(t, s, "wechat"), "3"))[0]
	time.Sleep(200 * time.Millisecond)
	orphans, err := s.Outbox.QueueOrphans(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, o := range orphans {
		got = append(got, o.ID)
	}
	if want := []int64{short.ID, unclaimed.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("orphans %v, want %v (expired and unclaimed, not %d under a live claim)", got, want, long.ID)
	}
	if again, err := s.Outbox.QueueOrphans(ctx, 100); err != nil || len(again) != 0 {
		t.Fatalf("orphans a second time: %+v, %v", again, err)
	}
}

func testOutboxCancel(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "wechat")
	rows := insert(t, s, store.FastClaim{}, outgoing(id, "1"), outgoing(id, "2"))
	if n, err := s.Outbox.CancelDeliveries(ctx, []int64{rows[0].ID}); err != nil || n != 1 {
		t.Fatalf("cancel: %d, %v", n, err)
	}
	if n, err := s.Outbox.CancelDeliveries(ctx, []int64{rows[0].ID}); err != nil || n != 0 {
		t.Fatalf("cancel twice: %d, %v", n, err)
	}
	if c := claimOf(t, s, rows[0].ID, "q"); c.State != store.ClaimDone {
		t.Fatalf("claim of a cancelled row: %v", c.State)
	}
	if c := claimOf(t, s, rows[1].ID, "q"); c.State != store.ClaimTaken {
		t.Fatalf("a cancelled row blocks the next one: %v", c.State)
	}
}

func testOutboxDeliveries(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	id := candidate(t, s, "telegram")
	rows := insert(t, s, store.FastClaim{}, outgoing(id, "1"), outgoing(id, "2"), outgoing(id, "3"))
	insert(t, s, store.FastClaim{}, outgoing(candidate(t, s, "telegram"), "someone else"))
	settle(t, s, "q", store.Settlement{ID: rows[0].ID, State: store.DeliverySent, Tried: true})
	got, err := s.Outbox.Deliveries(ctx, rows[0].CandidateID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != rows[2].ID || got[1].ID != rows[1].ID || got[0].Identity != id || got[0].State != store.DeliveryPending {
		t.Fatalf("deliveries (newest first, limit 2): %+v", got)
	}
	all, err := s.Outbox.Deliveries(ctx, rows[0].CandidateID, 0)
	if err != nil || len(all) != 3 || all[2].State != store.DeliverySent {
		t.Fatalf("all deliveries: %+v, %v", all, err)
	}
	if _, err := s.Outbox.Delivery(ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown delivery: %v, want store.ErrNotFound", err)
	}
}

func testOutboxConcurrentClaim(t *testing.T, s OutboxStores) {
	ctx := ctxFor(t)
	row := insert(t, s, store.FastClaim{}, outgoing(candidate(t, s, "telegram"), "1"))[0]
	const claimers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		taken int
	)
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Outbox.ClaimDelivery(ctx, row.ID, fmt.Sprint("w", i), time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if c.State == store.ClaimTaken {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if taken != 1 {
		t.Fatalf("%d of %d concurrent claims won, want exactly 1", taken, claimers)
	}
}
