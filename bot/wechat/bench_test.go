package wechat

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store/postgres"
	storeredis "regbot/store/redis"
	"regbot/store/seal"
	"regbot/store/storetest"
)

// BenchmarkWebhook posts signed plaintext text messages over HTTP from many
// candidates at once and reports turns per second and the latency
// percentiles of the webhook's answer.
//
//   - echo: the webhook alone (signature, parsing, passive reply) with a
//     handler that echoes.
//   - router: the production path: the real Router and dialog engine on
//     Redis (sessions, de-duplication, locks) and PostgreSQL (the record).
func BenchmarkWebhook(b *testing.B) {
	b.Run("echo", func(b *testing.B) {
		bundle := setup(b, setupOpts{})
		benchWebhook(b, bundle, nil)
	})
	b.Run("router", func(b *testing.B) {
		ctx := context.Background()
		counts := &storetest.RoundTrips{}
		rdb, prefix := storetest.RedisPrefix(b)
		rdb.AddHook(counts.Hook())
		rs, err := storeredis.New(rdb, storeredis.WithPrefix(prefix))
		if err != nil {
			b.Fatal(err)
		}
		pool, err := postgres.NewPool(ctx, storetest.PostgresURL(b), 16, counts.Tracer())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		if _, _, err := postgres.Migrate(ctx, pool); err != nil {
			b.Fatal(err)
		}
		plan, err := plans.Default()
		if err != nil {
			b.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		engine, err := dialogs.NewEngine(plan, dialogs.Options{Inspector: materials.NewInspector(plan.Texts), Fixer: materials.NewFixer(plan.Texts), Log: log})
		if err != nil {
			b.Fatal(err)
		}
		// The rest of a reply goes to the outbox, for the queue (no
		// Dispatcher: the webhook's own cost).
		keys, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
		if err != nil {
			b.Fatal(err)
		}
		// As in production: personal data sealed under a record key.
		router := bot.NewRouter(engine, bot.Deps{Fast: rs, Record: postgres.New(pool, postgres.WithKeys(keys))}, log,
			bot.WithSplit(Channel, SplitPassive))
		bundle := setup(b, setupOpts{handler: router, deps: func(d *Deps) { d.Redis, d.KeyPrefix = rdb, prefix+"wechat:" }})
		benchWebhook(b, bundle, counts)
	})
}

func benchWebhook(b *testing.B, bundle *testBundle, counts *storetest.RoundTrips) {
	const users = 500
	answers := []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否", "张三"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(16)
	b.ReportAllocs()
	var before storetest.Counts
	if counts != nil {
		before = counts.Read()
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			n := seq.Add(1)
			user := fmt.Sprintf("oBench%05d", n%users)
			text := answers[(n/users)%int64(len(answers))]
			req := bundle.newRequest(b, request{xml: textXML(user, n, text)})
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(start))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if counts != nil {
		c := counts.Read().Sub(before)
		n := float64(b.N)
		b.ReportMetric(float64(c.Redis)/n, "redis-rt/turn")
		b.ReportMetric(float64(c.PG)/n, "pg-rt/turn")
		b.ReportMetric(float64(c.Statements)/n, "pg-stmts/turn")
	}
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
