package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/redis"
	"regbot/store/seal"
	"regbot/store/storetest"
)

// testBundle is a Router on the real PostgreSQL (a schema of the test's own)
// and Redis (a key prefix of the test's own).
type testBundle struct {
	router *bot.Router
	record *postgres.Store
	rdb    goredis.UniversalClient
	prefix string
	turns  *atomic.Int64
	// locks is the Redis store's per-user lock, which the order test holds
	// while the messages line up.
	locks *redis.Store
	// counts are the Redis and PostgreSQL round trips made.
	counts *storetest.RoundTrips
	engine *dialogs.Engine
	pool   *pgxpool.Pool
	rs     *redis.Store
	// observed are the Router's observations of limited, degraded, rerun
	// and failed turns.
	mu       sync.Mutex
	observed []bot.Observation
}

var today = time.Date(2026, 11, 28, 12, 0, 0, 0, dialogs.ChinaTime)

func setup(t testing.TB, opts ...bot.RouterOption) *testBundle {
	t.Helper()
	return setupWith(t, setupOpts{}, opts...)
}

// onBoth runs test on a single Redis and on the 3-node Redis Cluster.
func onBoth(t *testing.T, test func(t *testing.T, b *testBundle)) {
	for _, cluster := range []bool{false, true} {
		name := "redis"
		if cluster {
			name = "cluster"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, setupWith(t, setupOpts{cluster: cluster}))
		})
	}
}

// setupOpts vary a test's stack.
type setupOpts struct {
	// cluster runs the fast path on the Redis Cluster.
	cluster bool
	// noAutoPipeline runs the turn's scripts each on its own round trip.
	noAutoPipeline bool
	// wrap wraps the fast path (a failing one).
	wrap func(bot.Fast) bot.Fast
	// dispatcher takes the turns' outbox rows.
	dispatcher bot.Dispatcher
	// wrapRecord wraps the record (one that fails).
	wrapRecord func(bot.Record) bot.Record
}

// setupWith is setup as o says.
func setupWith(t testing.TB, o setupOpts, opts ...bot.RouterOption) *testBundle {
	t.Helper()
	ctx := context.Background()
	counts := &storetest.RoundTrips{}
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 16, counts.Tracer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	rdb, prefix := storetest.RedisPrefix(t)
	if o.cluster {
		rdb, prefix = storetest.RedisClusterPrefix(t)
	}
	rdb.AddHook(counts.Hook())
	rs, err := redis.New(rdb, redis.WithPrefix(prefix), redis.WithAutoPipeline(!o.noAutoPipeline))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Now: func() time.Time { return today }})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// As in production: personal data sealed under a record key.
	rec := postgres.New(pool, postgres.WithKeys(keys))
	b := &testBundle{record: rec, rdb: rdb, prefix: prefix, turns: &atomic.Int64{}, locks: rs, counts: counts, engine: engine, pool: pool, rs: rs}
	fast := bot.Fast(rs)
	if o.wrap != nil {
		fast = o.wrap(rs)
	}
	record := bot.Record(rec)
	if o.wrapRecord != nil {
		record = o.wrapRecord(rec)
	}
	b.router = bot.NewRouter(engine, bot.Deps{Fast: fast, Record: record, Dispatcher: o.dispatcher},
		slog.New(slog.DiscardHandler), append([]bot.RouterOption{bot.WithObserver(func(o bot.Observation) {
			if !o.Duplicate && o.Err == nil {
				b.turns.Add(1)
			}
			if o.Limited || o.Degraded || o.Stale > 0 || o.Err != nil {
				b.mu.Lock()
				b.observed = append(b.observed, o)
				b.mu.Unlock()
			}
		})}, opts...)...)
	return b
}

func (b *testBundle) send(t testing.TB, user, msgID, text string) dialogs.Result {
	t.Helper()
	res, err := b.router.Handle(context.Background(), dialogs.Inbound{Channel: "test", UserID: user, MsgID: msgID, Text: text})
	if err != nil {
		t.Fatalf("handle %q: %v", text, err)
	}
	return res
}

