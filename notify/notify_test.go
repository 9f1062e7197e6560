package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/notify"
	"regbot/store"
	"regbot/store/memory"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// testConfig makes retries and sweeps fast enough for tests.
var testConfig = notify.Config{
	RetryBackoff:  100 * time.Millisecond,
	MaxRetryWait:  400 * time.Millisecond,
	OrderWait:     100 * time.Millisecond,
	SweepInterval: 200 * time.Millisecond,
	SendTimeout:   5 * time.Second,
	Lease:         10 * time.Second,
	MaxAttempts:   6,
	PollInterval:  100 * time.Millisecond,
}

// outbox is what the tests read back and insert through, on either
// record.
type outbox interface {
	InsertOutbox(ctx context.Context, msgs []store.Outgoing, claim store.FastClaim) ([]store.Delivery, error)
	Delivery(ctx context.Context, id int64) (store.Delivery, error)
	DeliveryAttempts(ctx context.Context, id int64) ([]store.DeliveryAttempt, error)
	Deliveries(ctx context.Context, candidateID int64, limit int) ([]store.Delivery, error)
	RecordTurn(ctx context.Context, t *store.Turn) error
	Unreachable(ctx context.Context, id store.Identity) (bool, error)
}

// bundle is one Notifier under test with its record and fake channel.
type bundle struct {
	n      *notify.Notifier
	rec    outbox
	pool   *pgxpool.Pool // nil on memory
	sender *fakeSender
}

// backends are the two records the same notify code runs on.
var backends = []struct {
	name  string
	setup func(t *testing.T, cfg notify.Config) *bundle
}{
	{"postgres", setupPostgres},
	{"memory", setupMemory},
}

func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func setupPostgres(t *testing.T, cfg notify.Config) *bundle {
	s := newFakeSender()
	b := newPostgres(t, cfg, s)
	b.sender = s
	return b
}

func setupMemory(t *testing.T, cfg notify.Config) *bundle {
	s := newFakeSender()
	b := newMemory(t, cfg, s)
	b.sender = s
	return b
}

func newPostgres(t testing.TB, cfg notify.Config, s notify.Sender) *bundle {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 24)
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
	rec := postgres.New(pool)
	b := &bundle{rec: rec, pool: pool}
	b.n = start(t, cfg, notify.Deps{Record: rec, Queue: notify.NewRiverQueue(pool, rec, testLog())}, s)
	return b
}

func newMemory(t testing.TB, cfg notify.Config, s notify.Sender) *bundle {
	t.Helper()
	m := memory.New()
	b := &bundle{rec: m}
	b.n = start(t, cfg, notify.Deps{Record: m, Queue: notify.NewMemoryQueue(m)}, s)
	return b
}

