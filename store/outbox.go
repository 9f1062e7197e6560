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
	// NotBefore delays delivery (zero: now).
	NotBefore time.Time
	// Key, when set, makes the message unique: a second Outgoing with the
	// same key is not queued.
	Key string
}

// Delivery is what the record holds about one outbox message: for staff
// (a candidate's notifications and their results) and for the queue.
type Delivery struct {
	ID        int64
	Identity  Identity
	Kind      OutKind
	Key       string
	Payload   []byte
	State     DeliveryState
	Attempts  int
	LastError string
	NotBefore time.Time
	CreatedAt time.Time
	SentAt    time.Time
}
