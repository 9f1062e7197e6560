package store

import "time"

// The fast path of a turn (store/redis, store/memory) is two calls: Begin
// and Finish (or Abort). docs/turns.md describes the protocol.

// BeginRequest starts a turn on the fast path.
type BeginRequest struct {
	Identity Identity
	// MsgID is claimed for the turn ("" claims nothing: no de-duplication).
	MsgID string
	// Rate and Burst are the identity's token bucket (tokens per second and
	// bucket size); Rate 0 means no limit.
	Rate  float64
	Burst int
}

// BeginState is what Begin found.
type BeginState int

// The outcomes of Begin.
const (
	// BeginRun: the message is claimed and the caller holds the identity's
	// turn: run it, then Finish or Abort.
	BeginRun BeginState = iota
	// BeginLimited: as BeginRun, but the identity is over its rate limit:
	// record the message without running the engine.
	BeginLimited
	// BeginDone: the message was handled before; Reply is what its turn
	// answered inline. Nothing is held.
	BeginDone
	// BeginBusy: the message is being handled right now by a live turn
	// (a retry that came too early). Nothing is held.
	BeginBusy
)

// Begun is what Begin answers. Pass it back to Finish or Abort.
type Begun struct {
	State BeginState
	// Reply is the stored inline reply (BeginDone).
	Reply []byte
	// Notify is set with BeginLimited for the first refused message of a
	// run of them: that one gets the "slow down" sentence, the others none.
	Notify bool
	// Cached is the identity's cached session (BeginRun, BeginLimited);
	// Cached.Data is nil when there is none.
	Cached Cached
	// Token identifies what the caller holds (the store's own use).
	Token int64
}

// Cached is a candidate's session as the fast path keeps it, with what the
// record needs to address and guard the candidate's rows.
type Cached struct {
	// Data is the session in dialogs' encoding.
	Data []byte
	// Seq is the application's sequence number Data belongs to.
	Seq                        int64
	CandidateID, ApplicationID int64
}

// Finish ends a turn that ran.
type Finish struct {
	// Session, when not nil, replaces the cached session; a cached session
	// with a higher Seq is kept (a later turn finished first).
	Session *Cached
	// Reply is the turn's inline reply, returned to retries of the message.
	Reply []byte
}

// Leases are the defaults of the fast path's time limits.
const (
	// DefaultLease is how long a turn's hold on its user and message lasts
	// without renewal: a crashed holder blocks its user this long at most.
	DefaultLease = 2 * time.Second
	// DefaultDoneTTL is how long a handled message id is remembered by the
	// fast path (the record remembers it for good).
	DefaultDoneTTL = 24 * time.Hour
)