func start(t testing.TB, cfg notify.Config, deps notify.Deps, s notify.Sender) *notify.Notifier {
	t.Helper()
	deps.Senders = map[string]notify.Sender{"telegram": s}
	deps.Blobs = dialogs.NewMemoryBlobs()
	n, err := notify.New(cfg, deps, testLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// fakeSender is a channel whose answers the test scripts per message text;
// it records what it delivered, in order, per user.
type fakeSender struct {
	mu        sync.Mutex
	script    map[string][]error // text → errors of the next attempts
	delivered map[string][]string
	calls     map[string][]time.Time // text → when each attempt came
	delay     func() time.Duration
}

func newFakeSender() *fakeSender {
	return &fakeSender{script: map[string][]error{}, delivered: map[string][]string{}, calls: map[string][]time.Time{}}
}

// fail makes the next attempts of text fail with errs, in order.
func (s *fakeSender) fail(text string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[text] = append(s.script[text], errs...)
}

func (s *fakeSender) Deliver(ctx context.Context, d bot.Delivery) (int, error) {
	if s.delay != nil {
		time.Sleep(s.delay())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	done := d.Done
	for i, m := range d.Messages {
		if i < d.Done {
			continue
		}
		s.calls[m.Text] = append(s.calls[m.Text], time.Now())
		if errs := s.script[m.Text]; len(errs) > 0 {
			s.script[m.Text] = errs[1:]
			if errs[0] != nil {
				return done, errs[0]
			}
		}
		s.delivered[d.UserID] = append(s.delivered[d.UserID], m.Text)
		done++
	}
	return done, nil
}

func (s *fakeSender) got(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered[user])
}

func (s *fakeSender) attempts(text string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls[text])
}

// candidate records a first turn, so the identity has a candidate.
func (b *bundle) candidate(t testing.TB) store.Identity {
	t.Helper()
	id := store.Identity{Channel: "telegram", UserID: fmt.Sprint(rand.Int64N(1 << 40))}
	err := b.rec.RecordTurn(context.Background(), &store.Turn{Identity: id, PlanID: "p", MsgID: "m0", Inbound: "hi", Session: []byte(`{}`), At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func message(t testing.TB, id store.Identity, texts ...string) store.Outgoing {
	t.Helper()
	msgs := make([]dialogs.Outbound, len(texts))
	for i, s := range texts {
		msgs[i] = dialogs.Outbound{Text: s}
	}
	payload, err := dialogs.EncodeMessages(msgs)
	if err != nil {
		t.Fatal(err)
	}
	return store.Outgoing{Identity: id, Kind: store.OutReply, Payload: payload}
}

// turn inserts msgs as a turn of this process does (with the fast-path
// claim) and dispatches them.
func (b *bundle) turn(t testing.TB, msgs ...store.Outgoing) []store.Delivery {
	t.Helper()
	rows, err := b.rec.InsertOutbox(context.Background(), msgs, b.n.FastClaim())
	if err != nil {
		t.Fatal(err)
	}
	b.n.Dispatch(context.Background(), rows)
	return rows
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bundle) state(t *testing.T, id int64) store.Delivery {
	t.Helper()
	d, err := b.rec.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *bundle) waitState(t *testing.T, id int64, want store.DeliveryState) store.Delivery {
	t.Helper()
	var d store.Delivery
	waitFor(t, fmt.Sprintf("outbox row %d %s", id, want), func() bool {
		d = b.state(t, id)
		return d.State == want
	})
	return d
}

func forEachBackend(t *testing.T, cfg notify.Config, run func(t *testing.T, b *bundle)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			run(t, be.setup(t, cfg))
		})
	}
}

func TestFastPathDeliversAndMarksSent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		rows := b.turn(t, message(t, id, "one", "two"), message(t, id, "three"))
		for _, r := range rows {
			if r.ClaimedUntil.IsZero() {
				t.Fatalf("row %d was not claimed for the fast path", r.ID)
			}
			d := b.waitState(t, r.ID, store.DeliverySent)
			if d.Attempts != 1 || d.LastError != "" || d.SentAt.IsZero() {
				t.Fatalf("sent row: %+v", d)
			}
		}
		if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[one two three]" {
			t.Fatalf("delivered %v", got)
		}
	})
}

var errNetwork = errors.New("connection reset by peer")

func TestTransientFailuresRetriedThenDeliveredOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		b.sender.fail("hello", errNetwork, errNetwork, errNetwork)
		row := b.turn(t, message(t, id, "hello"))[0]
		d := b.waitState(t, row.ID, store.DeliverySent)
		if d.Attempts != 4 {
			t.Fatalf("attempts %d, want 4 (3 failed, 1 sent)", d.Attempts)
		}
		attempts, err := b.rec.DeliveryAttempts(context.Background(), row.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(attempts) != 3 {
			t.Fatalf("%d failed attempts recorded, want 3: %+v", len(attempts), attempts)
		}
		for _, a := range attempts {
			if a.Permanent || a.Error != errNetwork.Error() {
				t.Fatalf("attempt %+v", a)
			}
		}
		if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[hello]" {
			t.Fatalf("delivered %v, want exactly once", got)
		}
		// The waits grew: back-off, not a hot loop.
		calls := b.sender.attempts("hello")
		if gap := calls[3].Sub(calls[2]); gap < 50*time.Millisecond {
			t.Fatalf("fourth attempt %v after the third: no back-off", gap)
		}
	})
}

func TestPermanentFailuresRecordedNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		err         error
		state       store.DeliveryState
		unreachable bool
	}{
		{"blocked", fmt.Errorf("telegram sendMessage: %w: Forbidden: bot was blocked by the user", bot.ErrUnreachable), store.DeliveryFailed, true},
		{"malformed", fmt.Errorf("wechat custom_send: errcode=40008: %w", bot.ErrPermanent), store.DeliveryFailed, false},
		{"window", fmt.Errorf("wechat: %w and no template", bot.ErrWindowClosed), store.DeliverySkipped, false},
	}
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		for _, tc := range cases {
			id := b.candidate(t)
			b.sender.fail(tc.name, tc.err)
			row := b.turn(t, message(t, id, tc.name))[0]
			d := b.waitState(t, row.ID, tc.state)
			if d.Attempts != 1 || d.LastError != tc.err.Error() {
				t.Fatalf("%s: row %+v", tc.name, d)
			}
			attempts, err := b.rec.DeliveryAttempts(context.Background(), row.ID)
			if err != nil || len(attempts) != 1 || !attempts[0].Permanent {
				t.Fatalf("%s: attempts %+v, %v", tc.name, attempts, err)
			}
			if u, err := b.rec.Unreachable(context.Background(), id); err != nil || u != tc.unreachable {
				t.Fatalf("%s: unreachable %v (%v), want %v", tc.name, u, err, tc.unreachable)
			}
		}
		// Long enough for several retries if there were any.
		time.Sleep(time.Second)
		for _, tc := range cases {
			if n := len(b.sender.attempts(tc.name)); n != 1 {
				t.Fatalf("%s: %d attempts, want 1", tc.name, n)
			}
		}
		// A message to an identity marked unreachable is skipped unsent.
		id := b.candidate(t)
		b.sender.fail("first", fmt.Errorf("403: %w", bot.ErrUnreachable))
		b.turn(t, message(t, id, "first"))
		waitFor(t, "identity unreachable", func() bool { u, _ := b.rec.Unreachable(context.Background(), id); return u })
		rows, err := b.n.Queue(context.Background(), message(t, id, "later"))
		if err != nil {
			t.Fatal(err)
		}
		d := b.waitState(t, rows[0].ID, store.DeliverySkipped)
		if d.Attempts != 0 || len(b.sender.attempts("later")) != 0 {
			t.Fatalf("message to an unreachable identity: %+v, %d sends", d, len(b.sender.attempts("later")))
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	cfg := testConfig
	cfg.MaxAttempts = 3
	forEachBackend(t, cfg, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		b.sender.fail("doomed", errNetwork, errNetwork, errNetwork, errNetwork, errNetwork)
		row := b.turn(t, message(t, id, "doomed"))[0]
		d := b.waitState(t, row.ID, store.DeliveryFailed)
		if d.Attempts != 3 {
			t.Fatalf("attempts %d, want 3", d.Attempts)
		}
		time.Sleep(time.Second)
		if n := len(b.sender.attempts("doomed")); n != 3 {
			t.Fatalf("%d sends, want 3", n)
		}
	})
}

func TestRateLimitedWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		b.sender.fail("hurry", &bot.RateLimitedError{RetryAfter: 2 * time.Second, Err: errors.New("429 Too Many Requests")})
		row := b.turn(t, message(t, id, "hurry"))[0]
		b.waitState(t, row.ID, store.DeliverySent)
		calls := b.sender.attempts("hurry")
		if len(calls) != 2 {
			t.Fatalf("%d attempts, want 2", len(calls))
		}
		if gap := calls[1].Sub(calls[0]); gap < 1900*time.Millisecond {
			t.Fatalf("retried %v after a 429 with retry_after 2s", gap)
		}
		if attempts, _ := b.rec.DeliveryAttempts(context.Background(), row.ID); len(attempts) != 1 {
			t.Fatalf("attempts %+v, want the 429 recorded", attempts)
		}
	})
}

func TestPartsSentAreNotSentAgain(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		b.sender.fail("b", errNetwork)
		row := b.turn(t, message(t, id, "a", "b", "c"))[0]
		d := b.waitState(t, row.ID, store.DeliverySent)
		if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[a b c]" || d.PartsSent != 3 {
			t.Fatalf("delivered %v (parts %d), want each part once", got, d.PartsSent)
		}
	})
}

