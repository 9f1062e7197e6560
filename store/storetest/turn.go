package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"regbot/store"
)

// The turn protocol's conformance: the fast path (Begin, Finish, Abort) and
// the record's seq guard, replies, outbox rows and Serial.

func beginRun(t *testing.T, s Stores, req store.BeginRequest) store.Begun {
	t.Helper()
	b, err := s.Fast.Begin(ctxFor(t), req)
	if err != nil {
		t.Fatalf("begin %s: %v", req.MsgID, err)
	}
	if b.State != store.BeginRun {
		t.Fatalf("begin %s: state %d, want BeginRun", req.MsgID, b.State)
	}
	return b
}

// testTurnBeginFinish: a message runs once; its retry gets the stored
// reply; the session saved by Finish comes back with the next Begin.
func testTurnBeginFinish(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	req := store.BeginRequest{Identity: id, MsgID: "m1"}
	b := beginRun(t, s, req)
	if b.Cached.Data != nil {
		t.Fatalf("first turn of a new identity: cached %+v, want none", b.Cached)
	}
	sess := store.Cached{Data: []byte("\x02session-1"), Seq: 1, CandidateID: 7, ApplicationID: 9}
	if err := s.Fast.Finish(ctx, req, b, store.Finish{Session: &sess, Reply: []byte(`reply-1`)}); err != nil {
		t.Fatal(err)
	}
	again, err := s.Fast.Begin(ctx, req)
	if err != nil || again.State != store.BeginDone || string(again.Reply) != "reply-1" {
		t.Fatalf("retry of a finished message: %+v, %v; want BeginDone with the stored reply", again, err)
	}
	req2 := store.BeginRequest{Identity: id, MsgID: "m2"}
	b2 := beginRun(t, s, req2)
	if !bytes.Equal(b2.Cached.Data, sess.Data) || b2.Cached.Seq != 1 || b2.Cached.CandidateID != 7 || b2.Cached.ApplicationID != 9 {
		t.Fatalf("next turn's cached session %+v, want the saved one", b2.Cached)
	}
	// Finish without a session keeps the cached one.
	if err := s.Fast.Finish(ctx, req2, b2, store.Finish{}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Fast.CachedSession(ctx, id); err != nil || !bytes.Equal(c.Data, sess.Data) {
		t.Fatalf("cached session after a finish without one: %+v, %v", c, err)
	}
	if _, err := s.Fast.CachedSession(ctx, newIdentity("wechat")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cached session of an unknown identity: err %v, want store.ErrNotFound", err)
	}
}

// testTurnConcurrentDeliveries: of three concurrent deliveries of one
// message, one runs; the others are in flight (busy) or done.
func testTurnConcurrentDeliveries(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	req := store.BeginRequest{Identity: newIdentity("telegram"), MsgID: "same"}
	var runs, others atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			b, err := s.Fast.Begin(ctx, req)
			if err != nil {
				t.Error(err)
				return
			}
			switch b.State {
			case store.BeginRun:
				runs.Add(1)
				time.Sleep(20 * time.Millisecond)
				if err := s.Fast.Finish(ctx, req, b, store.Finish{Reply: []byte("r")}); err != nil {
					t.Error(err)
				}
			case store.BeginBusy, store.BeginDone:
				others.Add(1)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 1 || others.Load() != 2 {
		t.Fatalf("3 concurrent deliveries: %d ran, %d refused; want 1 and 2", runs.Load(), others.Load())
	}
}

// testTurnAbortReleases: a failed turn's message runs again on redelivery,
// and the next message of the identity is not blocked.
func testTurnAbortReleases(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	req := store.BeginRequest{Identity: newIdentity("web"), MsgID: "fails"}
	b := beginRun(t, s, req)
	if err := s.Fast.Abort(ctx, req, b); err != nil {
		t.Fatal(err)
	}
	b = beginRun(t, s, req)
	if err := s.Fast.Finish(ctx, req, b, store.Finish{}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Fast.Begin(ctx, req); err != nil || b.State != store.BeginDone {
		t.Fatalf("after the second run: %+v %v, want BeginDone", b, err)
	}
	// A waiter whose context ends gives its place and its claim up.
	holder := beginRun(t, s, store.BeginRequest{Identity: req.Identity, MsgID: "a"})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	waiting := store.BeginRequest{Identity: req.Identity, MsgID: "b"}
	if _, err := s.Fast.Begin(short, waiting); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter whose deadline passed: %v", err)
	}
	if err := s.Fast.Finish(ctx, store.BeginRequest{Identity: req.Identity, MsgID: "a"}, holder, store.Finish{}); err != nil {
		t.Fatal(err)
	}
	b = beginRun(t, s, waiting)
	if err := s.Fast.Finish(ctx, waiting, b, store.Finish{}); err != nil {
		t.Fatal(err)
	}
}

// testTurnKeepsNewerSession: a finish with an older seq than the cached
// session does not overwrite it.
func testTurnKeepsNewerSession(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	finish := func(msg string, seq int64) {
		req := store.BeginRequest{Identity: id, MsgID: msg}
		b := beginRun(t, s, req)
		c := store.Cached{Data: fmt.Appendf(nil, "seq %d", seq), Seq: seq, CandidateID: 1, ApplicationID: 2}
		if err := s.Fast.Finish(ctx, req, b, store.Finish{Session: &c}); err != nil {
			t.Fatal(err)
		}
	}
	finish("a", 5)
	finish("b", 4)
	if c, err := s.Fast.CachedSession(ctx, id); err != nil || c.Seq != 5 || string(c.Data) != "seq 5" {
		t.Fatalf("cached %+v, %v; want seq 5 kept", c, err)
	}
	finish("c", 6)
	if c, _ := s.Fast.CachedSession(ctx, id); c.Seq != 6 {
		t.Fatalf("cached seq %d, want 6", c.Seq)
	}
}

// testTurnRateLimit: beyond the burst, messages are limited; the first
// limited one of a run is to be told, the next ones not.
func testTurnRateLimit(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	var states []store.BeginState
	var notes []bool
	for i := range 5 {
		req := store.BeginRequest{Identity: id, MsgID: fmt.Sprint(i), Rate: 0.01, Burst: 2}
		b, err := s.Fast.Begin(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		states, notes = append(states, b.State), append(notes, b.Notify)
		if err := s.Fast.Finish(ctx, req, b, store.Finish{}); err != nil {
			t.Fatal(err)
		}
	}
	wantStates := []store.BeginState{store.BeginRun, store.BeginRun, store.BeginLimited, store.BeginLimited, store.BeginLimited}
	wantNotes := []bool{false, false, true, false, false}
	if !slices.Equal(states, wantStates) || !slices.Equal(notes, wantNotes) {
		t.Fatalf("states %v notify %v; want %v %v", states, notes, wantStates, wantNotes)
	}
	// Another identity has its own bucket.
	other := store.BeginRequest{Identity: newIdentity("telegram"), MsgID: "x", Rate: 0.01, Burst: 2}
	b := beginRun(t, s, other)
	_ = s.Fast.Finish(ctx, other, b, store.Finish{})
}

// testTurnArrivalOrder: messages that line up behind a held turn run in
// arrival order, one at a time.
func testTurnArrivalOrder(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	hold := store.BeginRequest{Identity: id, MsgID: "hold"}
	held := beginRun(t, s, hold)
	const n = 20
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := store.BeginRequest{Identity: id, MsgID: fmt.Sprint(i)}
			b, err := s.Fast.Begin(ctx, req)
			if err != nil || b.State != store.BeginRun {
				t.Errorf("message %d: %+v %v", i, b, err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			if err := s.Fast.Finish(ctx, req, b, store.Finish{}); err != nil {
				t.Error(err)
			}
		})
		waitFor(t, fmt.Sprintf("message %d to queue", i), func() bool {
			w, err := s.Locker.Waiters(ctx, id)
			return err == nil && w == i+1
		})
	}
	if err := s.Fast.Finish(ctx, hold, held, store.Finish{}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Fatalf("turns ran in order %v, want arrival order", order)
	}
}

// testRecordSeqGuard: a turn recorded on an older seq than the record's,
// whether or not it changes the application, writes nothing and is
// store.ErrStale; on the current seq it goes through
// and moves seq on.
func testRecordSeqGuard(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	first := store.Turn{Identity: id, PlanID: planID, MsgID: "1", Inbound: "你好", Session: []byte(`{"n":1}`),
		Answers: map[string]any{"a": "1"}, Fresh: true, At: t0}
	if err := s.Record.RecordTurn(ctx, &first); err != nil {
		t.Fatal(err)
	}
	if first.CandidateID == 0 || first.ApplicationID == 0 || first.Seq == 0 {
		t.Fatalf("first turn: ids %d/%d seq %d, want them filled in", first.CandidateID, first.ApplicationID, first.Seq)
	}
	c, err := s.Record.Resume(ctx, id, planID)
	if err != nil || c.Seq != first.Seq || c.ApplicationID != first.ApplicationID || !jsonEqual(c.Data, first.Session) {
		t.Fatalf("resume: %+v %v; want seq %d and the snapshot", c, err, first.Seq)
	}
	// Another process created it meanwhile: a fresh turn is stale.
	dup := store.Turn{Identity: id, PlanID: planID, MsgID: "1b", Inbound: "x", Fresh: true, At: t0}
	if err := s.Record.RecordTurn(ctx, &dup); !errors.Is(err, store.ErrStale) {
		t.Fatalf("fresh turn on an existing application: %v, want store.ErrStale", err)
	}
	next := store.Turn{Identity: id, PlanID: planID, MsgID: "2", Inbound: "是", Session: []byte(`{"n":2}`),
		Answers: map[string]any{"a": "2"}, CandidateID: c.CandidateID, ApplicationID: c.ApplicationID, Seq: c.Seq, At: t0.Add(time.Minute)}
	if err := s.Record.RecordTurn(ctx, &next); err != nil {
		t.Fatal(err)
	}
	if next.Seq != c.Seq+1 {
		t.Fatalf("seq after a turn: %d, want %d", next.Seq, c.Seq+1)
	}
	stale := store.Turn{Identity: id, PlanID: planID, MsgID: "3", Inbound: "否", Session: []byte(`{"n":3}`),
		Answers: map[string]any{"a": "3"}, CandidateID: c.CandidateID, ApplicationID: c.ApplicationID, Seq: c.Seq, At: t0.Add(2 * time.Minute)}
	if err := s.Record.RecordTurn(ctx, &stale); !errors.Is(err, store.ErrStale) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("turn on a stale seq: %v, want store.ErrStale", err)
	}
	// A turn that changes nothing of the application (a question answered
	// from a stale cached session) is as stale: its answer came from the
	// old session.
	staleRead := store.Turn{Identity: id, PlanID: planID, MsgID: "4", Inbound: "进度", KeepAnswers: true, KeepWork: true,
		CandidateID: c.CandidateID, ApplicationID: c.ApplicationID, Seq: c.Seq, At: t0.Add(3 * time.Minute)}
	if err := s.Record.RecordTurn(ctx, &staleRead); !errors.Is(err, store.ErrStale) {
		t.Fatalf("a turn changing nothing on a stale seq: %v, want store.ErrStale", err)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Answers["a"] != "2" || len(rec.Inbound) != 2 {
		t.Fatalf("after a stale turn: answers %v, %d messages; want the second turn's and 2", rec.Answers, len(rec.Inbound))
	}
	if snap, _ := s.Record.LatestSession(ctx, id); !jsonEqual(snap, []byte(`{"n":2}`)) {
		t.Fatalf("snapshot %s after a stale turn, want the second turn's", snap)
	}
}

// testRecordKeepsUnchanged: a turn of a known candidate that keeps answers,
// work and session writes only its message.
func testRecordKeepsUnchanged(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	work := []store.WorkEntry{{Employer: "某公司", Occupation: "电子商务师", Related: true, Start: "2020-01", End: "至今"}}
	first := store.Turn{Identity: id, PlanID: planID, MsgID: "1", Inbound: "a", Session: []byte(`{"n":1}`),
		Answers: map[string]any{"k": true}, WorkHistory: work, Condition: "C2", Fresh: true, At: t0}
	if err := s.Record.RecordTurn(ctx, &first); err != nil {
		t.Fatal(err)
	}
	seq := first.Seq
	keep := store.Turn{Identity: id, PlanID: planID, MsgID: "2", Inbound: "b", KeepAnswers: true, KeepWork: true,
		CandidateID: first.CandidateID, ApplicationID: first.ApplicationID, Seq: seq, At: t0.Add(time.Minute)}
	if err := s.Record.RecordTurn(ctx, &keep); err != nil {
		t.Fatal(err)
	}
	if keep.Seq != seq {
		t.Fatalf("seq after a turn that changed nothing of the application: %d, want %d", keep.Seq, seq)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Answers["k"] != true || rec.Condition != "C2" || !slices.Equal(rec.WorkHistory, work) || len(rec.Inbound) != 2 {
		t.Fatalf("record after a keeping turn: %+v", rec)
	}
}

// testRecordReplyAndOutbox: the reply is kept with the message; the outbox
// rows get ids.
func testRecordReplyAndOutbox(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	turn := store.Turn{Identity: id, PlanID: planID, MsgID: "m", Inbound: "你好", Reply: []byte(`{"v":1,"m":[]}`), ReplyInline: 1,
		Outbox: []store.Outgoing{{Identity: id, Kind: store.OutReply, Payload: []byte(`{"v":1,"m":[{"text":"b"}]}`)}},
		Claim:  store.FastClaim{Owner: "turn-test", Lease: time.Minute}, At: t0}
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	if len(turn.Rows) != 1 || turn.Rows[0].ID == 0 || turn.Rows[0].ClaimedUntil.IsZero() {
		t.Fatalf("outbox rows %+v, want one, claimed for the fast path", turn.Rows)
	}
	reply, inline, err := s.Record.Reply(ctx, id, "m")
	if err != nil || string(reply) != `{"v":1,"m":[]}` || inline != 1 {
		t.Fatalf("reply %q inline %d err %v", reply, inline, err)
	}
	if _, _, err := s.Record.Reply(ctx, id, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reply of an unknown message: %v, want store.ErrNotFound", err)
	}
}

// testRecordSystem: a system turn is idempotent by its message id.
func testRecordSystem(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	first := store.Turn{Identity: id, PlanID: planID, MsgID: "m1", Inbound: "你好", At: t0}
	if err := s.Record.RecordTurn(ctx, &first); err != nil {
		t.Fatal(err)
	}
	sys := store.Turn{Identity: id, PlanID: planID, MsgID: "import:1", Inbound: "[系统] import", System: true, StatusActor: "import",
		Status: store.StatusWithdrawn, StatusReason: "本人申请", CandidateID: first.CandidateID, ApplicationID: first.ApplicationID, Seq: first.Seq,
		KeepAnswers: true, KeepWork: true, At: t0.Add(time.Minute)}
	again := sys
	if err := s.Record.RecordTurn(ctx, &sys); err != nil {
		t.Fatal(err)
	}
	if err := s.Record.RecordTurn(ctx, &again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same system turn again: %v, want store.ErrConflict", err)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusChange{{"", store.StatusCollecting, store.ActorSystem, ""}, {store.StatusCollecting, store.StatusWithdrawn, "import", "本人申请"}}
	if !slices.Equal(rec.StatusEvents, want) {
		t.Fatalf("status events %v, want %v", rec.StatusEvents, want)
	}
}

// testRecordSerial: Serial runs one identity's calls one at a time.
func testRecordSerial(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("web")
	var inside, overlap atomic.Int32
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			err := s.Record.Serial(ctx, id, func(ctx context.Context) error {
				if inside.Add(1) > 1 {
					overlap.Store(1)
				}
				defer inside.Add(-1)
				time.Sleep(10 * time.Millisecond)
				turn := store.Turn{Identity: id, PlanID: planID, MsgID: fmt.Sprint(i), Inbound: "x", At: t0}
				return s.Record.RecordTurn(ctx, &turn)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if overlap.Load() != 0 {
		t.Fatal("two Serial calls of one identity overlapped")
	}
}
