package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The status machine of an application (DOMAIN.md §5), in one place. Every
// store enforces it when a turn changes the status: the memory store with
// CheckTransition, PostgreSQL with a trigger over a copy of Transitions that
// its tests compare with this table.
//
//	collecting → materials_ready → under_review → rejected | awaiting_payment
//	rejected → under_review | collecting
//	awaiting_payment → paid → ticket_ready
//	any → withdrawn
//
// One move back keeps the record true to the conversation: an edit that
// re-opens a material or makes the candidate ineligible moves
// materials_ready back to collecting (rejected → collecting is the
// domain's own). Under review the official site decides: an edit there
// does not change the status.
var transitions = map[Status][]Status{
	StatusCollecting:      {StatusMaterialsReady},
	StatusMaterialsReady:  {StatusUnderReview, StatusCollecting},
	StatusUnderReview:     {StatusRejected, StatusAwaitingPayment},
	StatusRejected:        {StatusUnderReview, StatusCollecting},
	StatusAwaitingPayment: {StatusPaid},
	StatusPaid:            {StatusTicketReady},
	StatusTicketReady:     {},
	StatusWithdrawn:       {},
}

// Statuses returns every status, in the order of the application's life.
func Statuses() []Status {
	return []Status{StatusCollecting, StatusMaterialsReady, StatusUnderReview, StatusRejected,
		StatusAwaitingPayment, StatusPaid, StatusTicketReady, StatusWithdrawn}
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Transition is one allowed status change.
type Transition struct{ From, To Status }

// Transitions returns every allowed change, withdrawn included, in a stable
// order.
func Transitions() []Transition {
	var out []Transition
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			if from != to && allowed(from, to) {
				out = append(out, Transition{from, to})
			}
		}
	}
	return out
}

func allowed(from, to Status) bool {
	if to == StatusWithdrawn {
		return from != StatusWithdrawn
	}
	return slices.Contains(transitions[from], to)
}

// InitialStatus is the status every application is created with.
const InitialStatus = StatusCollecting

// ErrReasonRequired is returned for a change to rejected without a reason.
var ErrReasonRequired = errors.New("a rejection needs a reason")

// TransitionError is a status change the status machine refuses.
type TransitionError struct {
	From, To Status
}

// Error names both statuses.
func (e *TransitionError) Error() string {
	from := string(e.From)
	if from == "" {
		from = "(new application)"
	}
	if !e.To.Valid() {
		return fmt.Sprintf("status %q is not a status (want one of %s)", e.To, statusList())
	}
	return fmt.Sprintf("status cannot change from %s to %s", from, e.To)
}

func statusList() string {
	var names []string
	for _, s := range Statuses() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// CheckTransition says whether an application may move from one status to
// another with the reason given: nil when it may, a *TransitionError when the
// machine has no such change (from "" is a new application, which starts at
// InitialStatus), ErrReasonRequired for a rejection without a reason. A
// status that does not change is no transition and is refused too.
func CheckTransition(from, to Status, reason string) error {
	switch {
	case from == "" && to == InitialStatus:
		return nil
	case from == "" || !from.Valid() || !to.Valid() || !allowed(from, to):
		return &TransitionError{From: from, To: to}
	case to == StatusRejected && strings.TrimSpace(reason) == "":
		return fmt.Errorf("status %s to %s: %w", from, to, ErrReasonRequired)
	}
	return nil
}

// The actors of status events: who caused a change.
const (
	// ActorCandidate is the candidate's own statement (我已在官网提交).
	ActorCandidate = "candidate"
	// ActorSystem is the bot's own doing: every material in, or an edit
	// that took the application back to collecting.
	ActorSystem = "system"
	// ActorImport is a status import from the official system's export.
	ActorImport = "import"
	// staffActorPrefix starts a staff user's actor, "staff:<id>".
	staffActorPrefix = "staff:"
)

// StaffActor is the actor of a change made by the staff user id.
func StaffActor(id string) string { return staffActorPrefix + id }

// ValidActor reports whether actor is one of the actors of status events.
func ValidActor(actor string) bool {
	switch actor {
	case ActorCandidate, ActorSystem, ActorImport:
		return true
	}
	id, ok := strings.CutPrefix(actor, staffActorPrefix)
	return ok && id != "" && !strings.ContainsAny(id, " \t\r\n")
}
