// Package admin is the staff side of regbot: the staff console at /admin/
// (sign-in, the escalation inbox, candidates, materials review, the
// dashboard, accounts and the audit log), the material package for staff and
// through the signed links the bot sends on 材料包, and the bearer-token
// admin API.
//
// The console is plain server-rendered HTML (html/template, embedded) with a
// little JavaScript for the inbox's live list; every route but sign-in needs
// a signed-in staff session (Console.Staff wraps a handler for it,
// Console.Admin for admins only), every form carries the session's CSRF
// token, and every staff action goes to the audit log.
package admin

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"time"

	"regbot/dialogs"
)

// Config configures the admin side (the admin: section).
type Config struct {
	// Token is the bearer token of the admin API (REGBOT_ADMIN_TOKEN); empty
	// disables the API.
	Token string `yaml:"token"`
	// PublicURL is the base URL candidates reach regbot at, for package
	// links (e.g. https://regbot.example.com); empty disables the links.
	PublicURL string `yaml:"public_url"`
	// LinkSecret signs package links (REGBOT_LINK_SECRET); when empty a
	// random one is made at start, so links die with the process.
	LinkSecret string `yaml:"link_secret"`
	// LinkTTL is how long a package link works (default 24h).
	LinkTTL time.Duration `yaml:"link_ttl"`
	// PackagesPerMinute is how many packages one client address may
	// download per minute (default 20), and LinkPerMinute how many times
	// one candidate link may be used per minute (default 5); both are
	// token buckets of that burst.
	PackagesPerMinute int `yaml:"packages_per_minute"`
	LinkPerMinute     int `yaml:"link_per_minute"`
	// Console is the staff console at /admin/.
	Console ConsoleConfig `yaml:"console"`
}

// ConsoleConfig configures the staff console.
type ConsoleConfig struct {
	// Disabled turns the console off.
	Disabled bool `yaml:"disabled"`
	// SessionIdle signs a browser out after this long without a request
	// (default 30m); SessionMax after this long whatever happens (default
	// 12h).
	SessionIdle time.Duration `yaml:"session_idle"`
	SessionMax  time.Duration `yaml:"session_max"`
	// BehindProxy says a TLS-terminating proxy is in front: the client
	// address is the last X-Forwarded-For entry and X-Forwarded-Proto:
	// https makes the session cookie Secure.
	BehindProxy bool `yaml:"behind_proxy"`
	// LockoutAfter locks an account after this many wrong passwords in a
	// row (default 10); an admin unlocks it.
	LockoutAfter int `yaml:"lockout_after"`
	// SignInPerMinute bounds sign-in attempts per client address (default
	// 10, bursts of twice that).
	SignInPerMinute int `yaml:"sign_in_per_minute"`
	// TicketFlagAfter flags tickets nobody claimed for this long (default
	// 30m).
	TicketFlagAfter time.Duration `yaml:"ticket_flag_after"`
	// PollEvery is how often the inbox checks for new tickets (default 5s).
	PollEvery time.Duration `yaml:"poll_every"`
	// PageSize is the candidate list's page size (default 50).
	PageSize int `yaml:"page_size"`
	// WorkingHours are when staff answer tickets: candidates are told when
	// to expect an answer (default Monday to Friday, 09:00–17:30, within
	// 2h).
	WorkingHours dialogs.StaffHours `yaml:"working_hours"`
	// EmbeddedAdminPassword is, on the embedded store only (no database),
	// the password of an account "admin" that exists while the process runs
	// (REGBOT_CONSOLE_ADMIN_PASSWORD). With a database, accounts are made
	// with `regbot user add`.
	EmbeddedAdminPassword string `yaml:"embedded_admin_password"`
}

// Defaults of the console.
const (
	defaultSessionIdle     = 30 * time.Minute
	defaultSessionMax      = 12 * time.Hour
	defaultLockoutAfter    = 10
	defaultSignInPerMinute = 10
	defaultTicketFlagAfter = 30 * time.Minute
	defaultPollEvery       = 5 * time.Second
	defaultPageSize        = 50
)

// WithDefaults fills the zero values.
func (c Config) WithDefaults() Config {
	c.LinkTTL = cmp.Or(c.LinkTTL, 24*time.Hour)
	c.PackagesPerMinute = cmp.Or(c.PackagesPerMinute, 20)
	c.LinkPerMinute = cmp.Or(c.LinkPerMinute, 5)
	cc := &c.Console
	cc.SessionIdle = cmp.Or(cc.SessionIdle, defaultSessionIdle)
	cc.SessionMax = cmp.Or(cc.SessionMax, defaultSessionMax)
	cc.LockoutAfter = cmp.Or(cc.LockoutAfter, defaultLockoutAfter)
	cc.SignInPerMinute = cmp.Or(cc.SignInPerMinute, defaultSignInPerMinute)
	cc.TicketFlagAfter = cmp.Or(cc.TicketFlagAfter, defaultTicketFlagAfter)
	cc.PollEvery = cmp.Or(cc.PollEvery, defaultPollEvery)
	cc.PageSize = cmp.Or(cc.PageSize, defaultPageSize)
	wh := &cc.WorkingHours
	if len(wh.Days) == 0 {
		wh.Days = []int{1, 2, 3, 4, 5}
	}
	wh.Start = cmp.Or(wh.Start, "09:00")
	wh.End = cmp.Or(wh.End, "17:30")
	wh.ReplyWithin = cmp.Or(wh.ReplyWithin, 2*time.Hour)
	return c
}

// Validate reports every problem of the section.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Token != "" && len(c.Token) < 16 {
		bad("admin.token: must be at least 16 characters")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("admin.public_url: %q is not an http(s) URL", c.PublicURL)
		}
	}
	if c.LinkTTL < 0 {
		bad("admin.link_ttl: must not be negative")
	}
	if c.PackagesPerMinute < 0 || c.LinkPerMinute < 0 {
		bad("admin.packages_per_minute, admin.link_per_minute: must not be negative")
	}
	cc := c.Console
	if cc.SessionIdle < time.Minute || cc.SessionMax < cc.SessionIdle {
		bad("admin.console.session_idle %v / session_max %v: want at least 1m and idle ≤ max", cc.SessionIdle, cc.SessionMax)
	}
	if cc.LockoutAfter < 1 {
		bad("admin.console.lockout_after %d: must be at least 1", cc.LockoutAfter)
	}
	if cc.SignInPerMinute < 1 {
		bad("admin.console.sign_in_per_minute %d: must be at least 1", cc.SignInPerMinute)
	}
	if cc.TicketFlagAfter < 0 || cc.PollEvery < time.Second {
		bad("admin.console.ticket_flag_after must not be negative and poll_every at least 1s")
	}
	if cc.PageSize < 1 || cc.PageSize > 1000 {
		bad("admin.console.page_size %d: want 1–1000", cc.PageSize)
	}
	if err := cc.WorkingHours.Validate("admin.console.working_hours."); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
