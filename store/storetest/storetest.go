// Package storetest is the conformance suite every store implementation
// passes: store/memory on its own, and store/postgres + store/redis together.
// An implementation's test calls Run with a function that builds a fresh,
// isolated set of stores for each subtest; the helpers PostgresURL and
// RedisPrefix give tests an isolated schema and key prefix on the real
// servers, cleaned up when the test ends.
package storetest

import (
	"context"
	"time"

	"regbot/store"
)

// Fast is a turn's fast path (bot.Fast), and what the suite reads back.
type Fast interface {
	Begin(ctx context.Context, req store.BeginRequest) (store.Begun, error)
	Finish(ctx context.Context, req store.BeginRequest, b store.Begun, f store.Finish) error
	Abort(ctx context.Context, req store.BeginRequest, b store.Begun) error
	// CachedSession returns the cached session of id, or store.ErrNotFound.
	CachedSession(ctx context.Context, id store.Identity) (store.Cached, error)
}

// Locker serialises one candidate's messages in arrival order (bot.Locker),
// and says how many are waiting, so the suite can line waiters up in a known
// order.
type Locker interface {
	LockUser(ctx context.Context, id store.Identity) (unlock func(), err error)
	Waiters(ctx context.Context, id store.Identity) (int, error)
}

// Record is the durable record (bot.Record).
type Record interface {
	RecordTurn(ctx context.Context, t *store.Turn) error
	LatestSession(ctx context.Context, id store.Identity) ([]byte, error)
	Resume(ctx context.Context, id store.Identity, planID string) (store.Cached, error)
	Reply(ctx context.Context, id store.Identity, msgID string) ([]byte, int, error)
	Serial(ctx context.Context, id store.Identity, fn func(ctx context.Context) error) error
	// MarkUnreachable and Unreachable keep identities the platform
	// refuses to deliver to (blocked the bot), until they write again.
	MarkUnreachable(ctx context.Context, id store.Identity) error
	Unreachable(ctx context.Context, id store.Identity) (bool, error)
	// FindApplications finds applications by the candidate's ID number or
	// mobile (the status import, staff).
	FindApplications(ctx context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error)
}

// Limiter is a token-bucket rate limiter.
type Limiter interface {
	Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error)
}

// Stores is one implementation under test.
type Stores struct {
	Fast    Fast
	Locker  Locker
	Record  Record
	Limiter Limiter
	// Inspect reads back what Record holds about id's application to plan,
	// or store.ErrNotFound.
	Inspect func(ctx context.Context, id store.Identity, planID string) (Recorded, error)
	// Queue puts messages in the outbox outside a turn (as notify's queue
	// does), and Outbox reads back the identity's messages: for the
	// reminders a turn cancels.
	Queue  func(ctx context.Context, msgs []store.Outgoing) error
	Outbox func(ctx context.Context, id store.Identity) ([]store.Delivery, error)
}

// Recorded is what the record holds about one application, in a form every
// implementation can produce.
type Recorded struct {
	Condition    string
	Status       store.Status
	Answers      map[string]any
	WorkHistory  []store.WorkEntry
	StatusEvents []StatusChange
	// Documents are oldest first, superseded ones included.
	Documents []RecordedDocument
	// Tickets are the candidate's escalations, oldest first.
	Tickets []RecordedTicket
	// Inbound are the candidate's messages, in the order recorded.
	Inbound []RecordedMessage
}

// StatusChange is one status event; From is "" for the initial status.
type StatusChange struct {
	From, To store.Status
	Actor    string
	Reason   string
}

// RecordedDocument is one recorded upload.
type RecordedDocument struct {
	store.Document
	Current bool
}

// RecordedTicket is one escalation ticket.
type RecordedTicket struct {
	Reason, Text string
}

// RecordedMessage is one inbound message as recorded.
type RecordedMessage struct {
	MsgID, Text string
}
