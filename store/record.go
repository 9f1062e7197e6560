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
	SupersededAt time.Time
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
	ID       int64
	Identity Identity
	PlanID   string
	Reason   string
	Text     string
	// State is open, answered or closed.
	State    string
	OpenedAt time.Time
}

// InboundMessage is one candidate message as said.
type InboundMessage struct {
	MsgID string
	Text  string
	At    time.Time
}

// HistoryItem is one item of a candidate's recent history as a channel shows
// it (the web chat's reload history): its number and the channel's encoding
// of it.
type HistoryItem struct {
	ID   int64
	Data []byte
}
