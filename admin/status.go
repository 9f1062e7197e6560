package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

// Status changes made by staff (the JSON API) and by the import of the
// official system's export both run here: each change is one system turn
// through the Router (dialogs.SystemEvent), which checks it against the
// status machine, updates the candidate's session, records the status event
// and queues the candidate's notification in one transaction.

// Turns runs one turn; bot.Router satisfies it.
type Turns interface {
	Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error)
}

// Applications finds applications in the record.
type Applications interface {
	// FindApplications returns the applications to plan whose answer key
	// (store.LookupIDNumber, store.LookupMobile) is value, most recently
	// changed first, or store.ErrNotFound.
	FindApplications(ctx context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error)
	// Application returns the identity's application to plan, or
	// store.ErrNotFound.
	Application(ctx context.Context, id store.Identity, planID string) (store.Application, error)
}

// Change is one status change for one candidate.
type Change struct {
	Identity store.Identity
	// From is the status the change was decided on (part of its
	// idempotency key); To the new one.
	From, To store.Status
	// Actor is "staff:<id>" or "import"; Reason says why (required for
	// rejected); Reopen names the materials and answers to give again.
	Actor      string
	Reason     string
	Reopen     []string
	PaymentURL string
	// Since is when the application last changed, as the caller saw it:
	// part of the derived key, so that the same change made again after
	// the candidate moved on (rejected, resubmitted, rejected again) is a
	// new turn.
	Since time.Time
	// Key makes the change idempotent: the same key is one turn however
	// often it is sent. Empty: derived from the change itself.
	Key string
}

// Outcome is what became of one change.
type Outcome string

// The outcomes of a change.
const (
	// Applied: the status changed and the candidate's notification is
	// queued.
	Applied Outcome = "applied"
	// Unchanged: the application already has the status (or the same
	// change was already made).
	Unchanged Outcome = "unchanged"
	// Refused: the status machine or the plan refuses the change.
	Refused Outcome = "refused"
	// Failed: a store or the engine failed; trying again may work.
	Failed Outcome = "failed"
)

// StatusChanger applies status changes as system turns.
type StatusChanger struct {
	turns Turns
	// duplicate reports whether an error of turns means the turn was
	// already run (bot.ErrDuplicate).
	duplicate func(error) bool
}

// NewStatusChanger returns a changer running turns; duplicate tells the
// Router's "already handled" error (admin does not import bot).
func NewStatusChanger(turns Turns, duplicate func(error) bool) *StatusChanger {
	return &StatusChanger{turns: turns, duplicate: duplicate}
}

// Apply runs ch as a system turn. The error says why a change was refused
// or failed.
func (c *StatusChanger) Apply(ctx context.Context, ch Change) (Outcome, error) {
	if ch.From == ch.To {
		return Unchanged, nil
	}
	if err := store.CheckTransition(ch.From, ch.To, ch.Reason); err != nil {
		return Refused, err
	}
	key := ch.Key
	if key == "" {
		key = changeKey(ch)
	}
	in := dialogs.Inbound{Channel: ch.Identity.Channel, UserID: ch.Identity.UserID, MsgID: key,
		System: &dialogs.SystemEvent{Actor: ch.Actor, Status: ch.To, Reason: ch.Reason, Reopen: ch.Reopen, PaymentURL: ch.PaymentURL}}
	_, err := c.turns.Handle(ctx, in)
	var te *store.TransitionError
	switch {
	case err == nil:
		return Applied, nil
	case c.duplicate != nil && c.duplicate(err):
		return Unchanged, nil
	case errors.As(err, &te), errors.Is(err, store.ErrReasonRequired),
		errors.Is(err, dialogs.ErrBadSystemEvent), errors.Is(err, dialogs.ErrUnknownCandidate):
		return Refused, err
	}
	return Failed, err
}

// changeKey is the idempotency key of a change: the same change to the
// same application state is the same turn, so re-running an import or a
// double click changes and sends nothing twice, while the same target
// reached again later (rejected, fixed, resubmitted, rejected again) is a
// new turn. A key made new by an unrelated change of the application does
// no harm: a status the application already has is no change.
func changeKey(ch Change) string {
	h := sha256.New()
	for _, part := range []string{ch.Identity.Channel, ch.Identity.UserID, string(ch.From), string(ch.To),
		ch.Actor, ch.Reason, strings.Join(ch.Reopen, ","), ch.PaymentURL, ch.Since.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "status:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// ParseStatus reads a status as staff or the official export write it: a
// status key (under_review) or one of its names in the official export
// (templates/messages.yaml, import.statuses).
func ParseStatus(name string) (store.Status, error) {
	n := strings.TrimSpace(name)
	if st := store.Status(strings.ToLower(n)); st.Valid() {
		return st, nil
	}
	word := strings.Join(strings.Fields(n), "")
	var hints []string
	for _, st := range store.Statuses() {
		names := texts.Import.Statuses[st]
		if slices.Contains(names, word) {
			return st, nil
		}
		if len(names) > 0 {
			hints = append(hints, names[0])
		}
	}
	return "", fmt.Errorf("unknown status %q (use a status key or %s)", n, strings.Join(hints, ", "))
}

// statusWord is the official export's name of a status (its status key
// when it has none).
func statusWord(st store.Status) string {
	if names := texts.Import.Statuses[st]; len(names) > 0 {
		return names[0]
	}
	return string(st)
}

// reopenKeys reads the items to re-open: material and answer keys, or
// their names in the plan, separated by commas (ASCII, full-width or the
// enumeration comma), semicolons or spaces.
func reopenKeys(plan *dialogs.Plan, list string) ([]string, error) {
	var keys, unknown []string
	for _, item := range strings.FieldsFunc(list, func(r rune) bool { return strings.ContainsRune(",，、;； /|", r) }) {
		switch key, ok := planItem(plan, item); {
		case ok:
			keys = append(keys, key)
		default:
			unknown = append(unknown, item)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s: not a material or answer of the plan", dialogs.ErrBadSystemEvent, strings.Join(unknown, ", "))
	}
	return keys, nil
}

func planItem(plan *dialogs.Plan, item string) (string, bool) {
	for _, m := range plan.Materials {
		if m.Key == item || m.Name == item {
			return m.Key, true
		}
	}
	for _, s := range plan.Slots {
		if s.Key == item || s.Label == item {
			return s.Key, true
		}
	}
	return "", false
}
