package broadcasts_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"regbot/bot/telegram/telegramtest"
	"regbot/broadcasts"
	"regbot/store"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// TestBroadcastToTenThousand sends a broadcast to 10,000 generated
// candidates through the real Telegram adapter and a fake Bot API: every
// recipient gets it exactly once, with their name filled in, and the
// report lists them all as sent. The rate limit is set high (5,000/s) so
// the test measures regbot, not the platform's pace (TestRateLimit checks
// the pace at Telegram's real limit).
func TestBroadcastToTenThousand(t *testing.T) {
	t.Parallel()
	const n = 10000
	e := newEnv(t)
	chats := e.candidates(t, n)
	e.start(t, broadcasts.Config{Rates: map[string]float64{"telegram": 5000}, Burst: 100}, e.rec)
	start := time.Now()
	b := e.send(t, `true`, "{name}您好：12 月 20 日考试，请按时参加。")
	p := e.waitDone(t, b.ID, 5*time.Minute)
	took := time.Since(start)
	t.Logf("%d messages in %s: %.0f/s", n, took.Round(time.Millisecond), n/took.Seconds())
	if p.Sent != n || p.Total != n || p.Failed+p.Skipped+p.Waiting+p.Sending != 0 {
		t.Fatalf("progress %+v, want %d sent", p, n)
	}
	got := e.tg.Delivered()
	for _, c := range chats {
		if got[c] != 1 {
			t.Fatalf("chat %s got the broadcast %d times", c, got[c])
		}
	}
	if len(got) != n {
		t.Fatalf("%d chats got it, want %d", len(got), n)
	}
	for _, s := range e.tg.Sends()[:5] {
		if !strings.HasPrefix(s.Text, "考生") || !strings.Contains(s.Text, "您好：12 月 20 日") {
			t.Fatalf("text not filled in: %q", s.Text)
		}
	}
	var buf bytes.Buffer
	if err := e.svc.Report(context.Background(), b.ID, &buf); err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != n+1 || lines[1][4] != "sent" || !strings.HasPrefix(lines[1][1], "考生") {
		t.Fatalf("report: %d lines, first %v", len(lines), lines[:2])
	}
}

// TestRateLimit runs two instances sharing one rate bucket, in Redis and
// (without Redis) in PostgreSQL: together they never send more than the
// configured 25 messages a second (measured at the fake Bot API over every
// sliding second), nor more than one a second to a chat, and each
// recipient gets the broadcast once.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	for _, bucket := range []string{"redis", "postgres"} {
		t.Run(bucket, func(t *testing.T) {
			t.Parallel()
			const n, rate = 75, 25
			e := newEnv(t)
			e.candidates(t, n)
			var lim broadcasts.Limiter = e.rec
			if bucket == "redis" {
				rdb, prefix := storetest.RedisPrefix(t)
				rs, err := redis.New(rdb, redis.WithPrefix(prefix))
				if err != nil {
					t.Fatal(err)
				}
				lim = rs
			}
			cfg := broadcasts.Config{Rates: map[string]float64{"telegram": rate}}
			e.start(t, cfg, lim)
			e.start(t, cfg, lim)
			start := time.Now()
			b := e.send(t, `true`, "考试提醒")
			p := e.waitDone(t, b.ID, 2*time.Minute)
			took := time.Since(start)
			if p.Sent != n {
				t.Fatalf("progress %+v", p)
			}
			sends := e.tg.Sends()
			overall, perChat := telegramtest.MaxPerWindow(sends, time.Second)
			t.Logf("%d sends in %s (%.1f/s); at most %d in a second, %d to one chat", len(sends), took.Round(time.Millisecond),
				float64(len(sends))/took.Seconds(), overall, perChat)
			// The bucket spaces the grants 40 ms apart, so the first send
			// and the last are at least (n-1)/rate apart, less how much
			// longer the way from the bucket to the fake server (a
			// statement, a goroutine, an HTTP request) takes for some sends
			// than for others on a loaded machine. That spread also lets a
			// few more sends than the rate fall within one second at the
			// fake: allow 200 ms of it, 5 sends (Telegram's own limit, ~30,
			// is above that; a CI run saw 28 once). Two instances not
			// sharing the bucket would send 50 a second, in half the time.
			const spread = 200 * time.Millisecond
			at := make([]time.Time, len(sends))
			for i, x := range sends {
				at[i] = x.At
			}
			first := slices.MinFunc(at, time.Time.Compare)
			last := slices.MaxFunc(at, time.Time.Compare)
			if least := time.Duration(n-1)*time.Second/rate - spread; last.Sub(first) < least {
				t.Fatalf("%d sends within %s, want at least %s at %d a second", len(sends), last.Sub(first), least, rate)
			}
			if overall > rate+int(rate*spread/time.Second) || perChat > 1 {
				t.Fatalf("at most %d sends in a second (limit %d), %d to one chat", overall, rate, perChat)
			}
			for c, k := range e.tg.Delivered() {
				if k != 1 {
					t.Fatalf("chat %s got it %d times", c, k)
				}
			}
		})
	}
}

