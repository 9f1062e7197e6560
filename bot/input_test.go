package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// TestPoisonTextIsCleanedAndRecorded: NUL and invalid UTF-8 (which
// PostgreSQL refuses in text, SQLSTATE 22021) reach neither the engine nor
// the record: they are replaced, the turn runs and is recorded.
func TestPoisonTextIsCleanedAndRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := store.Identity{Channel: "test", UserID: "u-poison"}
	for i, text := range []string{"你好\x00", "张三\xff\xfe", "\x00"} {
		res, err := b.router.Handle(ctx, dialogs.Inbound{Channel: id.Channel, UserID: id.UserID, MsgID: "p" + string(rune('0'+i)), Text: text})
		if err != nil || len(res.Messages) == 0 {
			t.Fatalf("message %q: %v, %d messages; want an answer", text, err, len(res.Messages))
		}
	}
	msgs, err := b.record.InboundMessages(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"你好\uFFFD", "张三\uFFFD", "\uFFFD"}
	if len(msgs) != len(want) {
		t.Fatalf("%d messages recorded, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		if m.Text != want[i] {
			t.Errorf("message %d recorded as %q, want %q", i, m.Text, want[i])
		}
	}
}

// TestTooLongTextIsRecordedNotRead: a text over the plan's
// max_message_runes is kept whole, answered with message_too_long, and
// does not move the conversation; one at the limit is read.
func TestTooLongTextIsRecordedNotRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := store.Identity{Channel: "test", UserID: "u-long"}
	b.send(t, id.UserID, "l0", "你好")
	before := b.send(t, id.UserID, "l1", "报名")
	max := b.engine.MaxMessageRunes()
	long := strings.Repeat("字", max+1)
	res := b.send(t, id.UserID, "l2", long)
	if len(res.Messages) != 1 || res.Messages[0].Text != b.engine.TooLong().Text {
		t.Fatalf("too long a text answered %+v, want the plan's message_too_long", res.Messages)
	}
	if !strings.Contains(res.Messages[0].Text, "2000") {
		t.Errorf("message_too_long does not say the limit: %q", res.Messages[0].Text)
	}
	// The conversation did not move: a retry of the question gets the
	// same ask as before the long text.
	after := b.send(t, id.UserID, "l3", "报名")
	if asked(after) != asked(before) {
		t.Errorf("after the long text the bot asks %q, before it asked %q", asked(after), asked(before))
	}
	msgs, err := b.record.InboundMessages(ctx, id)
	if err != nil || len(msgs) != 4 || msgs[2].Text != long {
		t.Fatalf("recorded %d messages (%v); the long one must be kept whole", len(msgs), err)
	}
	atMax := b.send(t, id.UserID, "l4", strings.Repeat("字", max))
	if len(atMax.Messages) == 0 || atMax.Messages[0].Text == b.engine.TooLong().Text {
		t.Errorf("a text of exactly %d characters is refused: %+v", max, atMax.Messages)
	}
}

// TestHostileTextIsKeptTruncated: past store.MaxRecordedTextBytes the
// record keeps the start of the text and says how long it was.
func TestHostileTextIsKeptTruncated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := store.Identity{Channel: "test", UserID: "u-huge"}
	huge := strings.Repeat("a", 1<<20)
	b.send(t, id.UserID, "h0", huge)
	msgs, err := b.record.InboundMessages(context.Background(), id)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("recorded %d messages (%v), want 1", len(msgs), err)
	}
	if got := msgs[0].Text; len(got) > store.MaxRecordedTextBytes+64 || !strings.HasSuffix(got, "…[truncated: 1048576 bytes in all]") ||
		!strings.HasPrefix(got, strings.Repeat("a", 1000)) {
		t.Errorf("recorded %d bytes ending %q", len(got), got[max(0, len(got)-40):])
	}
}

// TestBadIdentityIsRefused: identities and message ids out of bounds are
// bot.ErrBadInput, and nothing is recorded.
func TestBadIdentityIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   dialogs.Inbound
	}{
		{"empty user", dialogs.Inbound{Channel: "test", UserID: "", MsgID: "a", Text: "hi"}},
		{"100,000-character user", dialogs.Inbound{Channel: "test", UserID: strings.Repeat("o", 100_000), MsgID: "a", Text: "hi"}},
		{"NUL in user", dialogs.Inbound{Channel: "test", UserID: "x\x00", MsgID: "a", Text: "hi"}},
		{"invalid UTF-8 user", dialogs.Inbound{Channel: "test", UserID: "x\xff", MsgID: "a", Text: "hi"}},
		{"NUL in message id", dialogs.Inbound{Channel: "test", UserID: "u-bad", MsgID: "a\x00", Text: "hi"}},
		{"long message id", dialogs.Inbound{Channel: "test", UserID: "u-bad", MsgID: strings.Repeat("9", 10_000), Text: "hi"}},
		{"long channel", dialogs.Inbound{Channel: strings.Repeat("c", 100), UserID: "u-bad", MsgID: "a", Text: "hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.router.Handle(ctx, tc.in)
			if !errors.Is(err, bot.ErrBadInput) {
				t.Fatalf("Handle: %v, want ErrBadInput", err)
			}
		})
	}
	var n int
	if err := b.pool.QueryRow(ctx, `select count(*) from inbound_messages`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d messages recorded (%v), want none", n, err)
	}
}

