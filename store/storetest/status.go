package storetest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"regbot/store"
)

// testStatusMachine walks an application through the status machine: every
// allowed change is kept with its actor and reason, every refused one
// changes nothing at all (not the answers, not the message log).
func testStatusMachine(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("wechat")
	at := t0
	n := 0
	turn := func(status store.Status, actor, reason string, system bool) store.Turn {
		n++
		at = at.Add(time.Minute)
		return store.Turn{Identity: id, PlanID: planID, MsgID: string(rune('a' + n)), Inbound: "好",
			Answers: map[string]any{"turn": float64(n)}, Status: status, StatusActor: actor, StatusReason: reason,
			System: system, At: at}
	}
	record := func(tr store.Turn) {
		t.Helper()
		if err := s.Record.RecordTurn(ctx, &tr); err != nil {
			t.Fatalf("turn %d to %q: %v", n, tr.Status, err)
		}
	}
	refuse := func(tr store.Turn, from, to store.Status) {
		t.Helper()
		before, err := s.Inspect(ctx, id, planID)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Record.RecordTurn(ctx, &tr)
		var te *store.TransitionError
		if !errors.As(err, &te) || te.From != from || te.To != to {
			t.Fatalf("%s → %s: err = %v, want a TransitionError from %s to %s", from, to, err, from, to)
		}
		after, err := s.Inspect(ctx, id, planID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != from || after.Answers["turn"] != before.Answers["turn"] || len(after.Inbound) != len(before.Inbound) || len(after.StatusEvents) != len(before.StatusEvents) {
			t.Fatalf("a refused change %s → %s changed the record: %+v", from, to, after)
		}
	}

	record(turn("", "", "", false))
	refuse(turn(store.StatusUnderReview, store.ActorCandidate, "", false), store.StatusCollecting, store.StatusUnderReview)
	refuse(turn(store.StatusPaid, store.ActorImport, "", true), store.StatusCollecting, store.StatusPaid)
	record(turn(store.StatusMaterialsReady, "", "", false))
	record(turn(store.StatusUnderReview, store.ActorCandidate, "", false))

	// A rejection without a reason is refused, nothing changes.
	tr := turn(store.StatusRejected, store.ActorImport, "", true)
	if err := s.Record.RecordTurn(ctx, &tr); !errors.Is(err, store.ErrReasonRequired) {
		t.Fatalf("rejection without a reason: err = %v, want store.ErrReasonRequired", err)
	}
	if rec, err := s.Inspect(ctx, id, planID); err != nil || rec.Status != store.StatusUnderReview {
		t.Fatalf("after a refused rejection: status %q err %v, want under_review", rec.Status, err)
	}

	record(turn(store.StatusRejected, store.ActorImport, "身份证照片不清晰", true))
	refuse(turn(store.StatusAwaitingPayment, store.StaffActor("7"), "", true), store.StatusRejected, store.StatusAwaitingPayment)
	record(turn(store.StatusUnderReview, store.ActorCandidate, "", false))
	record(turn(store.StatusAwaitingPayment, store.StaffActor("7"), "", true))
	record(turn(store.StatusAwaitingPayment, store.ActorImport, "", true)) // no change: no event
	record(turn(store.StatusPaid, store.ActorImport, "", true))
	refuse(turn(store.StatusCollecting, "", "", false), store.StatusPaid, store.StatusCollecting)
	record(turn(store.StatusTicketReady, store.ActorImport, "", true))
	record(turn(store.StatusWithdrawn, store.StaffActor("7"), "考生申请撤销", true))
	refuse(turn(store.StatusCollecting, "", "", false), store.StatusWithdrawn, store.StatusCollecting)

	rec, err := s.Inspect(ctx, id, planID)
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusChange{
		{"", store.StatusCollecting, "system", ""},
		{store.StatusCollecting, store.StatusMaterialsReady, "system", ""},
		{store.StatusMaterialsReady, store.StatusUnderReview, "candidate", ""},
		{store.StatusUnderReview, store.StatusRejected, "import", "身份证照片不清晰"},
		{store.StatusRejected, store.StatusUnderReview, "candidate", ""},
		{store.StatusUnderReview, store.StatusAwaitingPayment, "staff:7", ""},
		{store.StatusAwaitingPayment, store.StatusPaid, "import", ""},
		{store.StatusPaid, store.StatusTicketReady, "import", ""},
		{store.StatusTicketReady, store.StatusWithdrawn, "staff:7", "考生申请撤销"},
	}
	if !slices.Equal(rec.StatusEvents, want) {
		t.Fatalf("status events:\n got %v\nwant %v", rec.StatusEvents, want)
	}
	// System turns record no candidate message: only the candidate's own
	// turns are in the log.
	var own int
	for _, m := range rec.Inbound {
		if m.Text == "好" {
			own++
		}
	}
	if len(rec.Inbound) != 4 || own != 4 {
		t.Fatalf("message log has %d entries, want the candidate's 4 turns (system turns record none): %v", len(rec.Inbound), rec.Inbound)
	}
}

// testNewApplicationStatus: an application starts at collecting; a first
// turn that names another status creates nothing.
func testNewApplicationStatus(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id := newIdentity("telegram")
	err := s.Record.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: planID, MsgID: "1", Inbound: "你好",
		Status: store.StatusAwaitingPayment, StatusActor: store.ActorImport, System: true, At: t0})
	var te *store.TransitionError
	if !errors.As(err, &te) || te.From != "" || te.To != store.StatusAwaitingPayment {
		t.Fatalf("new application at awaiting_payment: err = %v, want a TransitionError from a new application", err)
	}
	if _, err := s.Inspect(ctx, id, planID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the refused first turn: err = %v, want store.ErrNotFound", err)
	}
	if _, err := s.Record.LatestSession(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the refused first turn, LatestSession: err = %v, want store.ErrNotFound", err)
	}
}

