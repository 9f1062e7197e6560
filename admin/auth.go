package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"regbot/store"
)

// Sign-in, sessions and CSRF. A session is a random 32-byte token in an
// HttpOnly, SameSite=Lax cookie (Secure behind TLS) scoped to /admin; the
// record keeps only its SHA-256, with the CSRF token every form of the
// session carries. A session ends on sign-out, after SessionIdle without a
// request, after SessionMax in any case, and when the account is disabled,
// locked or gets a new password.

const (
	sessionCookie = "regbot_console"
	// signInCookie holds the sign-in form's CSRF token (double submit):
	// there is no session yet to keep it in.
	signInCookie = "regbot_console_signin"
	// touchEvery bounds how often a session's last activity is written.
	touchEvery = time.Minute
	// pollHeader marks the inbox's background refresh, which neither needs
	// a redirect nor keeps an idle session alive.
	pollHeader = "X-Regbot-Poll"
	// maxFormBytes bounds a console form (a staff reply is the largest).
	maxFormBytes = 64 << 10
)

var randRead = rand.Read

// staff is the signed-in staff member of a request.
type staff struct {
	user    store.StaffUser
	session store.StaffSession
	// address is the client address the request came from.
	address string
}

// Actor is the staff member as a status event's and system turn's actor.
func (s *staff) actor() string { return store.StaffActor(strconv.FormatInt(s.user.ID, 10)) }

type staffKey struct{}

// staffOf returns the signed-in staff member of a request that went
// through Staff or Admin.
func staffOf(r *http.Request) *staff {
	s, _ := r.Context().Value(staffKey{}).(*staff)
	return s
}

// SignedIn returns the staff member signed in on a request that went
// through Staff or Admin, with the session's CSRF token that every POST
// form must carry as the field "csrf".
func SignedIn(r *http.Request) (user store.StaffUser, csrf string, ok bool) {
	s := staffOf(r)
	if s == nil {
		return store.StaffUser{}, "", false
	}
	return s.user, s.session.CSRF, true
}

// Staff lets h run for any signed-in, active staff member: others are sent
// to sign in. A POST must carry the session's CSRF token (403 otherwise).
// Other admin pages (broadcasts, status import) wrap their handlers in it.
func (c *Console) Staff(h http.HandlerFunc) http.Handler { return c.authed(store.RoleStaff, h) }

// Admin is Staff for admins only: a staff member gets 403, recorded in the
// audit log.
func (c *Console) Admin(h http.HandlerFunc) http.Handler { return c.authed(store.RoleAdmin, h) }

func (c *Console) authed(role store.Role, h http.HandlerFunc) http.Handler {
	return c.authedForm(role, maxFormBytes, h)
}

// adminUpload is Admin for a form with a file (multipart, up to
// maxUploadBytes): the CSRF token is checked the same way.
func (c *Console) adminUpload(h http.HandlerFunc) http.Handler {
	return c.authedForm(store.RoleAdmin, maxUploadBytes, h)
}

func (c *Console) authedForm(role store.Role, limit int64, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		who, ok := c.session(w, r)
		if !ok {
			c.toSignIn(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), staffKey{}, who)
		r = r.WithContext(ctx)
		if role == store.RoleAdmin && who.user.Role != store.RoleAdmin {
			c.audit(r, "denied", r.Method+" "+r.URL.Path, "admin only")
			c.renderError(w, r, http.StatusForbidden, msg("error.admin_only"))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := parseForm(r, limit); err != nil {
				c.renderError(w, r, http.StatusBadRequest, msg("error.bad_form"))
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), who.session.CSRF) {
				c.audit(r, "csrf.refused", r.Method+" "+r.URL.Path, "")
				c.renderError(w, r, http.StatusForbidden, msg("error.stale_form"))
				return
			}
		}
		h(w, r)
	})
}

