package store_test

import (
	"errors"
	"strings"
	"testing"

	"regbot/store"
)

// TestCheckTransition tries every pair of statuses (and a new application)
// against the table of DOMAIN.md §5 written out here once more, so a change
// to the machine must change both.
func TestCheckTransition(t *testing.T) {
	t.Parallel()
	const (
		C  = store.StatusCollecting
		M  = store.StatusMaterialsReady
		U  = store.StatusUnderReview
		R  = store.StatusRejected
		A  = store.StatusAwaitingPayment
		P  = store.StatusPaid
		T  = store.StatusTicketReady
		W  = store.StatusWithdrawn
		no = store.Status("")
	)
	want := map[store.Transition]bool{
		{no, C}: true,
		{C, M}:  true,
		{M, U}:  true, {M, C}: true,
		{U, R}: true, {U, A}: true,
		{R, U}: true, {R, C}: true,
		{A, P}: true,
		{P, T}: true,
		{C, W}: true, {M, W}: true, {U, W}: true, {R, W}: true, {A, W}: true, {P, W}: true, {T, W}: true,
	}
	from := append([]store.Status{no}, store.Statuses()...)
	checked := 0
	for _, f := range from {
		for _, to := range store.Statuses() {
			err := store.CheckTransition(f, to, "材料不清晰")
			ok := want[store.Transition{From: f, To: to}]
			switch {
			case ok && err != nil:
				t.Errorf("%q → %s refused: %v", f, to, err)
			case !ok:
				var te *store.TransitionError
				if !errors.As(err, &te) || te.From != f || te.To != to {
					t.Errorf("%q → %s: err = %v, want a TransitionError naming both", f, to, err)
					continue
				}
				if f != "" && (!strings.Contains(err.Error(), string(f)) || !strings.Contains(err.Error(), string(to))) {
					t.Errorf("%q → %s: %q does not name both statuses", f, to, err)
				}
			}
			checked++
		}
	}
	if checked != 9*8 {
		t.Fatalf("checked %d pairs, want 72", checked)
	}
	// Transitions lists exactly the allowed changes (the PostgreSQL copy is
	// compared with it).
	got := map[store.Transition]bool{{From: no, To: C}: true}
	for _, tr := range store.Transitions() {
		got[tr] = true
	}
	if len(got) != len(want) {
		t.Errorf("Transitions() has %d changes, want %d", len(got)-1, len(want)-1)
	}
	for tr := range want {
		if !got[tr] {
			t.Errorf("Transitions() lacks %s → %s", tr.From, tr.To)
		}
	}
}

func TestCheckTransitionReason(t *testing.T) {
	t.Parallel()
	for _, reason := range []string{"", "  ", "\n"} {
		if err := store.CheckTransition(store.StatusUnderReview, store.StatusRejected, reason); !errors.Is(err, store.ErrReasonRequired) {
			t.Errorf("rejection with reason %q: err = %v, want ErrReasonRequired", reason, err)
		}
	}
	if err := store.CheckTransition(store.StatusUnderReview, store.StatusAwaitingPayment, ""); err != nil {
		t.Errorf("approval without a reason: %v", err)
	}
	if err := store.CheckTransition(store.StatusUnderReview, "approved", "x"); err == nil || !strings.Contains(err.Error(), "not a status") {
		t.Errorf("unknown status: err = %v, want one saying it is not a status", err)
	}
	if err := store.CheckTransition(store.StatusPaid, store.StatusPaid, ""); err == nil {
		t.Error("paid → paid accepted: a status that does not change is no transition")
	}
}

func TestValidActor(t *testing.T) {
	t.Parallel()
	for actor, want := range map[string]bool{
		"candidate": true, "system": true, "import": true, store.StaffActor("7"): true,
		"staff:": false, "staff:a b": false, "bot": false, "": false,
	} {
		if got := store.ValidActor(actor); got != want {
			t.Errorf("ValidActor(%q) = %v, want %v", actor, got, want)
		}
	}
}
