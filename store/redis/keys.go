package redis

import (
	"strings"

	"regbot/store"
)

// Every Redis key is built here, one function per kind of key. A
// candidate's keys share the hash tag {channel:user} so that a Cluster keeps
// them in one slot.

// sessionKey is the hash holding a candidate's cached session: fields d
// (data), s (seq), c (candidate id), a (application id).
func (s *Store) sessionKey(id store.Identity) string {
	return s.prefix + "session:{" + id.Key() + "}"
}

// lockKey is the hash holding a candidate's ticket lock and token bucket
// (turn.go).
func (s *Store) lockKey(id store.Identity) string {
	return s.prefix + "lock:{" + id.Key() + "}"
}

// turnKeys are the keys of one turn: the lock (which holds the candidate's
// token bucket too), the message id's state ("f…" in flight, "d…" done) and
// the session.
type turnKeys struct {
	lock, msg, session string
}

func (s *Store) turnKeys(id store.Identity, msgID string) turnKeys {
	// The three keys are pieces of one string (one allocation, not one or
	// two a key; two turnKeys a turn):
	// <prefix>lock:{ch:user}<prefix>msg:{ch:user}:<id><prefix>session:…
	tagLen := len(id.Channel) + len(id.UserID) + 3 // {channel:user}
	var b strings.Builder
	b.Grow(3*(len(s.prefix)+tagLen) + len("lock:msg::session:") + len(msgID))
	var ends [3]int
	for i, kind := range [3]string{"lock:", "msg:", "session:"} {
		b.WriteString(s.prefix)
		b.WriteString(kind)
		b.WriteByte('{')
		b.WriteString(id.Channel)
		b.WriteByte(':')
		b.WriteString(id.UserID)
		b.WriteByte('}')
		if i == 1 {
			b.WriteByte(':')
			b.WriteString(msgID)
		}
		ends[i] = b.Len()
	}
	all := b.String()
	return turnKeys{
		lock:    all[:ends[0]],
		msg:     all[ends[0]:ends[1]],
		session: all[ends[1]:ends[2]],
	}
}

// rateKey is a token bucket: fields tokens, at.
func (s *Store) rateKey(key string) string {
	return s.prefix + "rate:{" + key + "}"
}

// historyKey is the list of a candidate's recent messages as a channel shows
// them (the web chat's reload history); historySeqKey numbers them.
func (s *Store) historyKey(id store.Identity) string {
	return s.prefix + "history:{" + id.Key() + "}"
}

func (s *Store) historySeqKey(id store.Identity) string {
	return s.prefix + "history-seq:{" + id.Key() + "}"
}
