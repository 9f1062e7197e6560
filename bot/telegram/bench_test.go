package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// BenchmarkTelegramWebhook posts text updates from many chats to the
// webhook, with the real Router and dialog on Redis and PostgreSQL and a
// local stand-in for the Bot API, and reports turns per second, the latency
// percentiles, allocations, the Redis and PostgreSQL round trips and the
// Bot API calls per turn. The Router is built as regbot serve builds it:
// the channel's split (SplitFor) and the record sealing personal data; the
// per-user rate limit is off.
//
//   - api: telegram.webhook_reply off: every reply goes to the outbox,
//     which notify delivers by the Bot API after the turn (not measured:
//     no Dispatcher, the webhook's own cost).
//   - webhook-reply: a reply that makes one text message is the webhook's
//     response (telegram.webhook_reply, the default), and so is the last of
//     a few texts that do not join, after the others by the API; images go
//     to the outbox.
func BenchmarkTelegramWebhook(b *testing.B) {
	b.Run("api", func(b *testing.B) { benchTelegramWebhook(b, false) })
	b.Run("webhook-reply", func(b *testing.B) { benchTelegramWebhook(b, true) })
}

func benchTelegramWebhook(b *testing.B, webhookReply bool) {
	ctx := context.Background()
	var sends atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		sends.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},"text":"x"}}`)
	}))
	b.Cleanup(api.Close)

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
	keys, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Token: "123456:bench-token", Mode: ModeWebhook, WebhookSecret: testSecret, ServerURL: api.URL, WebhookReply: &webhookReply}
	router := bot.NewRouter(engine, bot.Deps{Fast: rs, Record: postgres.New(pool, postgres.WithKeys(keys))}, log,
		bot.WithSplit(Channel, SplitFor(cfg)))
	a, err := New(cfg, router, Deps{HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, log)
	if err != nil {
		b.Fatal(err)
	}
	hook := httptest.NewServer(a)
	b.Cleanup(hook.Close)

	const users = 500
	answers := []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否", "张三"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(16)
	b.ReportAllocs()
	before, sendsBefore := counts.Read(), sends.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			n := seq.Add(1)
			chat := 10_000 + n%users
			text := answers[(n/users)%int64(len(answers))]
			body, _ := json.Marshal(textUpdate(n, chat, text))
			req, _ := http.NewRequest(http.MethodPost, hook.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(secretHeader, testSecret)
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
	c := counts.Read().Sub(before)
	nf := float64(b.N)
	b.ReportMetric(float64(c.Redis)/nf, "redis-rt/turn")
	b.ReportMetric(float64(c.PG)/nf, "pg-rt/turn")
	b.ReportMetric(float64(c.Statements)/nf, "pg-stmts/turn")
	b.ReportMetric(float64(sends.Load()-sendsBefore)/nf, "api-calls/turn")
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(nf/b.Elapsed().Seconds(), "turns/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
