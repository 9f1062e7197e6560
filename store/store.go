// Package store holds the domain types that are persisted and the errors every
// store implementation returns. The implementations live in sub-packages:
// store/memory (the embedded default), store/postgres (the record) and
// store/redis (sessions, de-duplication, locks, rate limits). The interfaces
// they satisfy are declared where they are used (bot.Router and others);
// store/storetest is the conformance suite every implementation passes.
package store

import (
	"errors"
	"fmt"
	"time"
)

// Errors every implementation translates its own errors into.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a concurrent change won (revision mismatch, unique
	// violation).
	ErrConflict = errors.New("conflict")
	// ErrStale means a turn was computed on a session older than the
	// record (the application's seq moved on): nothing was written, and the
	// turn must run again on the recorded state. It matches ErrConflict too.
	ErrStale = fmt.Errorf("%w: stale session", ErrConflict)
)

// Identity is how a candidate reaches us on one channel: ("wechat", openID),
// ("telegram", chat id), ("web", cookie id), ("console", "local").
type Identity struct {
	Channel string `json:"channel"`
	UserID  string `json:"user_id"`
}

// Key is the identity as one string, for maps and Redis keys.
func (id Identity) Key() string { return id.Channel + ":" + id.UserID }

// Status is an application's status key (DOMAIN.md §5).
type Status string

// The statuses of an application.
const (
	StatusCollecting      Status = "collecting"
	StatusMaterialsReady  Status = "materials_ready"
	StatusUnderReview     Status = "under_review"
	StatusRejected        Status = "rejected"
	StatusAwaitingPayment Status = "awaiting_payment"
	StatusPaid            Status = "paid"
	StatusTicketReady     Status = "ticket_ready"
	StatusWithdrawn       Status = "withdrawn"
)

// WorkEntry is one period of work as the candidate gave it.
type WorkEntry struct {
	Employer   string `json:"employer"`
	Occupation string `json:"occupation"`
	// Related says whether Occupation matched this or a related occupation.
	Related bool `json:"related"`
	// Start is "YYYY-MM"; End is "YYYY-MM" or "至今" (ongoing).
	Start string `json:"start"`
	End   string `json:"end"`
}

// Document is one uploaded file of a material, as received and checked.
type Document struct {
	Material string `json:"material"`
	// BlobRef is the blob store reference (the SHA-256 of the plain bytes, hex).
	BlobRef string `json:"blob_ref"`
	Size    int64  `json:"size"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Format  string `json:"format"`
	// Accepted is the check result; Problems lists what failed (zh-CN).
	Accepted bool      `json:"accepted"`
	Problems []string  `json:"problems,omitempty"`
	At       time.Time `json:"at"`
	// PHash is the picture's perceptual hash, so that the same picture
	// sent again for another material is recognised; empty when the file
	// could not be decoded.
	PHash ImageHash `json:"phash,omitempty"`
}

// Escalation is a request for a person (转人工), or a case the bot must not
// guess about.
type Escalation struct {
	Reason string `json:"reason"`
	Text   string `json:"text,omitempty"`
	// Code is the ticket number the candidate is told.
	Code string `json:"code,omitempty"`
	// Handover says the conversation goes to staff: the bot stops answering
	// free text until the ticket is closed. Without it the ticket is a
	// review the bot goes on beside.
	Handover bool      `json:"handover,omitempty"`
	At       time.Time `json:"at"`
}

// Turn is what one handled candidate message changed. It is written to the
// record (PostgreSQL) before the bot replies, in one transaction, so nothing
// a candidate said is lost.
//
// The zero values of the Keep fields and of CandidateID, ApplicationID and
// Seq write everything and find the candidate by Identity (a caller outside
// the Router, a first contact). The Router fills them so that a turn writes
// only what changed, addressed by id, guarded by Seq (docs/turns.md).
type Turn struct {
	Identity Identity
	PlanID   string
	MsgID    string
	// Inbound is the candidate's message as text ("[image sha256]" for
	// images), kept as said.
	Inbound string
	// CandidateID and ApplicationID address the candidate's rows when the
	// Router knows them (its session carries them); 0: look them up by
	// Identity, creating the candidate on first contact.
	CandidateID, ApplicationID int64
	// Seq is the application's sequence number the turn's session was
	// loaded at (with ApplicationID set): when the record holds another,
	// RecordTurn writes nothing and returns ErrStale. 0: no guard.
	Seq int64
	// Fresh says the Router found no recorded application: one recorded
	// meanwhile (by another process) makes the turn ErrStale.
	Fresh bool
	// Session is the full session snapshot (dialogs' encoding): the
	// recovery source when the fast session store loses it. Nil keeps the
	// recorded one.
	Session []byte
	// KeepAnswers says Answers and Condition did not change: they are not
	// written.
	KeepAnswers bool
	// Answers are the candidate's answers by slot key (JSON-friendly values).
	Answers map[string]any
	// KeepWork says WorkHistory did not change: it is not written.
	KeepWork bool
	// WorkHistory replaces the candidate's work history entries.
	WorkHistory []WorkEntry
	// Condition is the chosen eligibility condition ("" while undecided).
	Condition string
	// Status, when not empty and not the current one, moves the
	// application to this status; the store refuses a change the status
	// machine does not allow (CheckTransition). StatusActor says who caused
	// it (ActorSystem when empty), StatusReason why (required for
	// rejected).
	Status       Status
	StatusActor  string
	StatusReason string
	// System marks a turn that does not come from the candidate (staff, an
	// import, the system): no candidate message is recorded for it (its
	// MsgID is, as a row of kind system, so that it happens once) and the
	// identity's reachability is left as it is.
	System bool
	// Failed marks a candidate's message whose turn failed for good (the
	// record refused what it changed, the engine panicked): it is recorded
	// as said, of kind failed, with the apology the candidate got, so that
	// staff can find it and the platform stops retrying it.
	Failed bool
	// CancelReminders cancels the identity's pending reminders before the
	// turn's own outbox rows are queued: the answers they were based on
	// changed.
	CancelReminders bool
	// Reply is what the bot answered (dialogs.EncodeMessages), kept with
	// the message; ReplyInline of its messages left in the HTTP response.
	Reply       []byte
	ReplyInline int
	// Documents are uploads received in this turn.
	Documents []Document
	// Escalations are tickets opened in this turn.
	Escalations []Escalation
	// Tickets are messages added to the candidate's tickets (what they said
	// while waiting for staff, a staff reply) and tickets closed.
	Tickets []TicketUpdate
	// Outbox are the messages the turn sends after the HTTP response,
	// queued in the same transaction as the turn.
	Outbox []Outgoing
	// Claim is the fast-path claim the turn's outbox rows are inserted
	// with (notify's FastClaim; empty: the queue delivers them).
	Claim FastClaim
	// Rows are filled in by RecordTurn: the outbox rows inserted (a message
	// whose key was queued before is left out), ClaimedUntil set on the
	// rows the claim holds.
	Rows []Delivery
	At   time.Time
}
