package store

import "time"

// Role is what a staff account may do: staff review and answer; admins also
// manage accounts, set statuses in bulk, broadcast and read the audit log.
type Role string

// The roles of staff accounts.
const (
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleStaff }

// StaffUser is one account of the staff console.
type StaffUser struct {
	ID          int64
	Login       string
	DisplayName string
	Role        Role
	// PasswordHash is the encoded password hash ("" until a password is
	// set: nobody can sign in).
	PasswordHash string
	// FailedLogins counts wrong passwords in a row.
	FailedLogins int
	CreatedAt    time.Time
	// DisabledAt, LockedAt, LastLoginAt and PasswordChangedAt are zero when
	// it never happened (or was undone).
	DisabledAt        time.Time
	LockedAt          time.Time
	LastLoginAt       time.Time
	PasswordChangedAt time.Time
}

// Active reports whether the account may sign in (not disabled, not locked,
// a password set).
func (u StaffUser) Active() bool {
	return u.DisabledAt.IsZero() && u.LockedAt.IsZero() && u.PasswordHash != ""
}

// StaffSession is one signed-in browser. ID is the hash of the cookie's
// token, never the token itself.
type StaffSession struct {
	ID        string
	UserID    int64
	CSRF      string
	CreatedAt time.Time
	SeenAt    time.Time
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time
	Address   string
	UserAgent string
}

// AuditEntry is one staff action in the audit log.
type AuditEntry struct {
	ID int64
	At time.Time
	// UserID is the account (0 when none: a failed sign-in with an unknown
	// login); Login is the account's login or the login typed.
	UserID int64
	Login  string
	// Action names what was done ("signin", "ticket.reply", …); Target what
	// it was done to ("ticket:12", "candidate:7"); Detail says more (never a
	// password, ID number or mobile).
	Action  string
	Target  string
	Detail  string
	Address string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	// UserID and Action narrow the entries when set.
	UserID int64
	Action string
	// Before pages back: only entries with a smaller id (0: from the newest).
	Before int64
	Limit  int
}
