package admin

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// staticVersion is the hash of the static files, appended to their URLs so
// browsers may cache them for long and still get a new version at once.
var staticVersion = func() string {
	h := sha256.New()
	fs.WalkDir(staticFiles, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := staticFiles.ReadFile(path)
			h.Write(data)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// pageBody is what every console page's template gets.
type pageBody struct {
	// Name and Admin describe the signed-in staff member (none on the
	// sign-in page).
	Name     string
	Login    string
	Admin    bool
	SignedIn bool
	// Broadcasts says the 群发 pages are there (not on the embedded store).
	Broadcasts bool
	// StatusImport says the bulk status page is there; QueueUI the
	// queue's dashboard.
	StatusImport bool
	QueueUI      bool
	CSRF         string
	Nav          string
	// Flash is a short confirmation of the last action.
	Flash   string
	Version string
	Data    any
}

// parsePages parses each page with the layout.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes a page for the signed-in staff member. Each page's
// template defines its title ("title").
func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	c.renderPage(w, r, http.StatusOK, name, pageBody{Data: data})
}

func (c *Console) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, body pageBody) {
	body.Version = staticVersion
	body.Nav = name
	body.Broadcasts = c.deps.Broadcasts != nil
	body.StatusImport = c.deps.StatusImport != nil
	body.QueueUI = c.deps.QueueUI != nil
	if who := staffOf(r); who != nil {
		body.SignedIn, body.Name, body.Login, body.Admin = true, who.user.DisplayName, who.user.Login, who.user.Role == store.RoleAdmin
		body.CSRF = who.session.CSRF
	}
	// The confirmation of the last action (?done=…): known keys only, so
	// no text is reflected from the URL.
	body.Flash = label("flash", r.URL.Query().Get("done"))
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", body); err != nil {
		c.fail(w, r, err)
		return
	}
	setSecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment writes one template of a page (the inbox's live list).
func (c *Console) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, data any) {
	var buf bytes.Buffer
	if err := c.pages[page].ExecuteTemplate(&buf, fragment, data); err != nil {
		c.fail(w, r, err)
		return
	}
	setSecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// renderError writes an error page with a message for staff; the page
// is headed by what the status says.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	c.renderPage(w, r, status, "error", pageBody{Data: errorData{Status: status, Message: message}})
}

// errorData fills the error page.
type errorData struct {
	Status  int
	Message string
}

// fail logs an unexpected error and says so without details.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.Error("console", "route", r.Pattern, "err", err)
	c.renderError(w, r, http.StatusInternalServerError, msg("error.busy"))
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.renderError(w, r, http.StatusNotFound, msg("error.not_found"))
}

