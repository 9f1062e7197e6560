package redis_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

type testBundle struct {
	rdb    goredis.UniversalClient
	prefix string
	store  *redis.Store
}

func setup(t *testing.T, opts ...redis.Option) *testBundle {
	t.Helper()
	rdb, prefix := storetest.RedisPrefix(t)
	s, err := redis.New(rdb, append([]redis.Option{redis.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{rdb: rdb, prefix: prefix, store: s}
}

// another returns a second Store on its own connection pool with the same
// prefix: another process, as far as Redis can tell.
func (b *testBundle) another(t *testing.T, opts ...redis.Option) *redis.Store {
	t.Helper()
	rdb, err := redis.NewClient(storetest.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	s, err := redis.New(rdb, append([]redis.Option{redis.WithPrefix(b.prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeysCarryPrefixAndHashTag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id := store.Identity{Channel: "wechat", UserID: "oAbc123"}
	req := store.BeginRequest{Identity: id, MsgID: "42", Rate: 1, Burst: 5}
	begun, err := b.store.Begin(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Finish(ctx, req, begun, store.Finish{Session: &store.Cached{Data: []byte("s"), Seq: 1}}); err != nil {
		t.Fatal(err)
	}
	keys, err := b.rdb.Keys(ctx, b.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{
		b.prefix + "lock:{wechat:oAbc123}",
		b.prefix + "msg:{wechat:oAbc123}:42",
		b.prefix + "session:{wechat:oAbc123}",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
	// Every key of one candidate maps to one Cluster slot.
	for _, k := range want[1:] {
		s1, _ := b.rdb.ClusterKeySlot(ctx, want[0]).Result()
		s2, _ := b.rdb.ClusterKeySlot(ctx, k).Result()
		if s1 != s2 {
			t.Fatalf("keys %s and %s are in slots %d and %d", want[0], k, s1, s2)
		}
	}
}

func TestSessionTTL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	id := store.Identity{Channel: "telegram", UserID: "100"}
	save := func(s *redis.Store) {
		req := store.BeginRequest{Identity: id, MsgID: "1"}
		begun, err := s.Begin(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, req, begun, store.Finish{Session: &store.Cached{Data: []byte("s"), Seq: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	b := setup(t, redis.WithSessionTTL(30*24*time.Hour))
	save(b.store)
	ttl, err := b.rdb.TTL(ctx, b.prefix+"session:{telegram:100}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 29*24*time.Hour || ttl > 30*24*time.Hour {
		t.Fatalf("session ttl = %v, want about 30 days", ttl)
	}
	short := setup(t, redis.WithSessionTTL(100*time.Millisecond))
	save(short.store)
	time.Sleep(250 * time.Millisecond)
	if _, err := short.store.CachedSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: err = %v, want store.ErrNotFound", err)
	}
}

// TestLockAcrossProcesses interleaves waiters of two Stores on separate
// connections: the arrival order holds across them.
func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	stores := []*redis.Store{b.store, b.another(t)}
	ctx := t.Context()
	id := store.Identity{Channel: "wechat", UserID: "o-cross"}
	unlock, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, err := stores[i%2].LockUser(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			u()
		})
		for {
			w, err := b.store.Waiters(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if w == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	unlock()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("order across two processes = %v, want 0..%d", order, n-1)
		}
	}
}

// TestLockHolderCrash: a holder that never unlocks nor renews (its process
// died) blocks the next waiter only until its lease runs out.
func TestLockHolderCrash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "crash"}
	// The crashed process: it took the lock and stopped. Simulate the dead
	// renewer by a process whose lease is short and whose unlock is never
	// called; its renew goroutine is stopped by closing its client.
	rdb, err := redis.NewClient(storetest.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := redis.New(rdb, redis.WithPrefix(b.prefix), redis.WithLockLease(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.LockUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	rdb.Close()

	start := time.Now()
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlock, err := b.store.LockUser(waitCtx, id)
	if err != nil {
		t.Fatalf("waiter behind a crashed holder: %v", err)
	}
	unlock()
	if waited := time.Since(start); waited < 200*time.Millisecond || waited > 2*time.Second {
		t.Fatalf("waited %v behind a crashed holder with a 300ms lease, want about the lease", waited)
	}
}

// TestLockLeaseRenewed: a live holder keeps the lock past its lease.
func TestLockLeaseRenewed(t *testing.T) {
	t.Parallel()
	b := setup(t, redis.WithLockLease(400*time.Millisecond))
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "slow"}
	unlock, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if u, err := b.store.LockUser(short, id); err == nil {
		u()
		t.Fatal("a second caller got the lock while a live holder kept renewing it")
	}
	unlock()
}

// TestLockWaiterCrash: a waiter that died while queued is skipped after the
// claim window when its turn comes.
func TestLockWaiterCrash(t *testing.T) {
	t.Parallel()
	b := setup(t, redis.WithClaimWindow(200*time.Millisecond))
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "gone"}
	unlock, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The dead waiter took ticket 2 and vanished without giving it up.
	if err := b.rdb.HIncrBy(ctx, b.prefix+"lock:{web:gone}", "next", 1).Err(); err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Duration, 1)
	go func() {
		u, err := b.store.LockUser(ctx, id)
		if err != nil {
			t.Error(err)
			got <- 0
			return
		}
		u()
		got <- 0
	}()
	for {
		if w, _ := b.store.Waiters(ctx, id); w == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	unlock()
	select {
	case <-got:
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("the waiter behind a dead one got the lock after %v, before the claim window", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the waiter behind a dead waiter never got the lock")
	}
}

// TestLockAfterFlush: losing the lock's state mid-queue does not block
// anyone.
func TestLockAfterFlush(t *testing.T) {
	t.Parallel()
	b := setup(t, redis.WithClaimWindow(200*time.Millisecond), redis.WithLockLease(300*time.Millisecond))
	ctx := t.Context()
	id := store.Identity{Channel: "wechat", UserID: "flush"}
	unlock, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	for range 3 {
		go func() {
			u, err := b.store.LockUser(ctx, id)
			if err == nil {
				u()
			}
			done <- err
		}()
	}
	for {
		if w, _ := b.store.Waiters(ctx, id); w == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := storetest.DeleteKeys(ctx, b.rdb, b.prefix); err != nil {
		t.Fatal(err)
	}
	unlock()
	for range 3 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter stayed blocked after the lock state was flushed")
		}
	}
}

func TestNewClientURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url string
		want      string // client type
		wantErr   bool
		// dials is how many times a try dials a refused connection: once
		// unless the URL says (Cluster and Sentinel URLs can).
		dials int
	}{
		{"single", "redis://127.0.0.1:6379/2", "*redis.Client", false, 1},
		{"single with password", "redis://:secret@127.0.0.1:6379/0", "*redis.Client", false, 1},
		{"sentinel", "redis://127.0.0.1:26379?master_name=mymaster", "*redis.Client", false, 1},
		{"sentinel, dialer_retries", "redis://127.0.0.1:26379?master_name=mymaster&dialer_retries=3", "*redis.Client", false, 3},
		{"cluster", "redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001", "*redis.ClusterClient", false, 1},
		{"cluster, dialer_retries", "redis+cluster://127.0.0.1:7000?dialer_retries=4", "*redis.ClusterClient", false, 4},
		{"bad scheme", "http://127.0.0.1:6379", "", true, 0},
		{"unknown option", "redis://127.0.0.1:6379?frobnicate=1", "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := redis.NewClient(tt.url)
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatalf("NewClient(%q) accepted", tt.url)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := typeName(c); got != tt.want {
				t.Fatalf("client type %s, want %s", got, tt.want)
			}
			var dials int
			switch c := c.(type) {
			case *goredis.Client:
				dials = c.Options().DialerRetries
			case *goredis.ClusterClient:
				dials = c.Options().DialerRetries
			}
			if dials != tt.dials {
				t.Errorf("dialer retries %d, want %d", dials, tt.dials)
			}
		})
	}
}

func typeName(c goredis.UniversalClient) string {
	switch c.(type) {
	case *goredis.Client:
		return "*redis.Client"
	case *goredis.ClusterClient:
		return "*redis.ClusterClient"
	}
	return "other"
}

func TestNewRefusesBracesInPrefix(t *testing.T) {
	t.Parallel()
	if _, err := redis.New(goredis.NewClient(&goredis.Options{}), redis.WithPrefix("a{b}:")); err == nil {
		t.Fatal("a prefix with a hash tag was accepted")
	}
}

func TestErrorsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	s, err := redis.New(rdb)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
	_, err = s.Begin(ctx, store.BeginRequest{Identity: store.Identity{Channel: "web", UserID: "x"}, MsgID: "1"})
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Begin with Redis down: err = %v, want a connection error", err)
	}
	if _, err := s.LockUser(ctx, store.Identity{Channel: "web", UserID: "x"}); err == nil {
		t.Fatal("LockUser with Redis down succeeded")
	}
}

// TestLockHashKeepsNoTicketFields: after turns alone, behind one another
// and given up, the lock hash keeps only its counters and the bucket; a
// ticket's owner, hold or abandon mark left behind would grow it with every
// turn.
func TestLockHashKeepsNoTicketFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id := store.Identity{Channel: "wechat", UserID: "o-fields"}
	turn := func(msg string) store.Begun {
		req := store.BeginRequest{Identity: id, MsgID: msg, Rate: 1, Burst: 30}
		begun, err := b.store.Begin(ctx, req)
		if err != nil || begun.State != store.BeginRun {
			t.Fatalf("begin %s: %v, %v", msg, begun.State, err)
		}
		return begun
	}
	finish := func(msg string, begun store.Begun) {
		req := store.BeginRequest{Identity: id, MsgID: msg, Rate: 1, Burst: 30}
		if err := b.store.Finish(ctx, req, begun, store.Finish{Reply: []byte("ok")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, msg := range []string{"1", "2", "3"} {
		finish(msg, turn(msg))
	}
	// One behind a held turn, one that gives up waiting.
	held := turn("4")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := b.store.Begin(short, store.BeginRequest{Identity: id, MsgID: "5"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter that gives up: %v", err)
	}
	waiter := make(chan store.Begun, 1)
	go func() {
		begun, err := b.store.Begin(ctx, store.BeginRequest{Identity: id, MsgID: "6"})
		if err != nil {
			t.Error(err)
		}
		waiter <- begun
	}()
	for {
		if w, _ := b.store.Waiters(ctx, id); w == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	finish("4", held)
	finish("6", <-waiter)
	fields, err := b.rdb.HKeys(ctx, b.prefix+"lock:{wechat:o-fields}").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(fields)
	if want := []string{"at", "next", "serving", "tokens", "told"}; !slices.Equal(fields, want) {
		t.Fatalf("lock hash fields after the turns: %q, want %q", fields, want)
	}
	if w, err := b.store.Waiters(ctx, id); err != nil || w != 0 {
		t.Fatalf("waiters after the turns: %d, %v", w, err)
	}
}

// TestLockHashOutlivesTheBucket: the candidate's token bucket lives in the
// lock hash, which must not expire while a slow bucket is still refilling
// (it would come back full).
func TestLockHashOutlivesTheBucket(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id := store.Identity{Channel: "wechat", UserID: "o-slow-bucket"}
	// One message every two hours, a burst of one: the bucket refills in 2h.
	req := store.BeginRequest{Identity: id, MsgID: "1", Rate: 1.0 / 7200, Burst: 1}
	begun, err := b.store.Begin(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Finish(ctx, req, begun, store.Finish{}); err != nil {
		t.Fatal(err)
	}
	ttl, err := b.rdb.PTTL(ctx, b.prefix+"lock:{wechat:o-slow-bucket}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < 2*time.Hour {
		t.Fatalf("lock hash ttl %v, want at least the bucket's refill time of 2h", ttl)
	}
	req.MsgID = "2"
	if begun, err := b.store.Begin(ctx, req); err != nil || begun.State != store.BeginLimited {
		t.Fatalf("second message within the bucket's refill: %v, %v; want BeginLimited", begun.State, err)
	} else if err := b.store.Finish(ctx, req, begun, store.Finish{}); err != nil {
		t.Fatal(err)
	}
}

// lockLater takes id's turn in the background; the result arrives on the
// channel (an unlock that does nothing on error).
func lockLater(t *testing.T, b *testBundle, id store.Identity) <-chan func() {
	t.Helper()
	ch := make(chan func(), 1)
	go func() {
		u, err := b.store.LockUser(t.Context(), id)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		ch <- u
	}()
	return ch
}

// TestLockHashLost: when Redis loses a candidate's lock hash (a restart)
// while a waiter is in line behind others, a newcomer takes the turn first;
// the waiter then queues again behind it at once instead of waiting a claim
// window for each ticket number the new hash has not handed out, and the
// new hash numbers from the server clock.
func TestLockHashLost(t *testing.T) {
	t.Parallel()
	b := setup(t, redis.WithClaimWindow(time.Second))
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "lost"}
	lockKey := b.prefix + "lock:{web:lost}"
	oldHolder, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer oldHolder()
	// Ten tickets ahead of the waiter: it polls every 10 ms, so the
	// newcomer below comes first after the loss.
	if err := b.rdb.HIncrBy(ctx, lockKey, "next", 10).Err(); err != nil {
		t.Fatal(err)
	}
	waiter := lockLater(t, b, id)
	for {
		if w, _ := b.store.Waiters(ctx, id); w == 11 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := b.rdb.Del(ctx, lockKey).Err(); err != nil {
		t.Fatal(err)
	}
	newcomer, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	next, err := b.rdb.HGet(ctx, lockKey, "next").Int64()
	if err != nil {
		t.Fatal(err)
	}
	if next < (time.Now().Add(-time.Hour).Unix()%100000000)*1000000 {
		t.Fatalf("the new hash numbers its tickets from %d, not from the clock", next)
	}
	select {
	case u := <-waiter:
		u()
		t.Fatal("the waiter got the turn while the newcomer held it")
	case <-time.After(100 * time.Millisecond):
	}
	newcomer()
	select {
	case u := <-waiter:
		u()
	case <-time.After(time.Second):
		t.Fatal("the waiter of a lost lock hash did not take the turn within a second of the newcomer's release")
	}
}

// TestLockHashLostHolder: a caller that took the turn after Redis lost the
// lock hash is not let go by the release of the lost hash's holder (their
// tickets would both have been 1), so the next caller still waits.
func TestLockHashLostHolder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	id := store.Identity{Channel: "web", UserID: "lost-holder"}
	oldHolder, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.rdb.Del(ctx, b.prefix+"lock:{web:lost-holder}").Err(); err != nil {
		t.Fatal(err)
	}
	newHolder, err := b.store.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	oldHolder()
	got := lockLater(t, b, id)
	select {
	case u := <-got:
		u()
		t.Fatal("a caller got the turn while the new holder held it: the lost hash's release ended it")
	case <-time.After(300 * time.Millisecond):
	}
	newHolder()
	select {
	case u := <-got:
		u()
	case <-time.After(3 * time.Second):
		t.Fatal("the next caller never got the turn")
	}
}
