package notify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"regbot/bot"
	"regbot/notify"
	"regbot/store"
)

// countingSender is a channel that accepts everything at once and counts.
type countingSender struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (s *countingSender) Deliver(_ context.Context, d bot.Delivery) (int, error) {
	if s.n.Add(1) == s.want {
		close(s.done)
	}
	return len(d.Messages), nil
}

// BenchmarkDispatch measures rows per second from a committed outbox row
// to the channel and back to the record (outcome written): through the
// fast path (rows a turn claimed, handed over with Dispatch) and through
// the queue (rows queued with Queue, in transactions of 500, as a
// broadcast would), on PostgreSQL + River and on the memory store, to a
// channel that answers at once, one row per recipient. The inserts of the
// fast path's rows are outside the timer (they are part of the turn's
// batch); the queue's are inside.
func BenchmarkDispatch(b *testing.B) {
	for _, be := range []string{"postgres", "memory"} {
		for _, path := range []string{"fast", "queue"} {
			b.Run(be+"/"+path, func(b *testing.B) {
				benchDispatch(b, be, path)
			})
		}
	}
}

func benchDispatch(b *testing.B, backend, path string) {
	ctx := context.Background()
	cfg := notify.Config{Workers: 32, QueueWorkers: 32, PollInterval: 100 * time.Millisecond, SweepInterval: time.Hour}
	sender := &countingSender{want: int64(b.N), done: make(chan struct{})}
	var bundle *bundle
	switch backend {
	case "postgres":
		bundle = newPostgres(b, cfg, sender)
	default:
		bundle = newMemory(b, cfg, sender)
	}
	msgs := make([]store.Outgoing, b.N)
	for i := range msgs {
		msgs[i] = message(b, store.Identity{Channel: "telegram", UserID: fmt.Sprint(i)}, fmt.Sprint("m", i))
	}
	var rows []store.Delivery
	if path == "fast" {
		for i := 0; i < len(msgs); i += 500 {
			r, err := bundle.rec.InsertOutbox(ctx, msgs[i:min(i+500, len(msgs))], bundle.n.FastClaim())
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, r...)
		}
	}
	b.ResetTimer()
	start := time.Now()
	if path == "fast" {
		for i := 0; i < len(rows); i += 64 {
			bundle.n.Dispatch(ctx, rows[i:min(i+64, len(rows))])
		}
	} else {
		for i := 0; i < len(msgs); i += 500 {
			if _, err := bundle.n.Queue(ctx, msgs[i:min(i+500, len(msgs))]...); err != nil {
				b.Fatal(err)
			}
		}
	}
	select {
	case <-sender.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d delivered", sender.n.Load(), b.N)
	}
	bundle.n.Stop() // writes the last outcomes
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