// static serves the stylesheet and script.
func (c *Console) static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/admin/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Get("v") == staticVersion {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

// funcs are the templates' helpers.
func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"time":         fmtTime,
		"date":         func(t time.Time) string { return t.In(dialogs.ChinaTime).Format("01-02") },
		"ago":          func(t time.Time) string { return waited(c.now().Sub(t)) },
		"duration":     waited,
		"status":       func(s store.Status) string { return orDash(label("status", string(s))) },
		"statuses":     func() []store.Status { return store.Statuses() },
		"channel":      func(ch string) string { return orDash(label("channel", ch)) },
		"delivery":     func(s store.DeliveryState) string { return orDash(label("delivery", string(s))) },
		"outKind":      func(k store.OutKind) string { return orDash(label("out_kind", string(k))) },
		"ticketState":  func(s string) string { return orDash(label("ticket_state", s)) },
		"ticketReason": c.ticketReason,
		"condition":    c.conditionName,
		"material":     c.materialName,
		"maskMobile":   maskMobile,
		"maskID":       maskID,
		"answerOf":     c.answerOf,
		"answered": func(a map[string]any, sl dialogs.Slot) bool {
			_, ok := a[sl.Key]
			return ok
		},
		"nameOf":        func(a map[string]any) string { return answerString(a, c.keys.name) },
		"mobileOf":      func(a map[string]any) string { return maskMobile(answerString(a, c.keys.mobile)) },
		"idOf":          func(a map[string]any) string { return maskID(answerString(a, c.keys.idNumber)) },
		"audit":         func(a string) string { return orDash(label("audit_action", a)) },
		"kb":            func(n int64) string { return strconv.FormatInt((n+1023)/1024, 10) + " KB" },
		"add":           func(a, b int) int { return a + b },
		"bstate":        func(s store.BroadcastState) string { return orDash(label("broadcast_state", string(s))) },
		"orDash":        orDash,
		"titled":        titled,
		"flagged":       func(t store.Ticket) bool { return c.flagged(t) },
		"pollMillis":    func() int64 { return c.cfg.PollEvery.Milliseconds() },
		"conditions":    func() []dialogs.Condition { return c.plan.Conditions },
		"reviewReasons": func() []string { return c.plan.ReviewReasons },
		"userAction": func(csrf string, id int64, action, label string) map[string]any {
			return map[string]any{"CSRF": csrf, "ID": id, "Action": action, "Label": label}
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(dialogs.ChinaTime).Format("2006-01-02 15:04")
}

// waited says a duration the way staff read a waiting time.
func waited(d time.Duration) string {
	switch {
	case d < time.Minute:
		return msg("duration.under_minute")
	case d < time.Hour:
		return msg("duration.minutes", "minutes", strconv.Itoa(int(d/time.Minute)))
	case d < 24*time.Hour:
		return msg("duration.hours", "hours", strconv.Itoa(int(d/time.Hour)), "minutes", strconv.Itoa(int(d%time.Hour/time.Minute)))
	}
	return msg("duration.days", "days", strconv.Itoa(int(d/(24*time.Hour))), "hours", strconv.Itoa(int(d%(24*time.Hour)/time.Hour)))
}

// maskMobile keeps a mobile's first 3 and last 4 digits.
func maskMobile(s string) string {
	if s == "" || s == "—" {
		return "—"
	}
	r := []rune(s)
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// maskID keeps an ID number's first 6 (the region) and last 4 characters.
func maskID(s string) string {
	if s == "" || s == "—" {
		return "—"
	}
	r := []rune(s)
	if len(r) < 11 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

func answerString(a map[string]any, key string) string {
	if key == "" {
		return ""
	}
	switch v := a[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// answerOf is an answer as staff read it: yes/no, the label of a choice,
// the value as given otherwise.
func (c *Console) answerOf(a map[string]any, sl dialogs.Slot) string {
	v, ok := a[sl.Key]
	if !ok {
		return "—"
	}
	switch x := v.(type) {
	case bool:
		if x {
			return msg("candidate.yes")
		}
		return msg("candidate.no")
	case string:
		for _, ch := range sl.Choices {
			if ch.ID == x {
				return ch.Label
			}
		}
		return x
	}
	return fmt.Sprint(v)
}

func (c *Console) conditionName(key string) string {
	if cond, ok := c.plan.Condition(key); ok {
		return cond.Key + " " + cond.Short
	}
	if key == "" {
		return msg("candidate.undecided")
	}
	return key
}

func (c *Console) materialName(key string) string {
	if m, ok := c.plan.Material(key); ok {
		return m.Name
	}
	return key
}

// ticketReason says why a ticket was opened.
func (c *Console) ticketReason(reason string) string {
	kind, detail, _ := strings.Cut(reason, ":")
	switch kind {
	case dialogs.TicketRequested:
		return msg("ticket.reason.requested")
	case dialogs.TicketQuestion:
		return msg("ticket.reason.question")
	case dialogs.TicketFailures:
		label := detail
		if sl, ok := c.plan.Slot(strings.Split(detail, ".")[0]); ok {
			label = sl.Label
		}
		if m, ok := strings.CutPrefix(detail, "upload:"); ok {
			label = c.materialName(m)
		}
		return msg("ticket.reason.failures", "question", label)
	case dialogs.TicketSpecialCase:
		return msg("ticket.reason.special_case", "case", detail)
	case dialogs.TicketReview:
		return msg("ticket.reason.review", "question", c.listLabel(detail))
	}
	return reason
}

// listLabel names a plan list by the question that answers from it.
func (c *Console) listLabel(list string) string {
	var find func([]dialogs.Slot) string
	find = func(slots []dialogs.Slot) string {
		for _, sl := range slots {
			if sl.List == list {
				return sl.Label
			}
			if l := find(sl.Fields); l != "" {
				return l
			}
		}
		return ""
	}
	return cmp.Or(find(c.plan.Slots), list)
}

// flagged reports a ticket nobody claimed for longer than TicketFlagAfter.
func (c *Console) flagged(t store.Ticket) bool {
	return t.State == store.TicketOpen && t.AssigneeID == 0 && c.cfg.TicketFlagAfter > 0 &&
		c.now().Sub(t.StateSince) > c.cfg.TicketFlagAfter
}
