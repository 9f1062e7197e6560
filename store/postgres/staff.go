package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
)

const staffColumns = `id, login, display_name, role, password_hash, failed_logins, created_at,
	disabled_at, locked_at, last_login_at, password_changed_at`

func scanStaffUser(r pgx.Row) (store.StaffUser, error) {
	var u store.StaffUser
	var role string
	var disabled, locked, lastLogin, changed *time.Time
	err := r.Scan(&u.ID, &u.Login, &u.DisplayName, &role, &u.PasswordHash, &u.FailedLogins, &u.CreatedAt,
		&disabled, &locked, &lastLogin, &changed)
	u.Role = store.Role(role)
	u.DisabledAt, u.LockedAt, u.LastLoginAt, u.PasswordChangedAt = orZero(disabled), orZero(locked), orZero(lastLogin), orZero(changed)
	return u, err
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateStaffUser adds an account and returns it with its id; a login
// already taken gives store.ErrConflict.
func (s *Store) CreateStaffUser(ctx context.Context, u store.StaffUser) (store.StaffUser, error) {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	row := s.pool.QueryRow(ctx, `
		insert into staff_users (login, display_name, role, password_hash, created_at, password_changed_at)
		values ($1, $2, $3, $4, $5, $6)
		returning `+staffColumns,
		u.Login, u.DisplayName, string(u.Role), u.PasswordHash, u.CreatedAt, orNull(u.PasswordChangedAt))
	created, err := scanStaffUser(row)
	if err != nil {
		return store.StaffUser{}, fmt.Errorf("create staff user: %w", translate(err))
	}
	return created, nil
}

// StaffUserByLogin returns the account with login, or store.ErrNotFound.
func (s *Store) StaffUserByLogin(ctx context.Context, login string) (store.StaffUser, error) {
	u, err := scanStaffUser(s.pool.QueryRow(ctx, `select `+staffColumns+` from staff_users where login = $1`, login))
	if err != nil {
		return store.StaffUser{}, fmt.Errorf("staff user: %w", translate(err))
	}
	return u, nil
}

// StaffUser returns the account id, or store.ErrNotFound.
func (s *Store) StaffUser(ctx context.Context, id int64) (store.StaffUser, error) {
	u, err := scanStaffUser(s.pool.QueryRow(ctx, `select `+staffColumns+` from staff_users where id = $1`, id))
	if err != nil {
		return store.StaffUser{}, fmt.Errorf("staff user %d: %w", id, translate(err))
	}
	return u, nil
}

// StaffUsers returns every account, by login.
func (s *Store) StaffUsers(ctx context.Context) ([]store.StaffUser, error) {
	rows, err := s.pool.Query(ctx, `select `+staffColumns+` from staff_users order by login`)
	if err != nil {
		return nil, fmt.Errorf("staff users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.StaffUser, error) { return scanStaffUser(r) })
	if err != nil {
		return nil, fmt.Errorf("staff users: %w", err)
	}
	return users, nil
}

// UpdateStaffUser changes an account's display name and role, or gives
// store.ErrNotFound.
func (s *Store) UpdateStaffUser(ctx context.Context, id int64, displayName string, role store.Role) error {
	return s.execOne(ctx, "update staff user", `
		update staff_users set display_name = $2, role = $3 where id = $1`, id, displayName, string(role))
}

// SetStaffPassword sets an account's password hash, unlocks it, and ends
// its sessions (a new password signs every browser out).
func (s *Store) SetStaffPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	return s.inTx(ctx, "set staff password", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			update staff_users set password_hash = $2, password_changed_at = $3, failed_logins = 0, locked_at = null
			where id = $1`, id, hash, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = tx.Exec(ctx, `delete from staff_sessions where user_id = $1`, id)
		return err
	})
}

// SetStaffDisabled disables (ending its sessions) or enables an account.
func (s *Store) SetStaffDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error {
	return s.inTx(ctx, "disable staff user", func(tx pgx.Tx) error {
		var when *time.Time
		if disabled {
			when = &at
		}
		tag, err := tx.Exec(ctx, `update staff_users set disabled_at = $2 where id = $1`, id, when)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if disabled {
			_, err = tx.Exec(ctx, `delete from staff_sessions where user_id = $1`, id)
		}
		return err
	})
}

// UnlockStaffUser lifts a lock-out and forgets the failed sign-ins.
func (s *Store) UnlockStaffUser(ctx context.Context, id int64) error {
	return s.execOne(ctx, "unlock staff user", `
		update staff_users set failed_logins = 0, locked_at = null where id = $1`, id)
}

// RecordLoginFailure counts a wrong password for the account and locks it
// when lockAfter wrong passwords came in a row. It returns whether the
// account is locked now.
func (s *Store) RecordLoginFailure(ctx context.Context, id int64, lockAfter int, at time.Time) (bool, error) {
	var locked bool
	err := s.pool.QueryRow(ctx, `
		update staff_users set
			failed_logins = failed_logins + 1,
			locked_at = case when locked_at is null and failed_logins + 1 >= $2 then $3 else locked_at end
		where id = $1
		returning locked_at is not null`, id, lockAfter, at).Scan(&locked)
	if err != nil {
		return false, fmt.Errorf("record login failure: %w", translate(err))
	}
	return locked, nil
}

// RecordLoginSuccess forgets the failed sign-ins and notes the time.
func (s *Store) RecordLoginSuccess(ctx context.Context, id int64, at time.Time) error {
	return s.execOne(ctx, "record login", `
		update staff_users set failed_logins = 0, last_login_at = $2 where id = $1`, id, at)
}

// CreateStaffSession stores a new signed-in session.
func (s *Store) CreateStaffSession(ctx context.Context, ss store.StaffSession) error {
	_, err := s.pool.Exec(ctx, `
		insert into staff_sessions (id, user_id, csrf, created_at, seen_at, expires_at, address, user_agent)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ss.ID, ss.UserID, ss.CSRF, ss.CreatedAt, ss.SeenAt, ss.ExpiresAt, ss.Address, ss.UserAgent)
	if err != nil {
		return fmt.Errorf("create staff session: %w", translate(err))
	}
	return nil
}

// StaffSession returns the session id and its account, or store.ErrNotFound.
// Expiry is the caller's decision.
func (s *Store) StaffSession(ctx context.Context, id string) (store.StaffSession, store.StaffUser, error) {
	var ss store.StaffSession
	row := s.pool.QueryRow(ctx, `
		select s.id, s.user_id, s.csrf, s.created_at, s.seen_at, s.expires_at, s.address, s.user_agent,
			u.id, u.login, u.display_name, u.role, u.password_hash, u.failed_logins, u.created_at,
			u.disabled_at, u.locked_at, u.last_login_at, u.password_changed_at
		from staff_sessions s join staff_users u on u.id = s.user_id
		where s.id = $1`, id)
	var u store.StaffUser
	var role string
	var disabled, locked, lastLogin, changed *time.Time
	err := row.Scan(&ss.ID, &ss.UserID, &ss.CSRF, &ss.CreatedAt, &ss.SeenAt, &ss.ExpiresAt, &ss.Address, &ss.UserAgent,
		&u.ID, &u.Login, &u.DisplayName, &role, &u.PasswordHash, &u.FailedLogins, &u.CreatedAt,
		&disabled, &locked, &lastLogin, &changed)
	if err != nil {
		return store.StaffSession{}, store.StaffUser{}, fmt.Errorf("staff session: %w", translate(err))
	}
	u.Role = store.Role(role)
	u.DisabledAt, u.LockedAt, u.LastLoginAt, u.PasswordChangedAt = orZero(disabled), orZero(locked), orZero(lastLogin), orZero(changed)
	return ss, u, nil
}

// TouchStaffSession notes activity on a session (its idle expiry restarts).
func (s *Store) TouchStaffSession(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "touch staff session", `update staff_sessions set seen_at = $2 where id = $1`, id, at)
}

// DeleteStaffSession ends a session; an unknown id is not an error (a
// second sign-out).
func (s *Store) DeleteStaffSession(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `delete from staff_sessions where id = $1`, id); err != nil {
		return fmt.Errorf("delete staff session: %w", err)
	}
	return nil
}

