package store

import "time"

// Application is what the record holds about one candidate's application to
// one plan.
type Application struct {
	ID          int64
	CandidateID int64
	PlanID      string
	Condition   string
	Status      Status
	Answers     map[string]any
	WorkHistory []WorkEntry
	UpdatedAt   time.Time
}

// DocumentRecord is one recorded upload; SupersededAt is zero while it is the
// current document of its material.
type DocumentRecord struct {
	Document
	// ID is the record's id of the document (0 where a store has none).
	ID           int64
	SupersededAt time.Time
	// Review is staff's verdict ("", ReviewAccepted, ReviewRejected), with
	// the reason of a rejection, who and when.
	Review       string
	ReviewReason string
	ReviewedBy   int64
	ReviewedAt   time.Time
}

// StatusEvent is one status change of an application; From is "" for the
// status the application was created with.
type StatusEvent struct {
	From, To Status
	Actor    string
	Reason   string
	At       time.Time
}

// Ticket is an escalation opened by a turn, with what the candidate said.
type Ticket struct {
	ID          int64
	CandidateID int64
	Identity    Identity
	PlanID      string
	Reason      string
	Text        string
	// Code is the ticket number the candidate was told; Handover says the
	// conversation went to staff.
	Code     string
	Handover bool
	// State is TicketOpen (waiting for staff), TicketAnswered or
	// TicketClosed.
	State    string
	OpenedAt time.Time
	// StateSince is when the ticket entered its state: an open ticket
	// waits for staff since then.
	StateSince time.Time
	// AssigneeID and AssigneeLogin name the staff member who claimed it.
	AssigneeID    int64
	AssigneeLogin string
	ClaimedAt     time.Time
	ClosedAt      time.Time
	ClosedBy      string
	// Name is the candidate's name as answered ("" before), for the inbox.
	Name string
}

// InboundMessage is one candidate message as said, with what the bot
// answered.
type InboundMessage struct {
	MsgID string
	Text  string
	At    time.Time
	// Reply is the bot's answer (dialogs.EncodeMessages; nil before the
	// turn protocol kept it); ReplyInline of its messages left in the HTTP
	// response.
	Reply       []byte
	ReplyInline int
}

// HistoryItem is one item of a candidate's recent history as a channel shows
// it (the web chat's reload history): its number and the channel's encoding
// of it.
type HistoryItem struct {
	ID   int64
	Data []byte
}

// LookupKey names the answer an application is found by: the official
// system's exports name candidates by ID number or mobile.
type LookupKey string

// The answers applications can be found by.
const (
	LookupIDNumber LookupKey = "id_number"
	LookupMobile   LookupKey = "mobile"
)

// ApplicationRef is an application found by one of its answers: whose it
// is and where it stands.
type ApplicationRef struct {
	// CandidateID is the candidate the application belongs to.
	CandidateID int64
	// Identity is the candidate's identity that wrote last.
	Identity  Identity
	PlanID    string
	Status    Status
	UpdatedAt time.Time
}