// parseForm parses a POST's form, multipart ones (with a file) too.
func parseForm(r *http.Request, limit int64) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(limit)
	}
	return r.ParseForm()
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// session returns the request's signed-in staff member, or false (and no
// cookie left behind) when there is none, it expired or the account may
// no longer sign in.
func (c *Console) session(w http.ResponseWriter, r *http.Request) (*staff, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, false
	}
	id := sessionID(ck.Value)
	ss, user, err := c.deps.Store.StaffSession(r.Context(), id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Error("console session", "err", err)
		}
		c.clearCookie(w, r, sessionCookie, "/admin")
		return nil, false
	}
	now := c.now()
	if now.After(ss.ExpiresAt) || now.Sub(ss.SeenAt) > c.cfg.SessionIdle || !user.Active() {
		if err := c.deps.Store.DeleteStaffSession(r.Context(), id); err != nil {
			c.log.Error("end expired console session", "err", err)
		}
		c.clearCookie(w, r, sessionCookie, "/admin")
		return nil, false
	}
	if now.Sub(ss.SeenAt) >= touchEvery && r.Header.Get(pollHeader) == "" {
		if err := c.deps.Store.TouchStaffSession(r.Context(), id, now); err != nil {
			c.log.Error("touch console session", "err", err)
		}
	}
	return &staff{user: user, session: ss, address: c.clientAddress(r)}, true
}

// sessionID is the record's key of a session token.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken() (string, error) {
	b, err := randomBytes(32)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// toSignIn sends a request without a session to the sign-in page, coming
// back to where it was going; the inbox's refresh gets a bare 401.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(pollHeader) != "" {
		http.Error(w, "signed out", http.StatusUnauthorized)
		return
	}
	next := "/admin/"
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	http.Redirect(w, r, "/admin/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "/admin/signin") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return "/admin/"
	}
	return next
}

// secure reports whether the browser reached us over TLS.
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || (c.cfg.BehindProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// clientAddress is the address the audit log records and sign-in attempts
// are counted by.
func (c *Console) clientAddress(r *http.Request) string {
	if c.cfg.BehindProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: c.secure(r), SameSite: sameSite})
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

// signInData fills the sign-in page.
type signInData struct {
	Next    string
	Login   string
	Problem string
	Notice  string
}

// signInPage shows the sign-in form (or goes on when already signed in).
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := c.session(w, r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	data := signInData{Next: next}
	switch {
	case r.URL.Query().Has("expired"):
		data.Notice = msg("signin.expired")
	case r.URL.Query().Has("bye"):
		data.Notice = msg("signin.signed_out")
	}
	c.renderSignIn(w, r, http.StatusOK, data)
}

// renderSignIn renders the sign-in form with a fresh form token.
func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, data signInData) {
	token, err := randomToken()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, signInCookie, token, "/admin/signin", http.SameSiteStrictMode)
	c.renderPage(w, r, status, "signin", pageBody{CSRF: token, Data: data})
}