// TestRetryAfter: Telegram answers one send with 429 retry_after 2; no
// broadcast message goes to Telegram until the 2 seconds are over, then
// the rest go, the refused one too, each once.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	const n = 30
	e := newEnv(t)
	e.candidates(t, n)
	var refusedAt time.Time
	count := 0
	e.tg.FailWith(func(s telegramtest.Send) *telegramtest.Error {
		if count++; count == 8 {
			refusedAt = s.At
			return &telegramtest.Error{Code: 429, Description: "Too Many Requests: retry after 2", RetryAfter: 2}
		}
		return nil
	})
	e.start(t, broadcasts.Config{Rates: map[string]float64{"telegram": 25}}, e.rec)
	b := e.send(t, `true`, "考试提醒")
	p := e.waitDone(t, b.ID, time.Minute)
	if p.Sent != n {
		t.Fatalf("progress %+v", p)
	}
	var early []string
	for _, s := range e.tg.Sends() {
		// A send granted before the 429 arrived may still be on its way.
		if s.At.After(refusedAt.Add(300*time.Millisecond)) && s.At.Before(refusedAt.Add(2*time.Second)) {
			early = append(early, s.String())
		}
	}
	if len(early) > 0 {
		t.Fatalf("sent within retry_after of the 429 at %s:\n%s", refusedAt.Format("15:04:05.000"), strings.Join(early, "\n"))
	}
	for c, k := range e.tg.Delivered() {
		if k != 1 {
			t.Fatalf("chat %s got it %d times", c, k)
		}
	}
}

