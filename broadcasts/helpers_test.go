package broadcasts_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/bot/telegram"
	"regbot/bot/telegram/telegramtest"
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/notify"
	"regbot/plans"
	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// notifyConfig makes the outbox's retries and sweeps quick enough for
// tests. The send timeout and the lease stay the defaults: a delivery's
// claim lasts twice the send timeout, and the outbox is at-least-once, so a
// send that outlasted a shorter claim on a loaded machine (10,000 sends
// took 88 s at a load of 20) was sent again, which the tests that count
// deliveries rightly refuse. No test here needs a send to time out.
var notifyConfig = notify.Config{
	RetryBackoff:  200 * time.Millisecond,
	MaxRetryWait:  time.Second,
	OrderWait:     100 * time.Millisecond,
	SweepInterval: 500 * time.Millisecond,
	SendTimeout:   notify.DefaultSendTimeout,
	Lease:         notify.DefaultLease,
	PollInterval:  100 * time.Millisecond,
}

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// env is a record on a schema of the test's own, the plan, a fake Bot
// API and the broadcast service.
type env struct {
	pool  *pgxpool.Pool
	rec   *postgres.Store
	plan  *dialogs.Plan
	tg    *telegramtest.Server
	blobs *dialogs.MemoryBlobs
	svc   *broadcasts.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 32)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := notify.MigrateRiver(ctx, pool); err != nil {
		t.Fatal(err)
	}
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{pool: pool, rec: postgres.New(pool), plan: plan, tg: telegramtest.New(t), blobs: dialogs.NewMemoryBlobs()}
	e.svc = broadcasts.NewService(e.rec, plan, e.blobs, testLog())
	return e
}

// instance is one process sending broadcasts: a Notifier with the real
// Telegram adapter against the fake Bot API, and a Runner.
type instance struct {
	n      *notify.Notifier
	runner *broadcasts.Runner
}

// noTurns is the adapter's handler; these tests only send.
type noTurns struct{}

func (noTurns) Handle(context.Context, dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{}, nil
}

func (e *env) start(t testing.TB, cfg broadcasts.Config, lim broadcasts.Limiter) *instance {
	t.Helper()
	ctx := context.Background()
	tg, err := telegram.New(telegram.Config{Token: telegramtest.Token, ServerURL: e.tg.URL()}, noTurns{},
		telegram.Deps{Unreachable: e.rec.MarkUnreachable}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]notify.Sender{}
	n, err := notify.New(notifyConfig, notify.Deps{Record: e.rec, Queue: notify.NewRiverQueue(e.pool, e.rec, testLog()),
		Blobs: e.blobs, Senders: senders}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	r, err := broadcasts.NewRunner(cfg, e.svc, e.rec, n, lim, testLog())
	if err != nil {
		t.Fatal(err)
	}
	senders["telegram"] = r.Pace("telegram", tg)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	inst := &instance{n: n, runner: r}
	t.Cleanup(inst.stop)
	return inst
}

func (i *instance) stop() {
	i.runner.Stop()
	i.n.Stop()
}

// candidates adds n candidates on Telegram (chat ids from 1,000,001 on,
// after those there are), each with an application at collecting and a
// name, and returns their chat ids.
func (e *env) candidates(t testing.TB, n int) []string {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `
		with c as (insert into candidates (created_at) select now() from generate_series(1, $1) returning id),
		i as (insert into identities (channel, user_id, candidate_id)
		      select 'telegram', (1000000 + id)::text, id from c returning candidate_id, user_id)
		insert into applications (candidate_id, plan_id, answers)
		select candidate_id, $2, jsonb_build_object('name', '考生' || candidate_id) from i
		returning (1000000 + candidate_id)::text`, n, e.plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exec runs a statement on the record.
func (e *env) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// create writes and sends a broadcast to the candidates filter chooses.
func (e *env) send(t testing.TB, filter, body string) store.Broadcast {
	t.Helper()
	ctx := context.Background()
	b, err := e.svc.Create(ctx, broadcasts.Draft{Title: "测试群发", Filter: filter, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Send(ctx, b.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return b
}

// waitDone waits until broadcast id is done and returns its progress. It
// reads the broadcast's state (one row) while it waits, the counts once at
// the end, so that watching does not load the database it measures.
func (e *env) waitDone(t testing.TB, id int64, within time.Duration) store.BroadcastProgress {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		b, err := e.svc.Broadcast(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.State == store.BroadcastDone {
			p, err := e.svc.Progress(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if time.Now().After(deadline) {
			p, _ := e.svc.Progress(ctx, id)
			t.Fatalf("broadcast %d not done after %s: %s, %+v", id, within, b.State, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
