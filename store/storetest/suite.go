package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"regbot/store"
)

// Run runs the conformance suite. newStores builds a fresh, isolated set of
// stores for one subtest (and registers its cleanup on t); subtests run in
// parallel.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"TurnBeginFinish", testTurnBeginFinish},
		{"TurnConcurrentDeliveries", testTurnConcurrentDeliveries},
		{"TurnAbortReleases", testTurnAbortReleases},
		{"TurnKeepsNewerSession", testTurnKeepsNewerSession},
		{"TurnRateLimit", testTurnRateLimit},
		{"TurnArrivalOrder", testTurnArrivalOrder},
		{"LockArrivalOrder", testLockArrivalOrder},
		{"LockUsersIndependent", testLockUsersIndependent},
		{"LockCancelledWaiter", testLockCancelledWaiter},
		{"LockUnlockTwice", testLockUnlockTwice},
		{"RecordTurnLatestSession", testRecordTurnLatestSession},
		{"RecordTurnStatusEvents", testRecordTurnStatusEvents},
		{"RecordTurnStatusMachine", testStatusMachine},
		{"RecordTurnNewApplicationStatus", testNewApplicationStatus},
		{"FindApplications", testFindApplications},
		{"RecordTurnCancelReminders", testCancelReminders},
		{"RecordTurnDocumentsSuperseded", testDocumentsSuperseded},
		{"RecordTurnEscalations", testEscalations},
		{"RecordTurnDuplicateMessage", testDuplicateMessage},
		{"RecordTurnParallelCandidates", testParallelCandidates},
		{"RateLimit", testRateLimit},
		{"Unreachable", testUnreachable},
		{"RecordTurnSeqGuard", testRecordSeqGuard},
		{"RecordTurnKeepsUnchanged", testRecordKeepsUnchanged},
		{"RecordTurnReplyAndOutbox", testRecordReplyAndOutbox},
		{"RecordTurnSystem", testRecordSystem},
		{"RecordSerial", testRecordSerial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStores(t))
		})
	}
}

