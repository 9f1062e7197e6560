package store

import "time"

// OutKind says why an outbox message exists.
type OutKind string

// The kinds of outbox messages.
const (
	// OutReply is a turn's reply sent after the HTTP response (WeChat
	// customer-service messages beyond the passive reply, Telegram sends).
	OutReply OutKind = "reply"
	// OutNotification is a status notification.
	OutNotification OutKind = "notification"
	// OutStaff is a staff member's reply to an escalation.
	OutStaff OutKind = "staff"
	// OutReminder is a scheduled reminder ("you will qualify on …").
	OutReminder OutKind = "reminder"
	// OutBroadcast is one recipient's copy of a broadcast.
	OutBroadcast OutKind = "broadcast"
)

// DeliveryState is where an outbox message is.
type DeliveryState string

// The states of an outbox message.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliverySent      DeliveryState = "sent"
	DeliveryFailed    DeliveryState = "failed"    // given up: a permanent failure, or out of attempts
	DeliverySkipped   DeliveryState = "skipped"   // not sent on purpose (recipient unreachable)
	DeliveryCancelled DeliveryState = "cancelled" // withdrawn before it was due (a reminder made moot)
)

// Outgoing is one message (one or more bot messages, delivered in order)
// queued for a candidate in the same transaction as what caused it.
type Outgoing struct {
	Identity Identity
	Kind     OutKind
	// Payload is the channel-neutral form of the messages
	// (dialogs.EncodeMessages).
	Payload []byte
	// Messages, when set, are the messages Payload encodes as the process
	// that queued them holds them (the []dialogs.Outbound it read back from
	// Payload but for image bytes): its deliverer need not decode Payload.
	Messages any
	// NotBefore delays delivery (zero: now).
	NotBefore time.Time
	// Key, when set, makes the message unique: a second Outgoing with the
	// same key is not queued.
	Key string
}

// Delivery is what the record holds about one outbox message: for staff
// (a candidate's notifications and their results) and for the queue.
type Delivery struct {
	ID          int64
	CandidateID int64 // 0 when the identity had no candidate yet
	Identity    Identity
	Kind        OutKind
	Key         string
	Payload     []byte
	// Messages is Outgoing.Messages, on a row this process just queued.
	Messages any
	State    DeliveryState
	// Attempts counts the sends tried, the successful one included.
	Attempts  int
	LastError string
	// PartsSent is how many of the channel's sends for this message went
	// out in earlier attempts (a message of several parts that failed
	// half-way resumes after them).
	PartsSent int
	NotBefore time.Time
	CreatedAt time.Time
	SentAt    time.Time
	// ClaimedUntil is set on a row just queued whose delivery the inserting
	// process holds (the fast path): nobody else sends it before then.
	ClaimedUntil time.Time
}

// DeliveryAttempt is one failed attempt at delivering an outbox message.
type DeliveryAttempt struct {
	At    time.Time
	Error string
	// Permanent says the failure ended the delivery (no retry).
	Permanent bool
}

// FastClaim is the claim a process takes on the outbox rows it queues in a
// turn, to deliver them itself at once (notify's fast path). An empty Owner
// takes no claim: the queue delivers the rows.
type FastClaim struct {
	// Owner names the claiming process (an instance id, unique per start).
	Owner string
	// Lease is how long the claim holds; after it the queue takes the row
	// over (the process died).
	Lease time.Duration
}

// ClaimState is what ClaimDelivery found.
type ClaimState int

// The outcomes of a claim.
const (
	// ClaimTaken: the caller holds the row until Until; deliver it.
	ClaimTaken ClaimState = iota
	// ClaimDone: the row is no longer pending (sent, failed, skipped,
	// cancelled) or no longer exists: nothing to do.
	ClaimDone
	// ClaimHeld: another deliverer holds the row until Until.
	ClaimHeld
	// ClaimBlocked: an earlier due message of the same identity is still
	// pending; this one waits so as not to overtake it.
	ClaimBlocked
	// ClaimEarly: the row is not due before Until (its not_before).
	ClaimEarly
)

// Claim is the answer of ClaimDelivery.
type Claim struct {
	State ClaimState
	// Delivery is the row (ClaimTaken).
	Delivery Delivery
	// Until is when the claim ends (ClaimTaken, ClaimHeld) or when the row
	// is due (ClaimEarly).
	Until time.Time
	// Unreachable says the identity is marked unreachable (the user
	// blocked the bot) (ClaimTaken).
	Unreachable bool
}

// Settlement is the outcome of one delivery attempt, or the return of a
// claim without an attempt, as the deliverer reports it to the record.
type Settlement struct {
	ID int64
	// State is the row's state after the attempt: DeliverySent, or
	// DeliveryPending (it will be tried again), or a final failure
	// (DeliveryFailed, DeliverySkipped).
	State DeliveryState
	// Tried says a send was attempted (counted in Attempts); false returns
	// the claim untouched.
	Tried bool
	// Error is the attempt's failure ("" for a success); failures are kept
	// in the row's attempts.
	Error     string
	Permanent bool
	// PartsSent is how many of the channel's sends are done in all.
	PartsSent int
	// Unreachable marks the row's identity unreachable (the user blocked
	// the bot).
	Unreachable bool
	At          time.Time
}

// Queued is an outbox row handed to the durable queue: the queue delivers
// it at NotBefore (or at once when that is past).
type Queued struct {
	ID        int64
	NotBefore time.Time
}
