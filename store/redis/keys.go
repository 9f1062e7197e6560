package redis

import "regbot/store"

// Every Redis key is built here, one function per kind of key. A
// candidate's keys share the hash tag {channel:user} so that a Cluster keeps
// them in one slot.

// sessionKey is the hash holding a candidate's cached session: fields d
// (data), s (seq), c (candidate id), a (application id).
func (s *Store) sessionKey(id store.Identity) string {
	return s.prefix + "session:{" + id.Key() + "}"
}

// lockKey is the hash holding a candidate's ticket lock (turn.go).
func (s *Store) lockKey(id store.Identity) string {
	return s.prefix + "lock:{" + id.Key() + "}"
}

// turnKeys are the keys of one turn: the lock, the message id's state
// ("f…" in flight, "d…" done), the session and the candidate's token
// bucket.
type turnKeys struct {
	lock, msg, session, rate string
}

func (s *Store) turnKeys(id store.Identity, msgID string) turnKeys {
	tag := "{" + id.Key() + "}"
	return turnKeys{
		lock:    s.prefix + "lock:" + tag,
		msg:     s.prefix + "msg:" + tag + ":" + msgID,
		session: s.prefix + "session:" + tag,
		rate:    s.prefix + "urate:" + tag,
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
