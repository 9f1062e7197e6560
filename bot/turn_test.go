package bot_test

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
	"regbot/store/storetest"
)

// conversation are the answers of the first questions, from the welcome on.
var conversation = []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否", "否", "是", "2019-05"}

// TestRetryGetsTheRecordedReply: a retried message gets the same inline
// reply as its turn, from Redis, and from the record once Redis lost it;
// one turn in all.
func TestRetryGetsTheRecordedReply(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first := b.send(t, "u-replay", "m1", "是")
	in := dialogs.Inbound{Channel: "test", UserID: "u-replay", MsgID: "m1", Text: "是"}
	res, err := b.router.Handle(ctx, in)
	if !errors.Is(err, bot.ErrDuplicate) || !reflect.DeepEqual(res.Messages, jsonRoundTrip(t, first.Messages)) {
		t.Fatalf("retry: %v, %+v; want ErrDuplicate with the first reply %+v", err, res.Messages, first.Messages)
	}
	if err := storetest.DeleteKeys(ctx, b.rdb, b.prefix); err != nil {
		t.Fatal(err)
	}
	res, err = b.router.Handle(ctx, in)
	if !errors.Is(err, bot.ErrDuplicate) || !reflect.DeepEqual(res.Messages, jsonRoundTrip(t, first.Messages)) {
		t.Fatalf("retry after Redis lost everything: %v, %+v; want ErrDuplicate with the first reply", err, res.Messages)
	}
	if b.turns.Load() != 1 {
		t.Fatalf("%d turns, want 1", b.turns.Load())
	}
}

// ticketCode is the ticket number in a sentence (random per ticket).
var ticketCode = regexp.MustCompile(`工单号 [0-9A-Z]+`)

// withoutTicketCodes is msgs with their ticket numbers blanked, to compare
// conversations.
func withoutTicketCodes(msgs []dialogs.Outbound) []dialogs.Outbound {
	out := slices.Clone(msgs)
	for i := range out {
		out[i].Text = ticketCode.ReplaceAllString(out[i].Text, "工单号 ?")
	}
	return out
}

// jsonRoundTrip is msgs as the record gives them back.
func jsonRoundTrip(t *testing.T, msgs []dialogs.Outbound) []dialogs.Outbound {
	t.Helper()
	data, err := dialogs.EncodeMessages(msgs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dialogs.DecodeMessages(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStaleSessionRunsAgain: the record moves on behind the cached session
// (staff or another process changed the application): the next turn's
// batch is refused by the seq guard, and the turn runs again on the
// recorded session, answering what that session asks.
func TestStaleSessionRunsAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := store.Identity{Channel: "test", UserID: "u-stale"}
	for i, text := range conversation[:3] {
		b.send(t, id.UserID, "s"+strconv.Itoa(i), text)
	}
	early, err := b.record.LatestSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range conversation[3:6] {
		b.send(t, id.UserID, "t"+strconv.Itoa(i), text)
	}
	// Another process puts the early session back (a newer change of the
	// application, as far as the seq says).
	if _, err := b.pool.Exec(ctx, `update applications set snapshot = $1, seq = seq + 1`, early); err != nil {
		t.Fatal(err)
	}
	sess, err := b.engine.Unmarshal(early)
	if err != nil {
		t.Fatal(err)
	}
	in := dialogs.Inbound{Channel: id.Channel, UserID: id.UserID, MsgID: "after", Text: "电子商务师"}
	want, err := b.engine.Handle(ctx, sess, in)
	if err != nil {
		t.Fatal(err)
	}
	got := b.send(t, id.UserID, "after", "电子商务师")
	if asked(got) != asked(want) || asked(got) == "" {
		t.Fatalf("after the record moved on the bot asks %q, want %q (the recorded session's next question)", asked(got), asked(want))
	}
	if st := b.staleRuns(); st != 1 {
		t.Fatalf("%d reruns on a stale session, want 1", st)
	}
	// The fast copy is the record's again: the next turn needs no rerun.
	b.send(t, id.UserID, "after2", "2020-03")
	if st := b.staleRuns(); st != 1 {
		t.Fatalf("%d reruns after the cache was refreshed, want still 1", st)
	}
}

func (b *testBundle) staleRuns() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, o := range b.observed {
		n += o.Stale
	}
	return n
}

// recordingDispatcher keeps the rows handed to it.
type recordingDispatcher struct {
	mu   sync.Mutex
	rows []store.Delivery
}

func (d *recordingDispatcher) FastClaim() store.FastClaim {
	return store.FastClaim{Owner: "router-test", Lease: time.Minute}
}

func (d *recordingDispatcher) Dispatch(_ context.Context, rows []store.Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows = append(d.rows, rows...)
}

// TestSystemTurnOnceAndByTheOutbox: a system event (a status change by
// staff) runs as a turn once per message id, leaves nothing inline, and its
// notification is an outbox row claimed for the fast path and handed to
// the Dispatcher; the record keeps no candidate message for it.
func TestSystemTurnOnceAndByTheOutbox(t *testing.T) {
	t.Parallel()
	d := &recordingDispatcher{}
	b := setupWith(t, setupOpts{dispatcher: d})
	ctx := context.Background()
	b.send(t, "u-sys", "m1", "你好")
	in := dialogs.Inbound{Channel: "test", UserID: "u-sys", MsgID: "staff:1:withdraw",
		System: &dialogs.SystemEvent{Actor: "staff:1", Status: store.StatusWithdrawn, Reason: "本人申请"}}
	res, err := b.router.Handle(ctx, in)
	if err != nil || len(res.Messages) != 0 {
		t.Fatalf("system turn: %+v %v; want no inline messages", res.Messages, err)
	}
	if _, err := b.router.Handle(ctx, in); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("the same system event again: %v, want ErrDuplicate", err)
	}
	d.mu.Lock()
	rows := slices.Clone(d.rows)
	d.mu.Unlock()
	if len(rows) != 1 || rows[0].ClaimedUntil.IsZero() || rows[0].Kind != store.OutNotification {
		t.Fatalf("dispatched %+v, want one notification claimed for the fast path", rows)
	}
	msgs, err := b.record.InboundMessages(ctx, store.Identity{Channel: "test", UserID: "u-sys"})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d candidate messages recorded (%v), want 1 (the system turn is none)", len(msgs), err)
	}
}