func asked(res dialogs.Result) string {
	for i := len(res.Messages) - 1; i >= 0; i-- {
		if a := res.Messages[i].Ask; a != nil {
			return a.Slot
		}
	}
	return ""
}

// entryMessages are the five answers of the i-th work history entry: a
// yes to "another entry?", then employer, occupation, start and end.
func entryMessages(i int) []string {
	return []string{"是", fmt.Sprintf("第%02d号电子商务有限公司", i), "电子商务师",
		fmt.Sprintf("%d-01", 2000+i), fmt.Sprintf("%d-06", 2000+i)}
}

// TestSameUserConcurrentMessagesInArrivalOrder sends 50 messages of one
// candidate at once. While the test holds the candidate's lock, message i is
// started only once i messages wait in line, so arrival order is known;
// then the lock is released. Every message is handled exactly once, in
// arrival order, and no answer is lost: the ten work history entries come
// out whole and in order.
func TestSameUserConcurrentMessagesInArrivalOrder(t *testing.T) {
	onBoth(t, func(t *testing.T, b *testBundle) {
		ctx := context.Background()
		id := store.Identity{Channel: "test", UserID: "u-order"}
		var msgs []string
		for i := 0; i < 10; i++ {
			msgs = append(msgs, entryMessages(i)...)
		}
		unlock, err := b.locks.LockUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(msgs))
		for i, text := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.router.Handle(ctx, dialogs.Inbound{Channel: id.Channel, UserID: id.UserID, MsgID: "m" + strconv.Itoa(i), Text: text})
				if err != nil {
					errs <- fmt.Errorf("message %d: %w", i, err)
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, err := b.locks.Waiters(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if n == i+1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("message %d did not line up (%d waiting)", i, n)
				}
				time.Sleep(time.Millisecond)
			}
		}
		unlock()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := b.turns.Load(); got != int64(len(msgs)) {
			t.Fatalf("%d turns, want %d", got, len(msgs))
		}
		inbound, err := b.record.InboundMessages(context.Background(), store.Identity{Channel: "test", UserID: "u-order"})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, m := range inbound {
			order = append(order, m.MsgID)
		}
		want := make([]string, len(msgs))
		for i := range msgs {
			want[i] = "m" + strconv.Itoa(i)
		}
		if !slices.Equal(order, want) {
			t.Fatalf("handled in order %v, want %v", order, want)
		}
		snap, err := b.record.LatestSession(context.Background(), store.Identity{Channel: "test", UserID: "u-order"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := b.router.Engine().Unmarshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Work) != 10 {
			t.Fatalf("%d work entries recorded, want 10: %+v", len(s.Work), s.Work)
		}
		for i, w := range s.Work {
			if w.Employer != fmt.Sprintf("第%02d号电子商务有限公司", i) || w.Start != fmt.Sprintf("%d-01", 2000+i) {
				t.Fatalf("entry %d is %+v: answers were mixed up", i, w)
			}
		}
	})
}

