package redis

import "regbot/store"

// Every Redis key is built here, one function per kind of key. A
// candidate's keys share the hash tag {channel:user} so that a Cluster keeps
// them in one slot.

// sessionKey is the hash holding a candidate's session: fields data, rev.
func (s *Store) sessionKey(id store.Identity) string {
	return s.prefix + "session:{" + id.Key() + "}"
}

// lockKey is the hash holding a candidate's ticket lock: fields next,
// serving, held, deadline and a:<ticket> for waiters that gave up.
func (s *Store) lockKey(id store.Identity) string {
	return s.prefix + "lock:{" + id.Key() + "}"
}

// dedupKey is the marker of a delivered platform message id.
func (s *Store) dedupKey(key string) string {
	return s.prefix + "dedup:{" + key + "}"
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