// testFindApplications: applications are found by ID number or mobile,
// most recently changed first, with their identity and status.
func testFindApplications(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	idNumber := "11010519491231002X"
	mobile := fmt.Sprintf("139%08d", time.Now().UnixNano()%1e8)
	older, newer, other := newIdentity("telegram"), newIdentity("wechat"), newIdentity("web")
	plan := "find-" + rand.Text()[:8]
	turns := []store.Turn{
		{Identity: older, PlanID: plan, MsgID: "1", Inbound: "x", At: t0,
			Answers: map[string]any{"id_number": idNumber, "mobile": mobile}},
		{Identity: other, PlanID: plan, MsgID: "1", Inbound: "x", At: t0.Add(time.Minute),
			Answers: map[string]any{"id_number": "110105194912310021", "mobile": "13800000000"}},
		{Identity: newer, PlanID: plan, MsgID: "1", Inbound: "x", At: t0.Add(2 * time.Minute),
			Answers: map[string]any{"id_number": idNumber}},
		{Identity: newer, PlanID: plan, MsgID: "2", Inbound: "x", At: t0.Add(3 * time.Minute), Status: store.StatusMaterialsReady,
			Answers: map[string]any{"id_number": idNumber}},
	}
	for i, tr := range turns {
		if err := s.Record.RecordTurn(ctx, &tr); err != nil {
			t.Fatalf("turn %d: %v", i+1, err)
		}
	}
	refs, err := s.Record.FindApplications(ctx, plan, store.LookupIDNumber, idNumber)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].Identity != newer || refs[0].Status != store.StatusMaterialsReady ||
		refs[1].Identity != older || refs[1].Status != store.StatusCollecting || refs[0].PlanID != plan ||
		refs[0].CandidateID == 0 || refs[1].CandidateID == 0 || refs[0].CandidateID == refs[1].CandidateID {
		t.Fatalf("by ID number: %+v, want the newer application first, then the older", refs)
	}
	refs, err = s.Record.FindApplications(ctx, plan, store.LookupMobile, mobile)
	if err != nil || len(refs) != 1 || refs[0].Identity != older {
		t.Fatalf("by mobile: %+v, %v; want the one application with it", refs, err)
	}
	for _, tc := range []struct {
		plan  string
		key   store.LookupKey
		value string
	}{
		{plan, store.LookupIDNumber, "110105194912310000"},
		{plan, store.LookupMobile, idNumber},
		{"another-plan", store.LookupIDNumber, idNumber},
	} {
		if _, err := s.Record.FindApplications(ctx, tc.plan, tc.key, tc.value); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindApplications(%s, %s, %s): err = %v, want store.ErrNotFound", tc.plan, tc.key, tc.value, err)
		}
	}
}

// testCancelReminders: a turn with CancelReminders cancels the identity's
// pending reminders, and nothing else: not its other messages, not another
// identity's reminders; a refused turn cancels nothing.
func testCancelReminders(t *testing.T, s Stores) {
	ctx := ctxFor(t)
	id, other := newIdentity("wechat"), newIdentity("wechat")
	for _, who := range []store.Identity{id, other} {
		if err := s.Record.RecordTurn(ctx, &store.Turn{Identity: who, PlanID: planID, MsgID: "1", Inbound: "你好", At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(30 * 24 * time.Hour)
	msg := func(who store.Identity, kind store.OutKind, key string) store.Outgoing {
		return store.Outgoing{Identity: who, Kind: kind, Payload: []byte(`{"v":1,"m":[{"text":"` + key + `"}]}`),
			NotBefore: later, Key: key + "-" + who.UserID}
	}
	if err := s.Queue(ctx, []store.Outgoing{
		msg(id, store.OutReminder, "r1"), msg(id, store.OutNotification, "n1"), msg(other, store.OutReminder, "r2"),
	}); err != nil {
		t.Fatal(err)
	}
	states := func(who store.Identity) map[string]store.DeliveryState {
		t.Helper()
		ds, err := s.Outbox(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.DeliveryState{}
		for _, d := range ds {
			out[d.Key[:2]] = d.State
		}
		return out
	}

	// A refused turn cancels nothing.
	err := s.Record.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: planID, MsgID: "2", Inbound: "x",
		Status: store.StatusPaid, CancelReminders: true, At: t0.Add(time.Minute)})
	if err == nil {
		t.Fatal("collecting → paid accepted")
	}
	if got := states(id); got["r1"] != store.DeliveryPending {
		t.Fatalf("a refused turn cancelled a reminder: %v", got)
	}

	if err := s.Record.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: planID, MsgID: "3", Inbound: "修改",
		Answers: map[string]any{"training_hours": 100.0}, CancelReminders: true, At: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := states(id); got["r1"] != store.DeliveryCancelled || got["n1"] != store.DeliveryPending {
		t.Fatalf("after CancelReminders: %v, want the reminder cancelled and the notification pending", got)
	}
	if got := states(other); got["r2"] != store.DeliveryPending {
		t.Fatalf("another identity's reminder: %v, want pending", got)
	}
}
