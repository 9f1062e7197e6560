package memory

import (
	"context"
	"fmt"

	"regbot/store"
)

type session struct {
	data []byte
	rev  int64
}

// LoadSession returns the session stored for id and its revision, or
// store.ErrNotFound.
func (s *Store) LoadSession(_ context.Context, id store.Identity) ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.sessions[id.Key()]
	if !ok {
		return nil, 0, fmt.Errorf("load session: %w", store.ErrNotFound)
	}
	return clone(cur.data), cur.rev, nil
}

// SaveSession stores data if the stored revision is still rev (0: none
// stored) and returns the new revision, or store.ErrConflict.
func (s *Store) SaveSession(_ context.Context, id store.Identity, data []byte, rev int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.sessions[id.Key()]
	if cur.rev != rev {
		return 0, fmt.Errorf("save session: revision %d, stored %d: %w", rev, cur.rev, store.ErrConflict)
	}
	next := session{data: clone(data), rev: rev + 1}
	s.sessions[id.Key()] = next
	return next.rev, nil
}

// DropSessions forgets every session, as a Redis flush would; the record
// keeps its snapshots. Tests use it to exercise recovery.
func (s *Store) DropSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
