package store

import "time"

// The record as the staff console reads it: candidates to list and open,
// tickets to answer, documents to review, and the figures of the dashboard.

// CandidateFilter selects the applications of a plan for the candidate
// list. Zero fields do not filter.
type CandidateFilter struct {
	PlanID    string
	Status    Status
	Condition string
	Channel   string
	// Waiting keeps candidates with a ticket waiting for staff.
	Waiting bool
	// UpdatedSince keeps applications changed at or after it.
	UpdatedSince time.Time
	// Text is matched as a substring (case-insensitive) of the answers named
	// by TextKeys (the name).
	Text     string
	TextKeys []string
	// Candidates, when not nil, keeps only these candidates (a contact
	// lookup's result; empty keeps none).
	Candidates []int64
	Offset     int
	// Limit is the page size; 0 means no limit (the CSV export).
	Limit int
}

// CandidateRow is one application in the candidate list.
type CandidateRow struct {
	CandidateID   int64
	ApplicationID int64
	PlanID        string
	Condition     string
	Status        Status
	// Answers are the application's answers (the list shows the name and,
	// masked, the ID number and mobile).
	Answers    map[string]any
	Identities []Identity
	// Waiting counts the candidate's tickets waiting for staff.
	Waiting   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CandidateRecord is everything the record holds about one candidate's
// application, for the candidate page.
type CandidateRecord struct {
	CandidateID int64
	Application Application
	CreatedAt   time.Time
	// Session is the last session snapshot (nil if none was recorded).
	Session    []byte
	Identities []IdentityState
	Documents  []DocumentRecord
	Events     []StatusEvent
	Tickets    []Ticket
	Inbound    []InboundMessage
}

// IdentityState is one of a candidate's channel identities.
type IdentityState struct {
	Identity
	// Unreachable is set while the platform refuses to deliver to it.
	Unreachable bool
	CreatedAt   time.Time
}

// TicketMessage is one message of a ticket's conversation.
type TicketMessage struct {
	ID int64
	// Author is candidate, staff or bot; StaffLogin names the staff member.
	Author     string
	StaffID    int64
	StaffLogin string
	Text       string
	// ImageRef is an image the candidate sent (a blob ref), "" for text.
	ImageRef string
	At       time.Time
}

// The authors of ticket messages.
const (
	AuthorCandidate = "candidate"
	AuthorStaff     = "staff"
	AuthorBot       = "bot"
)

// The states of a ticket.
const (
	// TicketOpen waits for staff.
	TicketOpen = "open"
	// TicketAnswered: staff replied; the candidate's next message opens it again.
	TicketAnswered = "answered"
	// TicketClosed is done.
	TicketClosed = "closed"
)

// TicketUpdate is what a turn adds to one of the candidate's tickets, found
// by its code: a message, and possibly the ticket closed.
type TicketUpdate struct {
	Code string
	// Author is AuthorCandidate, AuthorStaff or AuthorBot; StaffID the staff
	// user of a staff message.
	Author   string
	StaffID  int64
	Text     string
	ImageRef string
	// Close closes the ticket; ClosedBy says who ("candidate", "staff:<id>").
	Close    bool
	ClosedBy string
}

// TicketFilter selects tickets for the inbox.
type TicketFilter struct {
	PlanID string
	// States are the states to list (none: open and answered).
	States []string
	Limit  int
}

// DocumentReview is staff's verdict on a document.
type DocumentReview struct {
	DocumentID int64
	// Verdict is ReviewAccepted or ReviewRejected.
	Verdict string
	Reason  string
	StaffID int64
	At      time.Time
}

// The verdicts of a document review.
const (
	ReviewAccepted = "accepted"
	ReviewRejected = "rejected"
)

// Dashboard are the figures of one plan's dashboard.
type Dashboard struct {
	Applications int
	// ByStatus and ByCondition count applications by their current status
	// and chosen condition ("" for undecided or none).
	ByStatus    map[Status]int
	ByCondition map[string]int
	// Reached counts the applications that were ever at each status.
	Reached map[Status]int
	// TicketsWaiting are the tickets waiting for staff; OldestWaiting when
	// the longest-waiting one started to wait (zero without any).
	TicketsWaiting int
	OldestWaiting  time.Time
	// PerDay are new applications per day (in the dashboard's time zone),
	// oldest first, days without any included.
	PerDay []DayCount
}

// DayCount is a number of things on one day.
type DayCount struct {
	Day time.Time
	N   int
}