// DeleteExpiredStaffSessions removes the sessions past their absolute
// expiry or idle since before idleSince, and says how many.
func (s *Store) DeleteExpiredStaffSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from staff_sessions where expires_at <= $1 or seen_at < $2`, now, idleSince)
	if err != nil {
		return 0, fmt.Errorf("delete expired staff sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	var user *int64
	if e.UserID != 0 {
		user = &e.UserID
	}
	_, err := s.pool.Exec(ctx, `
		insert into audit_log (at, staff_user_id, login, action, target, detail, address)
		values ($1, $2, $3, $4, $5, $6, $7)`, e.At, user, e.Login, e.Action, e.Target, e.Detail, e.Address)
	if err != nil {
		return fmt.Errorf("append audit: %w", translate(err))
	}
	return nil
}

// AuditLog returns the entries f selects, newest first.
func (s *Store) AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		select id, at, coalesce(staff_user_id, 0), login, action, target, detail, address
		from audit_log
		where ($1 = 0 or staff_user_id = $1)
			and ($2 = '' or action = $2)
			and ($3 = 0 or id < $3)
		order by id desc
		limit $4`, f.UserID, f.Action, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.UserID, &e.Login, &e.Action, &e.Target, &e.Detail, &e.Address)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return entries, nil
}

// execOne runs a statement that must change one row: none is
// store.ErrNotFound.
func (s *Store) execOne(ctx context.Context, what, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	return nil
}
