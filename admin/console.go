package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/store"
)

// The console's needs of the record, each small and named for what it
// holds; store/postgres satisfies them all.

// Accounts are the staff accounts.
type Accounts interface {
	CreateStaffUser(ctx context.Context, u store.StaffUser) (store.StaffUser, error)
	StaffUserByLogin(ctx context.Context, login string) (store.StaffUser, error)
	StaffUser(ctx context.Context, id int64) (store.StaffUser, error)
	StaffUsers(ctx context.Context) ([]store.StaffUser, error)
	UpdateStaffUser(ctx context.Context, id int64, displayName string, role store.Role) error
	SetStaffPassword(ctx context.Context, id int64, hash string, at time.Time) error
	SetStaffDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error
	UnlockStaffUser(ctx context.Context, id int64) error
	RecordLoginFailure(ctx context.Context, id int64, lockAfter int, at time.Time) (locked bool, err error)
	RecordLoginSuccess(ctx context.Context, id int64, at time.Time) error
}

// StaffSessions are the signed-in browsers; each method's not-found is
// store.ErrNotFound.
type StaffSessions interface {
	CreateStaffSession(ctx context.Context, s store.StaffSession) error
	StaffSession(ctx context.Context, id string) (store.StaffSession, store.StaffUser, error)
	TouchStaffSession(ctx context.Context, id string, at time.Time) error
	DeleteStaffSession(ctx context.Context, id string) error
	DeleteExpiredStaffSessions(ctx context.Context, now, idleSince time.Time) (int64, error)
}

// AuditLog is where every staff action is written and read back.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Candidates are the applications staff list, search and open.
type Candidates interface {
	CandidateList(ctx context.Context, f store.CandidateFilter) ([]store.CandidateRow, int, error)
	// FindApplications finds applications by an exact mobile or ID number
	// (by their blind index; store.ErrNotFound when none): the search box's
	// lookup, the same as the status import's.
	FindApplications(ctx context.Context, planID string, key store.LookupKey, value string) ([]store.ApplicationRef, error)
	CandidateRecord(ctx context.Context, candidateID int64, planID string) (store.CandidateRecord, error)
	Dashboard(ctx context.Context, planID string, days int, loc *time.Location, now time.Time) (store.Dashboard, error)
}

// Tickets are the escalations staff answer.
type Tickets interface {
	TicketInbox(ctx context.Context, f store.TicketFilter, nameKey string) ([]store.Ticket, error)
	Ticket(ctx context.Context, id int64, nameKey string) (store.Ticket, []store.TicketMessage, error)
	ClaimTicket(ctx context.Context, id, staffID int64, takeOver bool, at time.Time) error
}

// Documents are the uploads staff review.
type Documents interface {
	CandidateDocument(ctx context.Context, candidateID, documentID int64) (store.DocumentRecord, error)
	ReviewDocument(ctx context.Context, candidateID int64, r store.DocumentReview) error
}

// Deliveries are what the outbox sent a candidate, and how it went.
type Deliveries interface {
	Deliveries(ctx context.Context, candidateID int64, limit int) ([]store.Delivery, error)
}

// Store is everything the console reads and writes in the record.
type Store interface {
	Accounts
	StaffSessions
	AuditLog
	Candidates
	Tickets
	Documents
	Deliveries
}

// RateLimiter takes tokens from named token buckets (store/redis, or
// store/memory): sign-in attempts per client address, package downloads
// per address and per link.
type RateLimiter interface {
	Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error)
}

