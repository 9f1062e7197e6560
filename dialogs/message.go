package dialogs

import "regbot/store"

// Inbound is one candidate message, the same whichever channel it came from.
// Channel adapters build it; the engine never sees platform types.
type Inbound struct {
	Channel string `json:"channel"`
	UserID  string `json:"user_id"`
	// MsgID is the platform's message id, used to drop retried deliveries.
	MsgID string `json:"msg_id,omitempty"`
	// Text is what the candidate typed (or the label of a menu item).
	Text string `json:"text,omitempty"`
	// Choice is the id of a choice button the candidate pressed.
	Choice string `json:"choice,omitempty"`
	// Image is a received image, already stored in the blob store.
	Image *Image `json:"image,omitempty"`
	// Other is set for message kinds the bot cannot read (voice, video,
	// location…): the engine answers politely and asks again.
	Other string `json:"other,omitempty"`
	// Event is a platform event mapped to an engine event: "subscribe".
	Event string `json:"event,omitempty"`
	// System is set for a change made by staff, an import or the system.
	System *SystemEvent `json:"system,omitempty"`
}

// SystemEvent is a change to a candidate's application that does not come
// from the candidate (staff, an import, the system). It runs as a turn.
type SystemEvent struct {
	// Actor is who caused it: "staff:<id>", "import", "system".
	Actor string `json:"actor"`
	// Status, when set, moves the application to it; Reason says why
	// (required for rejected); Reopen names the materials and slots the
	// candidate must give again.
	Status store.Status `json:"status,omitempty"`
	Reason string       `json:"reason,omitempty"`
	Reopen []string     `json:"reopen,omitempty"`
	// PaymentURL is the payment page of a move to awaiting_payment, when
	// the official system gives one per candidate (else the plan's).
	PaymentURL string `json:"payment_url,omitempty"`
	// Ticket is the number of the ticket a staff Reply or Close is about.
	Ticket string `json:"ticket,omitempty"`
	// Reply is a staff member's answer on the ticket, sent to the candidate
	// as written.
	Reply string `json:"reply,omitempty"`
	// Close closes the ticket: a candidate waiting for staff is handed back
	// to the bot at the question where they left.
	Close bool `json:"close,omitempty"`
}

// Identity returns the inbound's store identity.
func (in Inbound) Identity() store.Identity {
	return store.Identity{Channel: in.Channel, UserID: in.UserID}
}

// Image is an image the candidate sent.
type Image struct {
	// Data are the bytes as received.
	Data []byte `json:"-"`
	// Name is the file name, when the platform gives one.
	Name string `json:"name,omitempty"`
	// Document is true when the image came as a file (its bytes untouched by
	// the platform's compression).
	Document bool `json:"document,omitempty"`
}

// Outbound is one bot message. Adapters render it for their platform.
type Outbound struct {
	Text    string   `json:"text"`
	Choices []Choice `json:"choices,omitempty"`
	// Ask is set on the message that asks a question.
	Ask *Ask `json:"ask,omitempty"`
	// Image is an image to send (a fixed photo, a QR code).
	Image *OutImage `json:"image,omitempty"`
	// Link is a link to show (the template package).
	Link *Link `json:"link,omitempty"`
}

// Ask names the slot a message asks for and the kind of answer it takes.
type Ask struct {
	Slot string `json:"slot"`
	Type string `json:"type"`
}

// OutImage is an image the bot sends. Data holds the bytes for a reply
// rendered at once; Ref names them in the blob store, which is how an image
// travels through the outbox (EncodeMessages keeps Ref, never Data).
type OutImage struct {
	Name string `json:"name"`
	Ref  string `json:"ref,omitempty"`
	Data []byte `json:"-"`
}

// EventKind names what happened in a turn besides messages.
type EventKind string

// The events a turn can produce.
const (
	EventEligibility EventKind = "eligibility"
	EventEscalation  EventKind = "escalation"
	EventMaterial    EventKind = "material"
	EventStatus      EventKind = "status"
	EventTicket      EventKind = "ticket"
)

// Event is something a turn decided that the record must keep.
type Event struct {
	Kind EventKind `json:"event"`
	// Eligibility events.
	Condition *string  `json:"condition,omitempty"`
	Also      []string `json:"also,omitempty"`
	Materials []string `json:"materials,omitempty"`
	Missing   []string `json:"missing,omitempty"`
	// Escalation events: why, what the candidate said, the ticket number
	// and whether the conversation goes to staff.
	Reason   string `json:"reason,omitempty"`
	Text     string `json:"text,omitempty"`
	Code     string `json:"code,omitempty"`
	Handover bool   `json:"handover,omitempty"`
	// Ticket events: a message added to a ticket, or the ticket closed.
	Ticket *store.TicketUpdate `json:"ticket,omitempty"`
	// Material events.
	Document *store.Document `json:"document,omitempty"`
	// Status events: the new status and who caused it (Reason above says
	// why).
	Status store.Status `json:"status,omitempty"`
	Actor  string       `json:"actor,omitempty"`
}

// Result is what the engine produced for one inbound message.
type Result struct {
	Messages []Outbound
	Events   []Event
	// ImageRef is the blob reference of the inbound image: every image a
	// candidate sends is stored, whatever step it came at.
	ImageRef string
	// Outbox are messages the turn sends later or outside its reply: a
	// system turn's notification, a scheduled reminder.
	Outbox []store.Outgoing
	// CancelReminders is set when the answers changed, so reminders based
	// on them are moot.
	CancelReminders bool
}
