package admin

import (
	"context"
	"net/http"
	"strconv"

	"regbot/store"
)

// Audit records an action of the request's signed-in staff member in the
// audit log: action names it ("broadcast.send"), target what it was done
// to ("broadcast:3"), detail says more (never a password, ID number or
// mobile). Pages mounted with Staff or Admin call it for every action.
func (c *Console) Audit(r *http.Request, action, target, detail string) {
	c.audit(r, action, target, detail)
}

// audit records a staff action of the request's signed-in staff member.
// A failure to write it is logged; the action has happened either way.
func (c *Console) audit(r *http.Request, action, target, detail string) {
	who := staffOf(r)
	if who == nil {
		c.auditAs(r.Context(), 0, "", c.clientAddress(r), action, target, detail)
		return
	}
	c.auditAs(r.Context(), who.user.ID, who.user.Login, who.address, action, target, detail)
}

func (c *Console) auditAs(ctx context.Context, userID int64, login, address, action, target, detail string) {
	err := c.deps.Store.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{
		At: c.now(), UserID: userID, Login: login, Action: action, Target: target, Detail: detail, Address: address,
	})
	if err != nil {
		c.log.Error("audit log", "action", action, "err", err)
	}
}

// auditData fills the audit page.
type auditData struct {
	Entries []store.AuditEntry
	Action  string
	// Older pages back (0: no older entries).
	Older   int64
	Actions map[string]string
}

// auditPage lists the audit log, newest first, 100 a page (admins).
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), Limit: 100}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	f.UserID, _ = strconv.ParseInt(q.Get("user"), 10, 64)
	entries, err := c.deps.Store.AuditLog(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := auditData{Entries: entries, Action: f.Action, Actions: texts.Labels["audit_action"]}
	if len(entries) == f.Limit {
		data.Older = entries[len(entries)-1].ID
	}
	c.render(w, r, "audit", data)
}
