package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// dies begins a turn of id's message msgID on a Store of its own named
// instance (lease as given) and then stops, as a process killed mid-turn:
// its client is closed, so its heartbeat renews nothing any more, and it
// neither finishes nor aborts.
func dies(t *testing.T, b *testBundle, instance string, lease time.Duration, id store.Identity, msgID string) {
	t.Helper()
	rdb, err := redis.NewClient(storetest.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := redis.New(rdb, redis.WithPrefix(b.prefix), redis.WithInstance(instance), redis.WithLockLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Begin(t.Context(), store.BeginRequest{Identity: id, MsgID: msgID}); err != nil || got.State != store.BeginRun {
		t.Fatalf("the doomed turn: %v, %v", got.State, err)
	}
	rdb.Close()
}

// beginWithin begins msgID's turn on s and fails unless it gets the turn
// within limit; it returns how long that took.
func beginWithin(t *testing.T, s *redis.Store, id store.Identity, msgID string, want store.BeginState, limit time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	start := time.Now()
	req := store.BeginRequest{Identity: id, MsgID: msgID}
	got, err := s.Begin(ctx, req)
	took := time.Since(start)
	if err != nil || got.State != want {
		t.Fatalf("begin %s: %v (%v) after %s, want %v within %s", msgID, got.State, err, took, want, limit)
	}
	if got.State == store.BeginRun {
		if err := s.Finish(t.Context(), req, got, store.Finish{Reply: []byte("ok")}); err != nil {
			t.Fatal(err)
		}
	}
	return took
}

// TestRestartedInstanceTakesOverAtOnce (issue 10, locks that survive their
// owner): a process killed mid-turn and started again under the same
// instance name frees its previous run's turn at once, although that
// run's lease (10 s here) has not run out: WeChat's retry of the message in
// flight is run, and the candidate's next message does not wait.
func TestRestartedInstanceTakesOverAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := store.Identity{Channel: "wechat", UserID: "o-restart"}
	const instance = "host-a:8080"
	dies(t, b, instance, 10*time.Second, id, "m1")
	restarted := b.another(t, redis.WithInstance(instance), redis.WithLockLease(10*time.Second))
	if took := beginWithin(t, restarted, id, "m1", store.BeginRun, 2*time.Second); took > 500*time.Millisecond {
		t.Errorf("the retry of the message in flight waited %s", took)
	}
	if took := beginWithin(t, restarted, id, "m2", store.BeginRun, 2*time.Second); took > 500*time.Millisecond {
		t.Errorf("the next message waited %s", took)
	}
	// Done is done: a second retry gets the recorded reply.
	beginWithin(t, restarted, id, "m1", store.BeginDone, time.Second)
}

// TestDeadOwnerWaitersWaitAboutTheLease: behind a process that died
// mid-turn another instance's turns wait about the lease (the default
// 2 s), no more: the candidate's next message, and the retry of the
// message that was in flight (answered "in flight" while the dead lease
// still runs, taken over after).
func TestDeadOwnerWaitersWaitAboutTheLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := store.Identity{Channel: "wechat", UserID: "o-dead"}
	dies(t, b, "host-dead:8080", redis.DefaultLockLease, id, "m1")
	died := time.Now()
	other := b.another(t, redis.WithInstance("host-b:8080"))
	// The retry right away: the dead turn's claim still looks alive.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	switch got, err := other.Begin(ctx, store.BeginRequest{Identity: id, MsgID: "m1"}); {
	case err == nil && got.State != store.BeginBusy:
		t.Fatalf("retry within the dead lease: %v, want in flight", got.State)
	case err != nil && !errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("retry within the dead lease: %v, want in flight or still waiting at the deadline", err)
	}
	cancel()
	took := beginWithin(t, other, id, "m2", store.BeginRun, redis.DefaultLockLease+2*time.Second)
	if since := time.Since(died); since > redis.DefaultLockLease+time.Second {
		t.Errorf("the next message got its turn %s after the owner died (waited %s), want about the lease %s", since, took, redis.DefaultLockLease)
	}
	// The retry of the dead turn's message is run now.
	beginWithin(t, other, id, "m1", store.BeginRun, time.Second)
}