// TestRateLimitRecordsAndSaysSlowDownOnce: beyond the burst a candidate's
// messages are recorded but not run; the first of them gets the slow_down
// sentence, the next ones nothing.
func TestRateLimitRecordsAndSaysSlowDownOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, bot.WithUserRate(0.001, 3))
	var replies [][]dialogs.Outbound
	for i, text := range conversation[:6] {
		replies = append(replies, b.send(t, "u-flood", "f"+strconv.Itoa(i), text).Messages)
	}
	slow := b.engine.Plan().Text("slow_down")
	for i := range 3 {
		if len(replies[i]) == 0 || replies[i][0].Text == slow {
			t.Errorf("message %d within the burst: %+v", i, replies[i])
		}
	}
	if len(replies[3]) != 1 || replies[3][0].Text != slow {
		t.Errorf("first message over the limit: %+v, want the slow_down sentence", replies[3])
	}
	if len(replies[4]) != 0 || len(replies[5]) != 0 {
		t.Errorf("later messages over the limit: %+v %+v, want no answer", replies[4], replies[5])
	}
	msgs, err := b.record.InboundMessages(context.Background(), store.Identity{Channel: "test", UserID: "u-flood"})
	if err != nil || len(msgs) != 6 {
		t.Fatalf("%d messages recorded (%v), want all 6", len(msgs), err)
	}
	// The limited messages were not run: the conversation is where the
	// third message left it.
	res := b.send(t, "u-other", "o", "你好")
	if len(res.Messages) == 0 {
		t.Fatal("another candidate is limited too")
	}
}

// flakyFast is a fast path that fails while down is set, as Redis does
// when it is unreachable.
type flakyFast struct {
	bot.Fast
	down *atomic.Bool
}

func (f flakyFast) Begin(ctx context.Context, req store.BeginRequest) (store.Begun, error) {
	if f.down.Load() {
		return store.Begun{}, errors.New("dial tcp 127.0.0.1:6379: connection refused")
	}
	return f.Fast.Begin(ctx, req)
}

func (f flakyFast) Ping(context.Context) error {
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

// TestDegradedModeWithoutRedis: while the fast path fails, turns run on the
// record alone with the same answers, duplicates are still caught, and the
// fast path comes back by itself (its stale session caught by the seq).
func TestDegradedModeWithoutRedis(t *testing.T) {
	t.Parallel()
	down := &atomic.Bool{}
	b := setupWith(t, setupOpts{wrap: func(f bot.Fast) bot.Fast { return flakyFast{f, down} }})
	ref := setup(t)
	ctx := context.Background()
	for i, text := range conversation {
		if i == 3 {
			down.Store(true)
		}
		if i == 7 {
			down.Store(false)
			// Let the next turn probe the fast path.
			waitProbe()
		}
		got := b.send(t, "u-deg", "d"+strconv.Itoa(i), text)
		want := ref.send(t, "u-deg", "d"+strconv.Itoa(i), text)
		if !reflect.DeepEqual(withoutTicketCodes(got.Messages), withoutTicketCodes(want.Messages)) {
			t.Fatalf("message %d (%q): answers differ with the outage:\n%+v\n%+v", i, text, got.Messages, want.Messages)
		}
		if i == 4 {
			// A retry during the outage.
			res, err := b.router.Handle(ctx, dialogs.Inbound{Channel: "test", UserID: "u-deg", MsgID: "d4", Text: text})
			if !errors.Is(err, bot.ErrDuplicate) || len(res.Messages) == 0 {
				t.Fatalf("retry during the outage: %v, %d messages; want ErrDuplicate with the reply", err, len(res.Messages))
			}
		}
	}
	if b.router.Degraded() {
		t.Fatal("still degraded after the fast path came back")
	}
	degraded := 0
	b.mu.Lock()
	for _, o := range b.observed {
		if o.Degraded {
			degraded++
		}
	}
	b.mu.Unlock()
	if degraded != 5 {
		t.Fatalf("%d degraded turns, want 5 (messages 3–6 and the retry)", degraded)
	}
}

// turnScriptOf matches the turn scripts (Begin, Finish, Abort) of one
// candidate: they run on go-redis's autopipeliner, which does not carry the
// turn's context to the hooks, so they are told by the message key they
// name. The lock heartbeat's renewal names the lock alone and is left out,
// as it renews every quarter lease whatever the turns.
func turnScriptOf(channel, user string) func(goredis.Cmder) bool {
	tag := "msg:{" + channel + ":" + user + "}:"
	return func(cmd goredis.Cmder) bool {
		if name := cmd.Name(); name != "evalsha" && name != "eval" {
			return false
		}
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, tag) {
				return true
			}
		}
		return false
	}
}

