package store

import "time"

// The record of broadcasts (package broadcasts): what an admin announces,
// to whom, and how each recipient's message went.

// BroadcastState is where a broadcast is.
type BroadcastState string

// The states of a broadcast: draft → scheduled → sending ⇄ paused → done;
// any state before done → cancelled.
const (
	BroadcastDraft     BroadcastState = "draft"
	BroadcastScheduled BroadcastState = "scheduled"
	BroadcastSending   BroadcastState = "sending"
	BroadcastPaused    BroadcastState = "paused"
	BroadcastDone      BroadcastState = "done"
	BroadcastCancelled BroadcastState = "cancelled"
)

// Broadcast is one announcement.
type Broadcast struct {
	ID     int64
	PlanID string
	Title  string
	// Filter is the expr-lang expression choosing the recipients; Segment
	// names the saved segment it came from ("" when written for it).
	Filter  string
	Segment string
	// Body is the text with {placeholders}; ImageRef an optional image (a
	// blob ref) sent with it, under ImageName.
	Body      string
	ImageRef  string
	ImageName string
	State     BroadcastState
	// SendAt is when a scheduled broadcast starts.
	SendAt     time.Time
	CreatedBy  int64 // staff user; 0 for the command line
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// Recipients is how many candidates the filter matched at the start.
	Recipients int
	// Note says why a broadcast ended without sending.
	Note string
}

// Segment is a saved filter.
type Segment struct {
	ID        int64
	Name      string
	Filter    string
	CreatedBy int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AudienceMember is what a broadcast filter and its placeholders read of
// one candidate's application.
type AudienceMember struct {
	CandidateID int64
	PlanID      string
	Status      Status
	Condition   string
	// Identity is where a message to the candidate goes: their most
	// recently created identity.
	Identity    Identity
	Unreachable bool
	// Name is the answer of the plan's name slot ("" when not given).
	Name string
	// PaymentURL is the candidate's own payment page, when their move to
	// awaiting_payment carried one.
	PaymentURL  string
	OpenTicket  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	StatusSince time.Time
}

// Recipient is one recipient of a broadcast as it starts: the identity and
// the message rendered for them. Skipped, when set, leaves them out before
// any send (why: "unreachable").
type Recipient struct {
	CandidateID int64
	Identity    Identity
	Payload     []byte
	Skipped     string
}

// BroadcastProgress counts a broadcast's recipients by where they are.
type BroadcastProgress struct {
	Total int
	// Waiting are not handed to the outbox yet; Sending are in the outbox,
	// not delivered yet.
	Waiting int
	Sending int
	Sent    int
	Failed  int
	Skipped int
	// Cancelled were withdrawn before they were sent.
	Cancelled int
	// Reasons counts failed and skipped recipients by reason (the error's
	// class, e.g. "unreachable", "window_closed", "failed").
	Reasons map[string]int
	// RecentSent are the sends of the last RecentWindow, for the rate.
	RecentSent   int
	RecentWindow time.Duration
	// LastSentAt is the time of the latest send.
	LastSentAt time.Time
}

// Finished counts the recipients that are done with, one way or another.
func (p BroadcastProgress) Finished() int { return p.Sent + p.Failed + p.Skipped + p.Cancelled }

// RecipientReport is one line of a broadcast's per-recipient report.
type RecipientReport struct {
	CandidateID int64
	Name        string
	Identity    Identity
	// State is the delivery's state ("waiting" before it reached the
	// outbox).
	State     string
	Attempts  int
	Error     string
	SentAt    time.Time
	Reason    string
	OutboxID  int64
	CreatedAt time.Time
}