func TestOrderPerIdentityUnderConcurrency(t *testing.T) {
	t.Parallel()
	cfg := testConfig
	cfg.Workers, cfg.QueueWorkers = 8, 8
	forEachBackend(t, cfg, func(t *testing.T, b *bundle) {
		const users, perUser = 8, 12
		b.sender.delay = func() time.Duration { return time.Duration(rand.IntN(3)) * time.Millisecond }
		var wg sync.WaitGroup
		want := map[string][]string{}
		var ids []int64
		var mu sync.Mutex
		for u := range users {
			id := b.candidate(t)
			for i := range perUser {
				text := fmt.Sprintf("%d-%02d", u, i)
				want[id.UserID] = append(want[id.UserID], text)
				if rand.IntN(4) == 0 {
					b.sender.fail(text, errNetwork)
				}
				if rand.IntN(8) == 0 {
					b.sender.fail(text, &bot.RateLimitedError{RetryAfter: time.Second, Err: errors.New("429")})
				}
			}
			texts := want[id.UserID]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perUser {
					m := message(t, id, texts[i])
					var rows []store.Delivery
					if i%5 == 4 {
						// Now and then a message queued outside a turn.
						var err error
						if rows, err = b.n.Queue(context.Background(), m); err != nil {
							t.Error(err)
							return
						}
					} else {
						rows = b.turn(t, m)
					}
					mu.Lock()
					ids = append(ids, rows[0].ID)
					mu.Unlock()
					time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			b.waitState(t, id, store.DeliverySent)
		}
		for user, texts := range want {
			if got := b.sender.got(user); !slices.Equal(got, texts) {
				t.Fatalf("user %s got\n%v\nwant\n%v", user, got, texts)
			}
		}
	})
}

// TestClaimedBeforeAHandOverDoesNotOvertake: a turn's row is claimed for
// the fast path because the identity's earlier row is still this process's
// own; that earlier row fails and is handed to the queue before the later
// row is dispatched (the Router dispatches after its commit). The later row
// follows it to the queue instead of overtaking it.
func TestClaimedBeforeAHandOverDoesNotOvertake(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		ctx := context.Background()
		first, err := b.rec.InsertOutbox(ctx, []store.Outgoing{message(t, id, "first")}, b.n.FastClaim())
		if err != nil {
			t.Fatal(err)
		}
		second, err := b.rec.InsertOutbox(ctx, []store.Outgoing{message(t, id, "second")}, b.n.FastClaim())
		if err != nil {
			t.Fatal(err)
		}
		if second[0].ClaimedUntil.IsZero() {
			t.Fatal("the second row was not claimed behind the process's own first row")
		}
		b.sender.fail("first", errNetwork, errNetwork)
		b.n.Dispatch(ctx, first)
		waitFor(t, "the first row's failure and hand-over written", func() bool {
			a, _ := b.rec.DeliveryAttempts(ctx, first[0].ID)
			return len(a) > 0 && notify.HandOverWritten(b.n, id)
		})
		b.n.Dispatch(ctx, second)
		b.waitState(t, first[0].ID, store.DeliverySent)
		b.waitState(t, second[0].ID, store.DeliverySent)
		if got := b.sender.got(id.UserID); !slices.Equal(got, []string{"first", "second"}) {
			t.Fatalf("delivered %v, want first then second", got)
		}
	})
}

func TestScheduledAndCancelled(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		id := b.candidate(t)
		due := time.Now().Add(1500 * time.Millisecond)
		remind := message(t, id, "reminder")
		remind.Kind, remind.NotBefore, remind.Key = store.OutReminder, due, "reminder:"+id.UserID
		cancelled := message(t, id, "cancelled")
		cancelled.Kind, cancelled.NotBefore = store.OutReminder, due
		rows, err := b.n.Queue(ctx, remind, cancelled)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := b.n.Queue(ctx, remind); err != nil || len(again) != 0 {
			t.Fatalf("a second reminder with the same key: %+v, %v", again, err)
		}
		if n, err := b.n.Cancel(ctx, rows[1].ID); err != nil || n != 1 {
			t.Fatalf("cancel: %d, %v", n, err)
		}
		// A reply now is not held back by a reminder that is not due.
		now := b.turn(t, message(t, id, "now"))[0]
		b.waitState(t, now.ID, store.DeliverySent)
		b.waitState(t, rows[0].ID, store.DeliverySent)
		if at := b.sender.attempts("reminder"); len(at) != 1 || at[0].Before(due) {
			t.Fatalf("reminder sent at %v, due %v", at, due)
		}
		time.Sleep(500 * time.Millisecond)
		if b.state(t, rows[1].ID).State != store.DeliveryCancelled || len(b.sender.attempts("cancelled")) != 0 {
			t.Fatal("a cancelled reminder was sent")
		}
		got, err := b.rec.Deliveries(ctx, rows[0].CandidateID, 0)
		if err != nil || len(got) != 3 {
			t.Fatalf("deliveries of the candidate: %+v, %v", got, err)
		}
	})
}