// ConsoleDeps are what the console is built on.
type ConsoleDeps struct {
	Store  Store
	Engine *dialogs.Engine
	// Turns runs system turns (bot.Router): a staff reply, a ticket
	// closed, a material rejected change the candidate's conversation the
	// one way every change is made.
	Turns Turns
	// IsDuplicate recognises the Turns error of a MsgID handled before (a
	// double-clicked button): the action already happened.
	IsDuplicate func(error) bool
	Blobs       materials.BlobReader
	Packages    *Packages
	// Broadcasts writes and sends broadcasts (optional: no 群发 pages
	// without it, e.g. on the embedded store).
	Broadcasts *broadcasts.Service
	// Statuses sets a candidate's status from their page (optional: no
	// form without it).
	Statuses *StatusChanger
	// StatusImport applies the official system's export from the bulk
	// status page (admins; optional: no page without it).
	StatusImport *StatusImport
	// QueueUI is the queue's own dashboard (riverui, prefix QueueUIPath),
	// for admins (optional).
	QueueUI http.Handler
	Limiter RateLimiter
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// Mux is where Routes mounts the console (*http.ServeMux).
type Mux interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Console is the staff console. It is safe for concurrent use.
type Console struct {
	cfg   ConsoleConfig
	deps  ConsoleDeps
	plan  *dialogs.Plan
	keys  answerKeys
	log   *slog.Logger
	now   func() time.Time
	pages map[string]*template.Template
}

// answerKeys are the plan's answer keys the console shows specially: the
// name, and the contact details that are masked in lists.
type answerKeys struct {
	name     string
	mobile   string
	idNumber string
}

// NewConsole returns the console over deps. It does no I/O.
func NewConsole(cfg Config, deps ConsoleDeps, log *slog.Logger) (*Console, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Engine == nil || deps.Turns == nil || deps.Blobs == nil || deps.Packages == nil {
		return nil, errors.New("admin: the console needs a store, the engine, the router, the blob store and the packages")
	}
	if deps.IsDuplicate == nil {
		deps.IsDuplicate = func(error) bool { return false }
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	c := &Console{cfg: cfg.Console, deps: deps, plan: deps.Engine.Plan(), log: log, now: deps.Now}
	for _, sl := range c.plan.Slots {
		switch sl.Type {
		case dialogs.SlotName:
			if c.keys.name == "" {
				c.keys.name = sl.Key
			}
		case dialogs.SlotMobile:
			c.keys.mobile = sl.Key
		case dialogs.SlotIDNumber:
			c.keys.idNumber = sl.Key
		}
	}
	var err error
	if c.pages, err = parsePages(c.funcs()); err != nil {
		return nil, fmt.Errorf("admin: console templates: %w", err)
	}
	return c, nil
}

// Routes mounts the console. Every route but sign-in and the static files
// needs a signed-in staff member (Staff), the account pages and the audit
// log an admin (Admin); every POST checks the session's CSRF token.
func (c *Console) Routes(mux Mux) {
	mux.Handle("GET /admin/static/", c.static())
	mux.HandleFunc("GET /admin/signin", c.signInPage)
	mux.HandleFunc("POST /admin/signin", c.signIn)
	mux.Handle("POST /admin/signout", c.Staff(c.signOut))

	mux.Handle("GET /admin/{$}", c.Staff(c.dashboard))
	mux.Handle("GET /admin/account", c.Staff(c.accountPage))
	mux.Handle("POST /admin/account/password", c.Staff(c.changeOwnPassword))

	mux.Handle("GET /admin/tickets", c.Staff(c.inbox))
	mux.Handle("GET /admin/tickets/live", c.Staff(c.inboxLive))
	mux.Handle("GET /admin/tickets/{ticket}", c.Staff(c.ticketPage))
	mux.Handle("POST /admin/tickets/{ticket}/claim", c.Staff(c.claimTicket))
	mux.Handle("POST /admin/tickets/{ticket}/reply", c.Staff(c.replyTicket))
	mux.Handle("GET /admin/tickets/{ticket}/messages/{message}/image", c.Staff(c.ticketImage))

	mux.Handle("GET /admin/candidates", c.Staff(c.candidateList))
	mux.Handle("GET /admin/candidates.csv", c.Staff(c.candidateCSV))
	mux.Handle("GET /admin/candidates/{candidate}", c.Staff(c.candidatePage))
	mux.Handle("GET /admin/candidates/{candidate}/documents/{document}", c.Staff(c.preview))
	mux.Handle("POST /admin/candidates/{candidate}/documents/{document}/review", c.Staff(c.review))
	mux.Handle("GET /admin/candidates/{candidate}/materials.zip", c.Staff(c.materialPackage))
	mux.Handle("POST /admin/candidates/{candidate}/status", c.Staff(c.setStatus))

	mux.Handle("GET /admin/users", c.Admin(c.userList))
	mux.Handle("POST /admin/users", c.Admin(c.addUser))
	mux.Handle("POST /admin/users/{user}", c.Admin(c.changeUser))
	mux.Handle("GET /admin/audit", c.Admin(c.auditPage))
	if c.deps.Broadcasts != nil {
		c.broadcastRoutes(mux) // /admin/broadcasts…, /admin/segments…
	}
	if c.deps.StatusImport != nil {
		c.statusImportRoutes(mux) // /admin/statuses
	}
	if c.deps.QueueUI != nil {
		c.queueUIRoutes(mux) // /admin/river/
	}

	// Anything else under /admin/: sign-in first, then "not found".
	mux.Handle("/admin/", c.Staff(c.notFound))
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := randRead(b); err != nil {
		return nil, fmt.Errorf("random bytes: %w", err)
	}
	return b, nil
}
