package broadcasts_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"regbot/bot/telegram"
	"regbot/bot/telegram/telegramtest"
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/notify"
	"regbot/plans"
	"regbot/store"
	"regbot/store/memory"
)

func memoryLimiter() broadcasts.Limiter { return memory.New() }

// TestOnMemoryStore: the same broadcast on the embedded memory store and
// its in-process queue (regbot tried out without a database): a preview,
// every reachable candidate once, the blocked one skipped, the report.
func TestOnMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := memory.New()
	const n = 30
	for i := range n {
		id := store.Identity{Channel: "telegram", UserID: fmt.Sprint(3000 + i)}
		err := m.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: plan.ID, MsgID: "m1", Inbound: "你好", Session: []byte(`{}`),
			Answers: map[string]any{"name": fmt.Sprint("考生", i)}, At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := m.MarkUnreachable(ctx, store.Identity{Channel: "telegram", UserID: "3007"}); err != nil {
		t.Fatal(err)
	}
	tg := telegramtest.New(t)
	adapter, err := telegram.New(telegram.Config{Token: telegramtest.Token, ServerURL: tg.URL()}, noTurns{}, telegram.Deps{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]notify.Sender{}
	blobs := dialogs.NewMemoryBlobs()
	nt, err := notify.New(notifyConfig, notify.Deps{Record: m, Queue: notify.NewMemoryQueue(m), Blobs: blobs, Senders: senders}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := broadcasts.NewService(m, plan, blobs, nil)
	r, err := broadcasts.NewRunner(broadcasts.Config{PollInterval: 100 * time.Millisecond, Rates: map[string]float64{"telegram": 200}}, svc, m, nt, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	senders["telegram"] = r.Pace("telegram", adapter)
	if err := nt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(); nt.Stop() })

	pre, err := svc.Preview(ctx, `status == "collecting"`, "", "{name}您好")
	if err != nil || pre.Matches != n || pre.Unreachable != 1 || pre.Sample[0].Text != "考生0您好" {
		t.Fatalf("preview %+v, %v", pre, err)
	}
	b, err := svc.Create(ctx, broadcasts.Draft{Title: "内存", Filter: `status == "collecting"`, Body: "{name}您好"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Send(ctx, b.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := svc.Broadcast(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == store.BroadcastDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s", got.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	p, err := svc.Progress(ctx, b.ID)
	if err != nil || p.Sent != n-1 || p.Skipped != 1 || p.Reasons["unreachable"] != 1 {
		t.Fatalf("progress %+v, %v", p, err)
	}
	for c, k := range tg.Delivered() {
		if k != 1 || c == "3007" {
			t.Fatalf("chat %s got it %d times", c, k)
		}
	}
	var buf bytes.Buffer
	if err := svc.Report(ctx, b.ID, &buf); err != nil || strings.Count(buf.String(), ",sent,") != n-1 {
		t.Fatalf("report (%v):\n%s", err, buf.String())
	}
	if _, err := svc.SaveSegment(ctx, "全部", "true", 0); err != nil {
		t.Fatal(err)
	}
	if segs, _ := svc.Segments(ctx); len(segs) != 1 || segs[0].Filter != "true" {
		t.Fatalf("segments %+v", segs)
	}
}