// newIdentity returns an identity no other test uses.
func newIdentity(channel string) store.Identity {
	return store.Identity{Channel: channel, UserID: "u-" + rand.Text()[:12]}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testLockArrivalOrder(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	unlock, err := s.Locker.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var (
		mu      sync.Mutex
		order   []int
		inside  atomic.Int32
		overlap atomic.Bool
		wg      sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			unlock, err := s.Locker.LockUser(ctx, id)
			if err != nil {
				t.Errorf("waiter %d: %v", i, err)
				return
			}
			defer unlock()
			if inside.Add(1) != 1 {
				overlap.Store(true)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			inside.Add(-1)
		})
		waitFor(t, fmt.Sprintf("waiter %d to queue", i), func() bool {
			w, err := s.Locker.Waiters(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return w == i+1
		})
	}
	unlock()
	wg.Wait()
	if overlap.Load() {
		t.Error("two critical sections of one user overlapped")
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Fatalf("critical sections ran in order %v, want arrival order", order)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func testLockUsersIndependent(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	a, b := newIdentity("wechat"), newIdentity("wechat")
	unlockA, err := s.Locker.LockUser(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	unlockB, err := s.Locker.LockUser(short, b)
	if err != nil {
		t.Fatalf("lock of another user while the first is held: %v", err)
	}
	unlockB()
}

func testLockCancelledWaiter(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	unlock, err := s.Locker.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Locker.LockUser(short, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter whose deadline passes: err = %v, want context.DeadlineExceeded", err)
	}
	// A waiter behind the one that gave up must not be blocked by it.
	got := make(chan error, 1)
	go func() {
		u, err := s.Locker.LockUser(ctx, id)
		if err == nil {
			u()
		}
		got <- err
	}()
	waitFor(t, "the second waiter to queue", func() bool {
		w, err := s.Locker.Waiters(ctx, id)
		return err == nil && w >= 1
	})
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiter after a cancelled one: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter behind a cancelled one did not get the lock within 2s")
	}
}

func testLockUnlockTwice(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("web")
	unlock1, err := s.Locker.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	unlock1()
	unlock2, err := s.Locker.LockUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	unlock1() // must not release the second holder's lock
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if u, err := s.Locker.LockUser(short, id); err == nil {
		u()
		t.Fatal("a stale second unlock released another holder's lock")
	}
	unlock2()
	unlock2()
	u, err := s.Locker.LockUser(ctx, id)
	if err != nil {
		t.Fatalf("lock after both holders left: %v", err)
	}
	u()
}

const planID = "internet-marketing-l4"

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func testRecordTurnLatestSession(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	if _, err := s.Record.LatestSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestSession of an unknown identity: err = %v, want store.ErrNotFound", err)
	}
	turns := []store.Turn{
		{Identity: id, PlanID: planID, MsgID: "m1", Inbound: "你好", Session: []byte(`{"step":"has_prior_cert"}`),
			Answers: map[string]any{}, At: t0},
		{Identity: id, PlanID: planID, MsgID: "m2", Inbound: "有", Session: []byte(`{"step":"prior_cert_date"}`),
			Answers: map[string]any{"has_prior_cert": true}, At: t0.Add(time.Minute)},
		{Identity: id, PlanID: planID, MsgID: "m3", Inbound: "2019-05", Session: []byte(`{"step":"work_history.employer"}`),
			Answers:     map[string]any{"has_prior_cert": true, "prior_cert_date": "2019-05", "training_hours": 96.5},
			WorkHistory: []store.WorkEntry{{Employer: "杭州某某网络科技有限公司", Occupation: "电子商务师", Related: true, Start: "2019-06", End: "至今"}},
			Condition:   "C2", At: t0.Add(2 * time.Minute)},
		{Identity: id, PlanID: planID, MsgID: "", Inbound: "[事件] subscribe", At: t0.Add(3 * time.Minute),
			Answers:     map[string]any{"has_prior_cert": true, "prior_cert_date": "2019-05", "training_hours": 96.5},
			WorkHistory: []store.WorkEntry{{Employer: "杭州某某网络科技有限公司", Occupation: "电子商务师", Related: true, Start: "2019-06", End: "2024-12"}, {Employer: "某某文化传媒有限公司", Occupation: "网络编辑", Related: true, Start: "2025-01", End: "至今"}},
			Condition:   "C2"},
	}
	for i, turn := range turns {
		if err := s.Record.RecordTurn(ctx, &turn); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
	}
	snap, err := s.Record.LatestSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// A turn without a snapshot keeps the last one.
	if !jsonEqual(snap, []byte(`{"step":"work_history.employer"}`)) {
		t.Fatalf("LatestSession = %s, want the snapshot of turn 3", snap)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	wantAnswers := map[string]any{"has_prior_cert": true, "prior_cert_date": "2019-05", "training_hours": 96.5}
	if !reflect.DeepEqual(rec.Answers, wantAnswers) {
		t.Errorf("answers = %#v, want %#v", rec.Answers, wantAnswers)
	}
	if !slices.Equal(rec.WorkHistory, turns[3].WorkHistory) {
		t.Errorf("work history = %+v, want the last turn's %+v", rec.WorkHistory, turns[3].WorkHistory)
	}
	if rec.Condition != "C2" || rec.Status != store.StatusCollecting {
		t.Errorf("condition %q status %q, want C2 collecting", rec.Condition, rec.Status)
	}
	wantInbound := []RecordedMessage{{"m1", "你好"}, {"m2", "有"}, {"m3", "2019-05"}, {"", "[事件] subscribe"}}
	if !slices.Equal(rec.Inbound, wantInbound) {
		t.Errorf("inbound log = %v, want every message in order %v", rec.Inbound, wantInbound)
	}
	// Another identity sees nothing of it.
	if _, err := s.Record.LatestSession(ctx, store.Identity{Channel: "telegram", UserID: id.UserID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestSession of the same user id on another channel: err = %v, want store.ErrNotFound", err)
	}
}

func testRecordTurnStatusEvents(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	statuses := []store.Status{"", store.StatusMaterialsReady, "", store.StatusMaterialsReady, store.StatusUnderReview}
	for i, st := range statuses {
		turn := store.Turn{Identity: id, PlanID: planID, MsgID: fmt.Sprint(i), Inbound: "好", Status: st, At: t0.Add(time.Duration(i) * time.Minute)}
		if err := s.Record.RecordTurn(ctx, &turn); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusChange{
		{"", store.StatusCollecting, "system", ""},
		{store.StatusCollecting, store.StatusMaterialsReady, "system", ""},
		{store.StatusMaterialsReady, store.StatusUnderReview, "system", ""},
	}
	if !slices.Equal(rec.StatusEvents, want) {
		t.Fatalf("status events = %v, want %v (no event when the status stays)", rec.StatusEvents, want)
	}
	if rec.Status != store.StatusUnderReview {
		t.Fatalf("status = %q, want under_review", rec.Status)
	}
}

func doc(material, ref string, accepted bool, problems ...string) store.Document {
	return store.Document{Material: material, BlobRef: ref, Size: 52_000, Width: 295, Height: 413, Format: "jpeg",
		Accepted: accepted, Problems: problems, At: t0}
}

// withHash gives d a perceptual hash, which the record keeps.
func withHash(d store.Document, h store.ImageHash) store.Document {
	d.PHash = h
	return d
}

func ref(b byte) string {
	return fmt.Sprintf("%064x", b)
}

func testDocumentsSuperseded(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	turns := []store.Turn{
		{Identity: id, PlanID: planID, MsgID: "1", Inbound: "[图片]", At: t0,
			Documents: []store.Document{doc("photo", ref(1), false, "照片大小为 120 KB，需要在 40–80 KB 之间。")}},
		{Identity: id, PlanID: planID, MsgID: "2", Inbound: "[图片]", At: t0.Add(time.Minute),
			Documents: []store.Document{withHash(doc("id_card_front", ref(2), true), "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210")}},
		{Identity: id, PlanID: planID, MsgID: "3", Inbound: "[选择] use_fixed", At: t0.Add(2 * time.Minute),
			Documents: []store.Document{doc("photo", ref(3), true)}},
	}
	for i, turn := range turns {
		if err := s.Record.RecordTurn(ctx, &turn); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		material, ref string
		accepted      bool
		problems      int
		current       bool
		phash         store.ImageHash
	}
	var got []row
	for _, d := range rec.Documents {
		got = append(got, row{d.Material, d.BlobRef, d.Accepted, len(d.Problems), d.Current, d.PHash})
	}
	want := []row{
		{"photo", ref(1), false, 1, false, ""},
		{"id_card_front", ref(2), true, 0, true, "f0e1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210"},
		{"photo", ref(3), true, 0, true, ""},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("documents = %+v, want %+v", got, want)
	}
	d := rec.Documents[0]
	if d.Size != 52_000 || d.Width != 295 || d.Height != 413 || d.Format != "jpeg" || d.Problems[0] != "照片大小为 120 KB，需要在 40–80 KB 之间。" {
		t.Fatalf("document details not kept: %+v", d.Document)
	}
}

func testEscalations(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("web")
	turn := store.Turn{Identity: id, PlanID: planID, MsgID: "1", Inbound: "转人工", At: t0,
		Escalations: []store.Escalation{
			{Reason: "human", Text: "转人工", At: t0},
			{Reason: "final_year", At: t0},
		}}
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	turn = store.Turn{Identity: id, PlanID: planID, MsgID: "2", Inbound: "好的", At: t0.Add(time.Minute)}
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	want := []RecordedTicket{{"human", "转人工"}, {"final_year", ""}}
	if !slices.Equal(rec.Tickets, want) {
		t.Fatalf("tickets = %v, want %v", rec.Tickets, want)
	}
}

func testDuplicateMessage(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	first := store.Turn{Identity: id, PlanID: planID, MsgID: "m1", Inbound: "有", Answers: map[string]any{"has_prior_cert": true},
		Session: []byte(`{"n":1}`), At: t0}
	if err := s.Record.RecordTurn(ctx, &first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.Answers = map[string]any{"has_prior_cert": false}
	again.Session = []byte(`{"n":2}`)
	again.Documents = []store.Document{doc("photo", ref(9), true)}
	again.Escalations = []store.Escalation{{Reason: "human", At: t0}}
	if err := s.Record.RecordTurn(ctx, &again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("recording message m1 twice: err = %v, want store.ErrConflict", err)
	}
	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Answers["has_prior_cert"] != true || len(rec.Documents) != 0 || len(rec.Tickets) != 0 || len(rec.Inbound) != 1 {
		t.Fatalf("a refused turn changed the record: %+v", rec)
	}
	if snap, err := s.Record.LatestSession(ctx, id); err != nil || !jsonEqual(snap, []byte(`{"n":1}`)) {
		t.Fatalf("snapshot after a refused turn: %s, %v", snap, err)
	}
}

func testParallelCandidates(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	const users, turns = 8, 5
	ids := make([]store.Identity, users)
	var wg sync.WaitGroup
	for u := range users {
		ids[u] = newIdentity("wechat")
		wg.Go(func() {
			for i := range turns {
				turn := store.Turn{Identity: ids[u], PlanID: planID, MsgID: fmt.Sprint(i), Inbound: fmt.Sprint("answer ", i),
					Answers: map[string]any{"n": float64(i)}, Session: fmt.Appendf(nil, `{"n":%d}`, i), At: t0.Add(time.Duration(i) * time.Second)}
				if err := s.Record.RecordTurn(ctx, &turn); err != nil {
					t.Errorf("user %d turn %d: %v", u, i, err)
				}
			}
		})
	}
	wg.Wait()
	for u, id := range ids {
		rec, err := s.Inspect(ctx, id, planID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Inbound) != turns || rec.Answers["n"] != float64(turns-1) {
			t.Errorf("user %d: %d messages, answers %v; want %d messages and the last answer", u, len(rec.Inbound), rec.Answers, turns)
		}
	}
}

func testRateLimit(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	key := "telegram:broadcast:" + rand.Text()
	for i := range 3 {
		ok, _, err := s.Limiter.Allow(ctx, key, 1, 3)
		if err != nil || !ok {
			t.Fatalf("call %d within the burst of 3: allowed %v err %v", i+1, ok, err)
		}
	}
	ok, wait, err := s.Limiter.Allow(ctx, key, 1, 3)
	if err != nil || ok {
		t.Fatalf("4th call beyond the burst: allowed %v err %v; want refused", ok, err)
	}
	if wait <= 0 || wait > time.Second {
		t.Fatalf("retry after %v, want in (0, 1s] at 1 token/s", wait)
	}
	if ok, _, err := s.Limiter.Allow(ctx, key+"-other", 1, 3); err != nil || !ok {
		t.Fatalf("another key: allowed %v err %v", ok, err)
	}
	// Refill: 20 tokens/s, burst 1.
	fast := key + "-fast"
	if ok, _, _ := s.Limiter.Allow(ctx, fast, 20, 1); !ok {
		t.Fatal("first call refused")
	}
	if ok, _, _ := s.Limiter.Allow(ctx, fast, 20, 1); ok {
		t.Fatal("second immediate call allowed with burst 1")
	}
	time.Sleep(80 * time.Millisecond)
	if ok, _, err := s.Limiter.Allow(ctx, fast, 20, 1); err != nil || !ok {
		t.Fatalf("call after the refill time: allowed %v err %v", ok, err)
	}
	if _, _, err := s.Limiter.Allow(ctx, key, 0, 1); err == nil {
		t.Fatal("rate 0 accepted")
	}
}

// testUnreachable: an identity marked unreachable stays so until its next
// turn.
func testUnreachable(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	turn := store.Turn{Identity: id, PlanID: "plan", MsgID: "m1", Inbound: "你好", Session: []byte(`{}`), At: time.Now()}
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Record.Unreachable(ctx, id); err != nil || u {
		t.Fatalf("new identity: unreachable %v, err %v", u, err)
	}
	if err := s.Record.MarkUnreachable(ctx, id); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Record.Unreachable(ctx, id); err != nil || !u {
		t.Fatalf("after MarkUnreachable: unreachable %v, err %v", u, err)
	}
	// A failure of a later send marks it again, as of then.
	if err := s.Record.MarkUnreachable(ctx, id); err != nil {
		t.Fatal(err)
	}
	turn.MsgID, turn.Inbound, turn.At = "m2", "我回来了", time.Now()
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Record.Unreachable(ctx, id); err != nil || u {
		t.Fatalf("after the candidate wrote again: unreachable %v, err %v", u, err)
	}
	// A system turn (a staff reply) is not the candidate writing.
	if err := s.Record.MarkUnreachable(ctx, id); err != nil {
		t.Fatal(err)
	}
	sys := store.Turn{Identity: id, PlanID: "plan", System: true, Inbound: "staff", At: time.Now(),
		CandidateID: turn.CandidateID, ApplicationID: turn.ApplicationID, Seq: turn.Seq}
	if err := s.Record.RecordTurn(ctx, &sys); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Record.Unreachable(ctx, id); err != nil || !u {
		t.Fatalf("after a system turn: unreachable %v, err %v, want still unreachable", u, err)
	}
	turn.MsgID, turn.Inbound, turn.At = "m3", "又来了", time.Now()
	turn.Seq = sys.Seq
	if err := s.Record.RecordTurn(ctx, &turn); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Record.Unreachable(ctx, id); err != nil || u {
		t.Fatalf("after the candidate wrote a third time: unreachable %v, err %v", u, err)
	}
	if _, err := s.Record.Unreachable(ctx, newIdentity("telegram")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown identity: err %v, want store.ErrNotFound", err)
	}
}