func TestRecoversRowsOfADeadProcess(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testConfig, func(t *testing.T, b *bundle) {
		id := b.candidate(t)
		// Another process queued these in its turn and died before sending.
		dead := store.FastClaim{Owner: "dead-instance", Lease: 500 * time.Millisecond}
		rows, err := b.rec.InsertOutbox(context.Background(), []store.Outgoing{message(t, id, "x"), message(t, id, "y")}, dead)
		if err != nil {
			t.Fatal(err)
		}
		// This process's next turn for the same candidate must wait for them.
		mine := b.turn(t, message(t, id, "z"))[0]
		if !mine.ClaimedUntil.IsZero() {
			t.Fatal("a row behind a dead process's rows was claimed for the fast path")
		}
		for _, r := range append(rows, mine) {
			b.waitState(t, r.ID, store.DeliverySent)
		}
		if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[x y z]" {
			t.Fatalf("delivered %v", got)
		}
	})
}

// TestRescuesJobsOfADeadProcess: a process died (SIGKILL) while its River
// worker was delivering a message: the job stays "running" in River's table
// and the outbox row is claimed by the dead process's queue. River's
// rescuer gives the job back once it has run 4 x send_timeout (River's own
// default, an hour, left such messages undelivered that long), and this
// process delivers the message once.
func TestRescuesJobsOfADeadProcess(t *testing.T) {
	t.Parallel()
	cfg := testConfig
	cfg.SendTimeout, cfg.Lease = time.Second, 2*time.Second
	b := setupPostgres(t, cfg)
	ctx := context.Background()
	id := b.candidate(t)
	dead := store.FastClaim{Owner: "dead-instance/queue", Lease: time.Minute}
	rows, err := b.rec.InsertOutbox(ctx, []store.Outgoing{message(t, id, "held by the dead")}, dead)
	if err != nil {
		t.Fatal(err)
	}
	// What the dead process left: the row handed to River and claimed by
	// its queue worker, whose claim ran out; the job running since then.
	if _, err := b.pool.Exec(ctx, `update outbox set queued_at = now() - interval '1 minute',
		claimed_until = now() - interval '50 seconds' where id = $1`, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `
		insert into river_job (args, kind, max_attempts, queue, state, attempt, attempted_at, attempted_by, priority, scheduled_at)
		values (jsonb_build_object('outbox_id', $1::bigint), 'regbot_outbox_deliver', 6, 'outbox', 'running', 1,
		        now() - interval '1 minute', '{dead-instance}', 1, now() - interval '1 minute')`, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, rows[0].ID, store.DeliverySent)
	if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[held by the dead]" {
		t.Fatalf("delivered %v", got)
	}
}

func TestQueueTxOnlyWhenCommitted(t *testing.T) {
	t.Parallel()
	b := setupPostgres(t, testConfig)
	ctx := context.Background()
	id := b.candidate(t)
	var kept []store.Delivery
	err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		rows, err := b.n.QueueTx(ctx, tx, message(t, id, "rolled back"))
		if err != nil {
			return err
		}
		kept = rows
		return errors.New("the cause failed")
	})
	if err == nil || len(kept) != 1 {
		t.Fatalf("QueueTx in a failed transaction: %v, %+v", err, kept)
	}
	err = pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		rows, err := b.n.QueueTx(ctx, tx, message(t, id, "committed"))
		kept = rows
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.waitState(t, kept[0].ID, store.DeliverySent)
	time.Sleep(500 * time.Millisecond)
	if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[committed]" {
		t.Fatalf("delivered %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := (notify.Config{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := notify.Config{Lease: time.Second, SendTimeout: 2 * time.Second, RetryBackoff: time.Minute, MaxRetryWait: time.Second, Workers: -1}.WithDefaults()
	err := bad.Validate()
	for _, want := range []string{"notify.workers", "notify.lease", "notify.max_retry_wait"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

// TestQueueFromACommand: a process that only queues (a command like
// regbot status import, its Notifier never started) inserts the rows and
// their jobs; a serving process delivers them.
func TestQueueFromACommand(t *testing.T) {
	t.Parallel()
	b := setupPostgres(t, testConfig)
	rec := postgres.New(b.pool)
	cmd, err := notify.New(testConfig, notify.Deps{Record: rec, Queue: notify.NewRiverQueue(b.pool, rec, testLog())}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	id := b.candidate(t)
	rows, err := cmd.Queue(context.Background(), message(t, id, "from the command"))
	if err != nil || len(rows) != 1 {
		t.Fatalf("Queue on a Notifier never started: %+v, %v", rows, err)
	}
	b.waitState(t, rows[0].ID, store.DeliverySent)
	if got := b.sender.got(id.UserID); fmt.Sprint(got) != "[from the command]" {
		t.Fatalf("delivered %v", got)
	}
}
