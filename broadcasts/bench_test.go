package broadcasts_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"regbot/bot"
	"regbot/broadcasts"
	"regbot/notify"
)

// countingSender is a channel that accepts every message at once.
type countingSender struct{ n atomic.Int64 }

func (s *countingSender) Deliver(_ context.Context, d bot.Delivery) (int, error) {
	s.n.Add(1)
	return len(d.Messages), nil
}

// BenchmarkBroadcast measures a broadcast's dispatch overhead with the
// rate limit off: messages per second from "send" to every recipient's
// outcome recorded, through the recipients' hand-over to the outbox and
// notify's delivery, to a channel that answers at once (in process), and
// to the real Telegram adapter over HTTP to the fake Bot API. Run it with
// a fixed count, e.g. -benchtime=10000x: b.N is the number of recipients.
func BenchmarkBroadcast(b *testing.B) {
	for _, channel := range []string{"in-process", "telegram-http"} {
		b.Run(channel, func(b *testing.B) {
			e := newEnv(b)
			e.candidates(b, b.N)
			var counter *countingSender
			if channel == "in-process" {
				counter = &countingSender{}
				e.startWith(b, broadcasts.Config{Rates: map[string]float64{"telegram": 0}, Batch: 500}, nil, counter)
			} else {
				e.start(b, broadcasts.Config{Rates: map[string]float64{"telegram": 0}}, nil)
			}
			b.ResetTimer()
			start := time.Now()
			bc := e.send(b, `true`, "{name}您好")
			started := time.Since(start)
			p := e.waitDone(b, bc.ID, 10*time.Minute)
			b.Logf("%d recipients: fixed in %s, sent in %s", b.N, started.Round(time.Millisecond), (time.Since(start) - started).Round(time.Millisecond))
			b.StopTimer()
			if p.Sent != b.N {
				b.Fatalf("progress %+v", p)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// startWith is start with another channel for Telegram's messages.
func (e *env) startWith(t testing.TB, cfg broadcasts.Config, lim broadcasts.Limiter, sender notify.Sender) {
	t.Helper()
	ctx := context.Background()
	senders := map[string]notify.Sender{}
	n, err := notify.New(notifyConfig, notify.Deps{Record: e.rec, Queue: notify.NewRiverQueue(e.pool, e.rec, testLog()),
		Blobs: e.blobs, Senders: senders}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	cfg.PollInterval = 100 * time.Millisecond
	r, err := broadcasts.NewRunner(cfg, e.svc, e.rec, n, lim, testLog())
	if err != nil {
		t.Fatal(err)
	}
	senders["telegram"] = r.Pace("telegram", sender)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(); n.Stop() })
}