// poisonRecord puts a NUL into the message id of a turn whose text is
// "poison" (as a bug that let one through would): PostgreSQL refuses it
// (22021) every time. A turn recorded as failed is left as it is.
type poisonRecord struct {
	bot.Record
	refused atomic.Int32
}

func (p *poisonRecord) RecordTurn(ctx context.Context, t *store.Turn) error {
	if t.Inbound == "poison" && !t.Failed {
		t.MsgID += "\x00"
		err := p.Record.RecordTurn(ctx, t)
		if errors.Is(err, store.ErrRefused) {
			p.refused.Add(1)
		}
		return err
	}
	return p.Record.RecordTurn(ctx, t)
}

// TestRefusedTurnIsRecordedAsFailed: a turn the record refuses for good is
// recorded as failed with one apology and answered (no error: the adapter
// answers 200, the platform stops redelivering); its retry gets the same
// apology; the candidate's next message is handled as usual. On the fast
// path and in degraded mode.
func TestRefusedTurnIsRecordedAsFailed(t *testing.T) {
	t.Parallel()
	for _, degraded := range []bool{false, true} {
		name := "fast path"
		if degraded {
			name = "degraded"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			down := &atomic.Bool{}
			down.Store(degraded)
			rec := &poisonRecord{}
			b := setupWith(t, setupOpts{
				wrap:       func(f bot.Fast) bot.Fast { return flakyFast{f, down} },
				wrapRecord: func(r bot.Record) bot.Record { rec.Record = r; return rec },
			})
			ctx := context.Background()
			id := store.Identity{Channel: "test", UserID: "u-refused"}
			b.send(t, id.UserID, "r0", "你好")
			apology := b.engine.TurnFailed().Text
			for try := range 3 {
				res, err := b.router.Handle(ctx, dialogs.Inbound{Channel: id.Channel, UserID: id.UserID, MsgID: "r1", Text: "poison"})
				if try == 0 && err != nil || try > 0 && !errors.Is(err, bot.ErrDuplicate) {
					t.Fatalf("delivery %d: %v", try, err)
				}
				if len(res.Messages) != 1 || res.Messages[0].Text != apology {
					t.Fatalf("delivery %d answered %+v, want the one apology", try, res.Messages)
				}
			}
			if n := rec.refused.Load(); n != 1 {
				t.Errorf("the record refused the turn %d times, want once", n)
			}
			var kind string
			if err := b.pool.QueryRow(ctx, `select kind from inbound_messages where msg_id = 'r1'`).Scan(&kind); err != nil {
				t.Fatal(err)
			}
			msgs, err := b.record.InboundMessages(ctx, id)
			if err != nil || len(msgs) != 2 || msgs[1].Text != "poison" || kind != "failed" {
				t.Errorf("recorded %+v as %s (%v), want \"poison\" as failed", msgs, kind, err)
			}
			if res := b.send(t, id.UserID, "r2", "报名"); len(res.Messages) == 0 || res.Messages[0].Text == apology {
				t.Errorf("the next message: %+v", res.Messages)
			}
		})
	}
}

// failOnce is a record whose first RecordTurn fails as a database that went
// away does.
type failOnce struct {
	bot.Record
	failed atomic.Bool
}

func (f *failOnce) RecordTurn(ctx context.Context, t *store.Turn) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("write tcp 127.0.0.1:5432: broken pipe")
	}
	return f.Record.RecordTurn(ctx, t)
}

// TestTransientFailureIsRetried: a failure that may pass (the database
// went away) is an error, nothing is recorded, and the platform's retry of
// the same message runs it.
func TestTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{wrapRecord: func(r bot.Record) bot.Record { return &failOnce{Record: r} }})
	ctx := context.Background()
	in := dialogs.Inbound{Channel: "test", UserID: "u-transient", MsgID: "t0", Text: "你好"}
	if _, err := b.router.Handle(ctx, in); err == nil || errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("first delivery: %v, want the failure", err)
	}
	res, err := b.router.Handle(ctx, in)
	if err != nil || len(res.Messages) == 0 || res.Messages[0].Text == b.engine.TurnFailed().Text {
		t.Fatalf("retry: %v, %+v; want the turn run", err, res.Messages)
	}
}