// signIn checks a login and password. Wrong passwords count towards the
// lock-out; attempts per client address are rate limited; the answer never
// says whether the login exists.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, http.StatusBadRequest, msg("error.bad_form"))
		return
	}
	ctx := r.Context()
	addr := c.clientAddress(r)
	login := strings.ToLower(strings.TrimSpace(r.PostForm.Get("login")))
	if len(login) > 64 {
		login = login[:64]
	}
	data := signInData{Next: safeNext(r.PostForm.Get("next")), Login: login}
	ck, err := r.Cookie(signInCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.auditAs(ctx, 0, login, addr, "csrf.refused", "POST /admin/signin", "")
		c.renderError(w, r, http.StatusForbidden, msg("error.stale_form"))
		return
	}
	if c.deps.Limiter != nil {
		perMin := float64(c.cfg.SignInPerMinute)
		ok, _, err := c.deps.Limiter.Allow(ctx, "console-signin:"+addr, perMin/60, 2*c.cfg.SignInPerMinute)
		if err != nil {
			c.log.Warn("sign-in rate limit unavailable", "err", err)
		} else if !ok {
			c.auditAs(ctx, 0, login, addr, "signin.throttled", "", "")
			data.Problem = msg("signin.throttled")
			c.renderSignIn(w, r, http.StatusTooManyRequests, data)
			return
		}
	}
	password := r.PostForm.Get("password")
	user, err := c.deps.Store.StaffUserByLogin(ctx, login)
	switch {
	case errors.Is(err, store.ErrNotFound):
		CheckPassword(dummyHash(), password)
		c.auditAs(ctx, 0, login, addr, "signin.failed", "", "unknown login")
		data.Problem = msg("signin.wrong")
		c.renderSignIn(w, r, http.StatusUnauthorized, data)
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	good := CheckPassword(user.PasswordHash, password)
	now := c.now()
	switch {
	case !user.LockedAt.IsZero():
		c.auditAs(ctx, user.ID, user.Login, addr, "signin.failed", "user:"+strconv.FormatInt(user.ID, 10), "locked")
		data.Problem = msg("signin.locked")
		c.renderSignIn(w, r, http.StatusForbidden, data)
		return
	case !good:
		locked, err := c.deps.Store.RecordLoginFailure(ctx, user.ID, c.cfg.LockoutAfter, now)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data.Problem = msg("signin.wrong")
		if locked {
			c.auditAs(ctx, user.ID, user.Login, addr, "signin.locked", "user:"+strconv.FormatInt(user.ID, 10),
				strconv.Itoa(c.cfg.LockoutAfter)+" wrong passwords")
			data.Problem = msg("signin.now_locked")
		} else {
			c.auditAs(ctx, user.ID, user.Login, addr, "signin.failed", "user:"+strconv.FormatInt(user.ID, 10), "wrong password")
		}
		c.renderSignIn(w, r, http.StatusUnauthorized, data)
		return
	case !user.DisabledAt.IsZero():
		c.auditAs(ctx, user.ID, user.Login, addr, "signin.failed", "user:"+strconv.FormatInt(user.ID, 10), "disabled")
		data.Problem = msg("signin.disabled")
		c.renderSignIn(w, r, http.StatusForbidden, data)
		return
	}
	if err := c.startSession(w, r, user, addr); err != nil {
		c.fail(w, r, err)
		return
	}
	c.auditAs(ctx, user.ID, user.Login, addr, "signin", "", "")
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// startSession records a new session for user and sets its cookie; a
// session the browser had is ended (no fixation).
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, user store.StaffUser, addr string) error {
	ctx := r.Context()
	now := c.now()
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := c.deps.Store.DeleteStaffSession(ctx, sessionID(ck.Value)); err != nil {
			return err
		}
	}
	if _, err := c.deps.Store.DeleteExpiredStaffSessions(ctx, now, now.Add(-c.cfg.SessionIdle)); err != nil {
		c.log.Warn("delete expired console sessions", "err", err)
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	csrf, err := randomToken()
	if err != nil {
		return err
	}
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	err = c.deps.Store.CreateStaffSession(ctx, store.StaffSession{ID: sessionID(token), UserID: user.ID, CSRF: csrf,
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(c.cfg.SessionMax), Address: addr, UserAgent: ua})
	if err != nil {
		return err
	}
	if err := c.deps.Store.RecordLoginSuccess(ctx, user.ID, now); err != nil {
		return err
	}
	c.clearCookie(w, r, signInCookie, "/admin/signin")
	c.setCookie(w, r, sessionCookie, token, "/admin", http.SameSiteLaxMode)
	return nil
}

// signOut ends the session.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	who := staffOf(r)
	if err := c.deps.Store.DeleteStaffSession(r.Context(), who.session.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, "signout", "", "")
	c.clearCookie(w, r, sessionCookie, "/admin")
	http.Redirect(w, r, "/admin/signin?bye=1", http.StatusSeeOther)
}

// consoleCSP allows only the console's own script and style.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// setSecurityHeaders keeps console pages out of frames, caches and other
// sites' reach, under the console's CSP.
func setSecurityHeaders(h http.Header) { setHeaders(h, consoleCSP) }

// setHeaders sets the console's security headers with the page's CSP.
func setHeaders(h http.Header, csp string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
}
