package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"regbot/store"
)

// staffRecord is the staff console's part of the record: accounts,
// signed-in sessions and the audit log. Guarded by Store.mu.
type staffRecord struct {
	users    map[int64]*store.StaffUser
	sessions map[string]store.StaffSession
	audit    []store.AuditEntry
}

func (r *staffRecord) init() {
	r.users = map[int64]*store.StaffUser{}
	r.sessions = map[string]store.StaffSession{}
}

// CreateStaffUser adds an account and returns it with its id; a login
// already taken gives store.ErrConflict.
func (s *Store) CreateStaffUser(_ context.Context, u store.StaffUser) (store.StaffUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, other := range s.rec.staff.users {
		if other.Login == u.Login {
			return store.StaffUser{}, fmt.Errorf("create staff user: %w: login", store.ErrConflict)
		}
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	u.ID = s.rec.id()
	s.rec.staff.users[u.ID] = &u
	return u, nil
}

func (s *Store) userLocked(id int64) (*store.StaffUser, error) {
	u, ok := s.rec.staff.users[id]
	if !ok {
		return nil, fmt.Errorf("staff user %d: %w", id, store.ErrNotFound)
	}
	return u, nil
}

// StaffUserByLogin returns the account with login, or store.ErrNotFound.
func (s *Store) StaffUserByLogin(_ context.Context, login string) (store.StaffUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.rec.staff.users {
		if u.Login == login {
			return *u, nil
		}
	}
	return store.StaffUser{}, fmt.Errorf("staff user: %w", store.ErrNotFound)
}

// StaffUser returns the account id, or store.ErrNotFound.
func (s *Store) StaffUser(_ context.Context, id int64) (store.StaffUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return store.StaffUser{}, err
	}
	return *u, nil
}

// StaffUsers returns every account, by login.
func (s *Store) StaffUsers(_ context.Context) ([]store.StaffUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.StaffUser
	for _, u := range s.rec.staff.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b store.StaffUser) int { return strings.Compare(a.Login, b.Login) })
	return out, nil
}

// UpdateStaffUser changes an account's display name and role.
func (s *Store) UpdateStaffUser(_ context.Context, id int64, displayName string, role store.Role) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return err
	}
	u.DisplayName, u.Role = displayName, role
	return nil
}

// SetStaffPassword sets an account's password hash, unlocks it, and ends
// its sessions.
func (s *Store) SetStaffPassword(_ context.Context, id int64, hash string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return err
	}
	u.PasswordHash, u.PasswordChangedAt, u.FailedLogins, u.LockedAt = hash, at, 0, time.Time{}
	s.endSessionsLocked(id)
	return nil
}

// SetStaffDisabled disables (ending its sessions) or enables an account.
func (s *Store) SetStaffDisabled(_ context.Context, id int64, disabled bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return err
	}
	u.DisabledAt = time.Time{}
	if disabled {
		u.DisabledAt = at
		s.endSessionsLocked(id)
	}
	return nil
}

func (s *Store) endSessionsLocked(userID int64) {
	for id, ss := range s.rec.staff.sessions {
		if ss.UserID == userID {
			delete(s.rec.staff.sessions, id)
		}
	}
}

// UnlockStaffUser lifts a lock-out and forgets the failed sign-ins.
func (s *Store) UnlockStaffUser(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return err
	}
	u.FailedLogins, u.LockedAt = 0, time.Time{}
	return nil
}

// RecordLoginFailure counts a wrong password and locks the account at
// lockAfter in a row; it returns whether the account is locked now.
func (s *Store) RecordLoginFailure(_ context.Context, id int64, lockAfter int, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return false, err
	}
	u.FailedLogins++
	if u.LockedAt.IsZero() && u.FailedLogins >= lockAfter {
		u.LockedAt = at
	}
	return !u.LockedAt.IsZero(), nil
}

// RecordLoginSuccess forgets the failed sign-ins and notes the time.
func (s *Store) RecordLoginSuccess(_ context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(id)
	if err != nil {
		return err
	}
	u.FailedLogins, u.LastLoginAt = 0, at
	return nil
}

// CreateStaffSession stores a new signed-in session.
func (s *Store) CreateStaffSession(_ context.Context, ss store.StaffSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.userLocked(ss.UserID); err != nil {
		return err
	}
	if _, ok := s.rec.staff.sessions[ss.ID]; ok {
		return fmt.Errorf("create staff session: %w", store.ErrConflict)
	}
	s.rec.staff.sessions[ss.ID] = ss
	return nil
}

// StaffSession returns the session id and its account, or store.ErrNotFound.
func (s *Store) StaffSession(_ context.Context, id string) (store.StaffSession, store.StaffUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.rec.staff.sessions[id]
	if !ok {
		return store.StaffSession{}, store.StaffUser{}, fmt.Errorf("staff session: %w", store.ErrNotFound)
	}
	u, err := s.userLocked(ss.UserID)
	if err != nil {
		return store.StaffSession{}, store.StaffUser{}, err
	}
	return ss, *u, nil
}

// TouchStaffSession notes activity on a session.
func (s *Store) TouchStaffSession(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.rec.staff.sessions[id]
	if !ok {
		return fmt.Errorf("touch staff session: %w", store.ErrNotFound)
	}
	ss.SeenAt = at
	s.rec.staff.sessions[id] = ss
	return nil
}

// DeleteStaffSession ends a session; an unknown id is not an error.
func (s *Store) DeleteStaffSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rec.staff.sessions, id)
	return nil
}

// DeleteExpiredStaffSessions removes the sessions past their absolute
// expiry or idle since before idleSince.
func (s *Store) DeleteExpiredStaffSessions(_ context.Context, now, idleSince time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, ss := range s.rec.staff.sessions {
		if !ss.ExpiresAt.After(now) || ss.SeenAt.Before(idleSince) {
			delete(s.rec.staff.sessions, id)
			n++
		}
	}
	return n, nil
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(_ context.Context, e store.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.ID = s.rec.id()
	s.rec.staff.audit = append(s.rec.staff.audit, e)
	return nil
}

// AuditLog returns the entries f selects, newest first.
func (s *Store) AuditLog(_ context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []store.AuditEntry
	log := s.rec.staff.audit
	for i := len(log) - 1; i >= 0 && len(out) < f.Limit; i-- {
		e := log[i]
		if (f.UserID != 0 && e.UserID != f.UserID) || (f.Action != "" && e.Action != f.Action) || (f.Before != 0 && e.ID >= f.Before) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}