// TestRetriedDeliveryIsOneTurn delivers the same message id three times at
// once: one turn, two duplicates.
func TestRetriedDeliveryIsOneTurn(t *testing.T) {
	onBoth(t, func(t *testing.T, b *testBundle) {
		var wg sync.WaitGroup
		var dups atomic.Int64
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := b.router.Handle(context.Background(), dialogs.Inbound{Channel: "test", UserID: "u-dup", MsgID: "same", Text: "是"})
				switch {
				case errors.Is(err, bot.ErrDuplicate):
					dups.Add(1)
				case err != nil:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if b.turns.Load() != 1 || dups.Load() != 2 {
			t.Fatalf("%d turns and %d duplicates, want 1 and 2", b.turns.Load(), dups.Load())
		}
		inbound, err := b.record.InboundMessages(context.Background(), store.Identity{Channel: "test", UserID: "u-dup"})
		if err != nil || len(inbound) != 1 {
			t.Fatalf("recorded %d messages (%v), want 1", len(inbound), err)
		}
	})
}

// TestRecoveryAfterRedisLosesEverything deletes every Redis key of the
// deployment (what FLUSHALL does to it; a real FLUSHALL would also hit the
// other tests sharing this Redis) in the middle of a conversation: the next
// message continues at the same question with every earlier answer.
func TestRecoveryAfterRedisLosesEverything(t *testing.T) {
	onBoth(t, func(t *testing.T, b *testBundle) {
		for i, text := range []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2023-01", "至今", "否"} {
			b.send(t, "u-rec", "r"+strconv.Itoa(i), text)
		}
		res := b.send(t, "u-rec", "r6", "是") // has_prior_cert: yes
		if got := asked(res); got != "prior_cert_date" {
			t.Fatalf("before the flush the bot asks %q, want prior_cert_date", got)
		}
		if err := storetest.DeleteKeys(context.Background(), b.rdb, b.prefix); err != nil {
			t.Fatal(err)
		}
		res = b.send(t, "u-rec", "r7", "2023-02")
		if got := asked(res); got != "has_training_cert" {
			t.Fatalf("after the flush the bot asks %q, want has_training_cert (the conversation went on)", got)
		}
		snap, err := b.record.LatestSession(context.Background(), store.Identity{Channel: "test", UserID: "u-rec"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := b.router.Engine().Unmarshal(snap)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Work) != 1 || s.Answers["has_prior_cert"] != true || s.Answers["prior_cert_date"] != "2023-02" {
			t.Fatalf("answers after recovery: work %+v, answers %v", s.Work, s.Answers)
		}
	})
}

// BenchmarkRouterTurns measures turns through engine + Redis + PostgreSQL
// with 2,000 candidates and 16 turns in flight (8 per core), and reports
// turns/s, p50 and p99. PostgreSQL and Redis share the machine's two cores.
func BenchmarkRouterTurns(b *testing.B) {
	tb := setup(b)
	const users = 2000
	script := []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2024-01", "至今", "否", "否", "上一步"}
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(8)
	b.ReportAllocs()
	before := tb.counts.Read()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			n := next.Add(1)
			user := "bench-" + strconv.FormatInt(n%users, 10)
			text := script[(n/users)%int64(len(script))]
			t0 := time.Now()
			_, err := tb.router.Handle(context.Background(), dialogs.Inbound{Channel: "bench", UserID: user, MsgID: strconv.FormatInt(n, 10), Text: text})
			if err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportRoundTrips(b, tb.counts.Read().Sub(before))
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "turns/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	}
}

// reportRoundTrips reports c per benchmark iteration (turn).
func reportRoundTrips(b *testing.B, c storetest.Counts) {
	n := float64(b.N)
	b.ReportMetric(float64(c.Redis)/n, "redis-rt/turn")
	b.ReportMetric(float64(c.PG)/n, "pg-rt/turn")
	b.ReportMetric(float64(c.Statements)/n, "pg-stmts/turn")
}

// TestRetryAfterRedisLostTheDedupKeyIsStillOneTurn: Redis loses everything
// between a delivery and its retry; the record's message ids catch the retry.
func TestRetryAfterRedisLostTheDedupKeyIsStillOneTurn(t *testing.T) {
	onBoth(t, func(t *testing.T, b *testBundle) {
		b.send(t, "u-retry", "once", "是")
		if err := storetest.DeleteKeys(context.Background(), b.rdb, b.prefix); err != nil {
			t.Fatal(err)
		}
		_, err := b.router.Handle(context.Background(), dialogs.Inbound{Channel: "test", UserID: "u-retry", MsgID: "once", Text: "是"})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("retry after the flush: err %v, want ErrDuplicate", err)
		}
		res := b.send(t, "u-retry", "next", "杭州某某电子商务有限公司")
		if got := asked(res); got != "work_history.occupation" {
			t.Fatalf("the conversation went on at %q, want work_history.occupation", got)
		}
		if b.turns.Load() != 2 {
			t.Fatalf("%d turns, want 2", b.turns.Load())
		}
	})
}
