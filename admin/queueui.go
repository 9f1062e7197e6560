package admin

import (
	"context"
	"net/http"

	"regbot/store"
)

// The queue's own dashboard (riverqueue.com/riverui) for admins, at
// /admin/river/: River's jobs, queues and their states, as the outbox's
// deliveries run through them. The UI is River's single-page app talking
// to its own JSON API, so it gets the console's session and role checks
// but not its forms' CSRF token: a request that changes something (retry,
// cancel, delete a job) must come from the console's own origin, as the
// browser's Fetch Metadata or Origin header says, and is audited.

// QueueUIPath is where the queue's dashboard is mounted.
const QueueUIPath = "/admin/river"

// queueUICSP is the dashboard's CSP: River's app sets inline styles and
// shows data: icons.
const queueUICSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (c *Console) queueUIRoutes(mux Mux) {
	mux.Handle(QueueUIPath+"/", c.queueUI(c.deps.QueueUI))
}

func (c *Console) queueUI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, ok := c.session(w, r)
		if !ok {
			setSecurityHeaders(w.Header())
			c.toSignIn(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), staffKey{}, who))
		if who.user.Role != store.RoleAdmin {
			setSecurityHeaders(w.Header())
			c.audit(r, "denied", r.Method+" "+r.URL.Path, "admin only")
			c.renderError(w, r, http.StatusForbidden, msg("error.admin_only"))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) {
				setSecurityHeaders(w.Header())
				c.audit(r, "csrf.refused", r.Method+" "+r.URL.Path, "not from the console's origin")
				c.renderError(w, r, http.StatusForbidden, msg("error.stale_form"))
				return
			}
			c.audit(r, "queue.change", r.Method+" "+r.URL.Path, "")
		}
		setHeaders(w.Header(), queueUICSP)
		h.ServeHTTP(w, r)
	})
}

// crossOrigin is Go's Fetch Metadata / Origin check, as the web chat uses it.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin says a browser sent r from a page of this site: Fetch
// Metadata when the browser sends it, else the Origin header
// (http.CrossOriginProtection). A request with neither, which that check
// lets through as not a browser's, is refused: the queue's API is the
// dashboard's, in a browser.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
		return false
	}
	return crossOrigin.Check(r) == nil
}