// TestBlockedRecipients: candidates known to have blocked the bot are
// skipped without a send, those who block it now (403) are recorded as
// failed and marked, and neither is tried again; the counts and the
// report say why.
func TestBlockedRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	chats := e.candidates(t, 20)
	e.exec(t, `update identities set unreachable_at = now() where user_id = any($1)`, chats[:5])
	blocked := map[string]bool{chats[5]: true, chats[6]: true, chats[7]: true}
	e.tg.FailWith(func(s telegramtest.Send) *telegramtest.Error {
		if blocked[s.ChatID] {
			return &telegramtest.Error{Code: 403, Description: "Forbidden: bot was blocked by the user"}
		}
		return nil
	})
	e.start(t, broadcasts.Config{}, e.rec)
	ctx := context.Background()
	pre, err := e.svc.Preview(ctx, `true`, "", "通知")
	if err != nil {
		t.Fatal(err)
	}
	if pre.Matches != 20 || pre.Unreachable != 5 || pre.Channels["telegram"] != 20 || len(pre.Sample) != 10 {
		t.Fatalf("preview %+v", pre)
	}
	b := e.send(t, `true`, "通知")
	p := e.waitDone(t, b.ID, time.Minute)
	if p.Sent != 12 || p.Failed != 3 || p.Skipped != 5 || p.Reasons["unreachable"] != 8 {
		t.Fatalf("progress %+v, want 12 sent, 3 failed and 5 skipped as unreachable", p)
	}
	time.Sleep(500 * time.Millisecond) // no retry comes
	refused := 0
	for _, s := range e.tg.Sends() {
		if blocked[s.ChatID] {
			refused++
		}
		if slicesContains(chats[:5], s.ChatID) {
			t.Fatalf("a send to a chat known blocked: %s", s)
		}
	}
	if refused != 3 {
		t.Fatalf("%d sends to the chats that block the bot, want 3 (no retry)", refused)
	}
	var buf bytes.Buffer
	if err := e.svc.Report(ctx, b.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(buf.String(), ",skipped,unreachable,"); c != 5 {
		t.Fatalf("report has %d skipped unreachable lines, want 5:\n%s", c, buf.String())
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestNoRecipients: a filter that matches nobody is reported before
// anything is sent, and the broadcast stays a draft; a scheduled one that
// matches nobody when its time comes ends with a note.
func TestNoRecipients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.candidates(t, 3)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, broadcasts.Draft{Title: "缴费提醒", Filter: `status == "paid"`, Body: "请缴费"})
	if err != nil {
		t.Fatal(err)
	}
	pre, err := e.svc.Preview(ctx, b.Filter, "", b.Body)
	if err != nil || pre.Matches != 0 {
		t.Fatalf("preview %+v, %v", pre, err)
	}
	if _, err := e.svc.Send(ctx, b.ID, time.Time{}); !errors.Is(err, broadcasts.ErrNoRecipients) {
		t.Fatalf("Send = %v, want ErrNoRecipients", err)
	}
	if got, _ := e.svc.Broadcast(ctx, b.ID); got.State != store.BroadcastDraft {
		t.Fatalf("state %s after a refused send", got.State)
	}
	// Scheduled while one candidate matches; gone when it starts.
	e.start(t, broadcasts.Config{}, e.rec)
	b2, err := e.svc.Create(ctx, broadcasts.Draft{Title: "定时", Filter: `status == "collecting" && has_name`, Body: "你好"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Send(ctx, b2.ID, time.Now().Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	e.exec(t, `update applications set answers = '{}'`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := e.svc.Broadcast(ctx, b2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == store.BroadcastDone {
			if got.Note != broadcasts.NoteNoRecipients || got.Recipients != 0 {
				t.Fatalf("done with note %q and %d recipients", got.Note, got.Recipients)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled broadcast still %s", got.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(e.tg.Sends()) != 0 {
		t.Fatalf("sent %d messages", len(e.tg.Sends()))
	}
}

// TestPauseResumeCancel: a paused broadcast stops sending (the few sends
// already granted go), goes on when resumed, and a cancelled one sends
// nothing more.
func TestPauseResumeCancel(t *testing.T) {
	t.Parallel()
	const n = 200
	e := newEnv(t)
	e.candidates(t, n)
	e.start(t, broadcasts.Config{Rates: map[string]float64{"telegram": 40}}, e.rec)
	ctx := context.Background()
	b := e.send(t, `true`, "通知")
	waitSends(t, e, 10)
	if err := e.svc.Pause(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	paused := waitQuiet(t, e) // the runners see it within their poll interval
	time.Sleep(time.Second)
	if now := len(e.tg.Sends()); now != paused || paused >= n {
		t.Fatalf("%d sends while paused (%d before)", now-paused, paused)
	}
	if err := e.svc.Resume(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	waitSends(t, e, paused+10)
	if _, err := e.svc.Cancel(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	cancelled := waitQuiet(t, e)
	time.Sleep(time.Second)
	if now := len(e.tg.Sends()); now != cancelled || cancelled >= n {
		t.Fatalf("%d sends after the cancel (%d before)", now-cancelled, cancelled)
	}
	got, err := e.svc.Broadcast(ctx, b.ID)
	if err != nil || got.State != store.BroadcastCancelled {
		t.Fatalf("state %s, %v", got.State, err)
	}
	if err := e.svc.Resume(ctx, b.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("resume a cancelled broadcast: %v", err)
	}
	p, err := e.svc.Progress(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != cancelled || p.Sent+p.Waiting+p.Cancelled != n {
		t.Fatalf("progress %+v after %d sends", p, cancelled)
	}
}

// waitQuiet waits until no send has come for 600 ms (the runners' poll
// interval and a send in flight, on a loaded machine) and returns the
// number of sends; a broadcast still sending after 10 s fails the test (at
// 40 sends a second it is never quiet that long).
func waitQuiet(t *testing.T, e *env) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last, since := len(e.tg.Sends()), time.Now()
	for time.Since(since) < 600*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("still sending 10 s later: %d sends", last)
		}
		time.Sleep(20 * time.Millisecond)
		if n := len(e.tg.Sends()); n != last {
			last, since = n, time.Now()
		}
	}
	return last
}

func waitSends(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(e.tg.Sends()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends, want %d", len(e.tg.Sends()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLimiters: the three rate buckets grant a burst, then one send per
// interval, and nothing while held.
func TestLimiters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rdb, prefix := storetest.RedisPrefix(t)
	rs, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	for name, lim := range map[string]broadcasts.Limiter{"postgres": e.rec, "redis": rs, "memory": memoryLimiter()} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const interval = 200 * time.Millisecond
			got, _, err := lim.TakeRate(ctx, "k", interval, 3, 10)
			if err != nil || got != 3 {
				t.Fatalf("first take: %d, %v; want the burst of 3", got, err)
			}
			got, wait, err := lim.TakeRate(ctx, "k", interval, 3, 10)
			if err != nil || got != 0 || wait <= 0 || wait > interval {
				t.Fatalf("second take: %d, wait %s, %v; want none and a wait up to %s", got, wait, err, interval)
			}
			time.Sleep(wait + 10*time.Millisecond)
			if got, _, _ := lim.TakeRate(ctx, "k", interval, 3, 10); got != 1 {
				t.Fatalf("after the wait: %d, want 1", got)
			}
			if err := lim.HoldRate(ctx, "k", interval, 3, time.Second); err != nil {
				t.Fatal(err)
			}
			got, wait, _ = lim.TakeRate(ctx, "k", interval, 3, 10)
			if got != 0 || wait < 900*time.Millisecond {
				t.Fatalf("held: %d, wait %s; want none for about 1s", got, wait)
			}
			if got, _, _ := lim.TakeRate(ctx, fmt.Sprint("other-", name), interval, 1, 5); got != 1 {
				t.Fatalf("another key: %d, want 1", got)
			}
		})
	}
}

// TestScheduled: a broadcast scheduled a moment ahead starts on its own
// when the time comes (a Runner sees it due) and reaches everyone.
func TestScheduled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.candidates(t, 5)
	e.start(t, broadcasts.Config{}, e.rec)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, broadcasts.Draft{Title: "定时", Filter: `true`, Body: "明天考试"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(1500 * time.Millisecond)
	if n, err := e.svc.Send(ctx, b.ID, at); err != nil || n != 5 {
		t.Fatalf("schedule: %d, %v", n, err)
	}
	if got, _ := e.svc.Broadcast(ctx, b.ID); got.State != store.BroadcastScheduled || len(e.tg.Sends()) != 0 {
		t.Fatalf("state %s with %d sends before its time", got.State, len(e.tg.Sends()))
	}
	p := e.waitDone(t, b.ID, time.Minute)
	got, err := e.svc.Broadcast(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != 5 || got.StartedAt.Before(at) {
		t.Fatalf("sent %d, started %s (due %s)", p.Sent, got.StartedAt, at)
	}
}