// waitProbe waits until a degraded Router may probe the fast path again.
func waitProbe() { time.Sleep(1100 * time.Millisecond) }

// TestRoundTripsPerTurn: a turn of a known candidate costs two Redis round
// trips and one PostgreSQL round trip, with only the statements of what
// changed, with the autopipeliner (on one Redis and the Cluster) and
// without. These counts are the goal; they must not grow back.
func TestRoundTripsPerTurn(t *testing.T) {
	onBoth(t, testRoundTripsPerTurn)
	t.Run("redis without autopipeline", func(t *testing.T) {
		t.Parallel()
		testRoundTripsPerTurn(t, setupWith(t, setupOpts{noAutoPipeline: true}))
	})
}

func testRoundTripsPerTurn(t *testing.T, b *testBundle) {
	b.send(t, "u-count", "c0", conversation[0])
	var worst storetest.Counts
	var total storetest.Counts
	for i, text := range conversation[1:] {
		// The turn's own round trips: the process's lock heartbeat, which
		// renews every quarter lease whatever the turns, is not one of them.
		var turn storetest.RoundTrips
		stop := b.counts.Watch(&turn, turnScriptOf("test", "u-count"))
		_, err := b.router.Handle(turn.Scope(context.Background()),
			dialogs.Inbound{Channel: "test", UserID: "u-count", MsgID: "c" + strconv.Itoa(i+1), Text: text})
		stop()
		if err != nil {
			t.Fatalf("handle %q: %v", text, err)
		}
		c := turn.Read()
		t.Logf("turn %d %q: %d Redis, %d PostgreSQL round trips, %d statements", i+1, text, c.Redis, c.PG, c.Statements)
		worst.Redis, worst.PG, worst.Statements = max(worst.Redis, c.Redis), max(worst.PG, c.PG), max(worst.Statements, c.Statements)
		total.Statements += c.Statements
	}
	if worst.Redis != 2 || worst.PG != 1 {
		t.Errorf("a turn took up to %d Redis and %d PostgreSQL round trips, want 2 and 1", worst.Redis, worst.PG)
	}
	// The message and the application; the work history when an entry is
	// finished (delete and insert).
	if worst.Statements > 4 {
		t.Errorf("a turn sent up to %d statements, want at most 4", worst.Statements)
	}
	if avg := float64(total.Statements) / float64(len(conversation)-1); avg > 2.5 {
		t.Errorf("%.2f statements per turn on average, want at most 2.5", avg)
	}

	// A candidate talking to staff: each message is recorded and added to
	// their ticket, and nothing else (the application does not change).
	b.send(t, "u-count-staff", "h0", conversation[0])
	b.send(t, "u-count-staff", "h1", "转人工")
	for i, text := range []string{"我的学历证书丢了怎么办", "还在吗", "谢谢"} {
		var turn storetest.RoundTrips
		stop := b.counts.Watch(&turn, turnScriptOf("test", "u-count-staff"))
		_, err := b.router.Handle(turn.Scope(context.Background()),
			dialogs.Inbound{Channel: "test", UserID: "u-count-staff", MsgID: "h" + strconv.Itoa(i+2), Text: text})
		stop()
		if err != nil {
			t.Fatalf("handle %q: %v", text, err)
		}
		if c := turn.Read(); c.Redis != 2 || c.PG != 1 || c.Statements != 2 {
			t.Errorf("message %q to staff: %d Redis, %d PostgreSQL round trips, %d statements; want 2, 1, 2 (the message and the ticket's)",
				text, c.Redis, c.PG, c.Statements)
		}
	}
}
