package admin_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"regbot/admin"
	"regbot/bot"
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/memory"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// consoleBundle is the console on a PostgreSQL record of its own, with the
// Router the bot runs on, served on a random port.
type consoleBundle struct {
	t      testing.TB
	srv    *httptest.Server
	pool   *pgxpool.Pool
	pg     *postgres.Store
	router *bot.Router
	engine *dialogs.Engine
	blobs  *dialogs.MemoryBlobs
	clock  *testClock
	// routes are the patterns the console mounted.
	routes []string
}

const testPassword = "correct horse battery"

func setupConsole(t testing.TB, cfg admin.Config) *consoleBundle {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := postgres.New(pool)
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	blobs := dialogs.NewMemoryBlobs()
	hours := cfg.WithDefaults().Console.WorkingHours
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Blobs: blobs, StaffHours: &hours})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	log := slog.New(slog.DiscardHandler)
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: pg}, log)
	pkgs, err := admin.NewPackages(cfg, engine, pg, blobs, log)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{}
	console, err := admin.NewConsole(cfg, admin.ConsoleDeps{
		Store: pg, Engine: engine, Turns: router, Blobs: blobs, Packages: pkgs, Limiter: mem, Now: clock.now,
		IsDuplicate: func(err error) bool { return errors.Is(err, bot.ErrDuplicate) },
		Broadcasts:  broadcasts.NewService(pg, plan, blobs, log),
		StatusImport: admin.NewStatusImport(admin.NewStatusChanger(router, func(err error) bool { return errors.Is(err, bot.ErrDuplicate) }),
			pg, plan),
		QueueUI: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "queue dashboard: %s %s", r.Method, r.URL.Path) // stands in for riverui
		}),
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := &recordingMux{ServeMux: http.NewServeMux()}
	console.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &consoleBundle{t: t, srv: srv, pool: pool, pg: pg, router: router, engine: engine, blobs: blobs, clock: clock, routes: mux.patterns}
}

// testClock is the console's clock, moved forward by tests.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// recordingMux remembers the patterns the console mounts, so the security
// tests cover every route, including ones added later.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// addUser creates an account with testPassword.
func (b *consoleBundle) addUser(login string, role store.Role) store.StaffUser {
	b.t.Helper()
	u, err := admin.NewStaffUser(login, "用户"+login, role, testPassword)
	if err != nil {
		b.t.Fatal(err)
	}
	if u, err = b.pg.CreateStaffUser(context.Background(), u); err != nil {
		b.t.Fatal(err)
	}
	return u
}

// signedIn is the console tests' set-up of a staff member: it creates the
// account login with role (password testPassword) and returns a client of
// its own signed in as it.
func (b *consoleBundle) signedIn(login string, role store.Role) *client {
	b.t.Helper()
	b.addUser(login, role)
	c := b.client()
	c.mustSignIn(login)
	return c
}

// mustHaveAudited fails the test unless the audit log has each of the
// actions by login.
func (b *consoleBundle) mustHaveAudited(login string, actions ...string) {
	b.t.Helper()
	for _, action := range actions {
		if !b.audited(action, login) {
			b.t.Errorf("the audit log misses %s by %s", action, login)
		}
	}
}

// say runs a candidate message through the Router.
func (b *consoleBundle) say(id store.Identity, msgID string, in dialogs.Inbound) dialogs.Result {
	b.t.Helper()
	in.Channel, in.UserID, in.MsgID = id.Channel, id.UserID, msgID
	res, err := b.router.Handle(context.Background(), in)
	if err != nil {
		b.t.Fatalf("candidate message %q: %v", in.Text, err)
	}
	return res
}

// candidate runs a conversation to the first upload of a C2 candidate
// named name with the given mobile.
func (b *consoleBundle) candidate(user, name, mobile string) store.Identity {
	b.t.Helper()
	id := store.Identity{Channel: "wechat", UserID: user}
	texts := []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否",
		name, "11010519491231002X", "2035-01-01", mobile}
	for i, text := range texts {
		b.say(id, user+"-"+string(rune('a'+i)), dialogs.Inbound{Text: text})
	}
	return id
}

// browser is an HTTP client with its own cookie jar (one signed-in
// session), which does not follow redirects.
type client struct {
	b    *consoleBundle
	http *http.Client
	// csrf is the last CSRF token seen on a page.
	csrf string
}

func (b *consoleBundle) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{b: b, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a console path and returns the status, the Location header
// and the body; it remembers the page's CSRF token.
func (c *client) get(path string) (int, string, string) {
	c.b.t.Helper()
	return c.do(http.MethodGet, path, nil, nil)
}

func (c *client) do(method, path string, form url.Values, header http.Header) (int, string, string) {
	c.b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.b.srv.URL+path, body)
	if err != nil {
		c.b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.send(req)
}

// send sends a request with the client's session and returns the status,
// the Location header and the body; it remembers the page's CSRF token.
func (c *client) send(req *http.Request) (int, string, string) {
	c.b.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(raw); m != nil {
		c.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

// post submits a form with the last CSRF token seen.
func (c *client) post(path string, form url.Values) (int, string, string) {
	c.b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	return c.do(http.MethodPost, path, form, nil)
}

// signIn signs in with login and password and returns the response.
func (c *client) signIn(login, password string) (int, string, string) {
	c.b.t.Helper()
	if status, _, _ := c.get("/admin/signin"); status != http.StatusOK {
		c.b.t.Fatalf("sign-in page: %d", status)
	}
	return c.post("/admin/signin", url.Values{"login": {login}, "password": {password}})
}

// mustSignIn signs in and fails the test unless it worked.
func (c *client) mustSignIn(login string) {
	c.b.t.Helper()
	status, loc, body := c.signIn(login, testPassword)
	if status != http.StatusSeeOther || loc != "/admin/" {
		c.b.t.Fatalf("sign in as %s: %d → %q\n%s", login, status, loc, body)
	}
	if status, _, _ := c.get("/admin/"); status != http.StatusOK {
		c.b.t.Fatalf("dashboard after sign-in: %d", status)
	}
}

// audit returns the audit log's actions, newest first.
func (b *consoleBundle) audit() []store.AuditEntry {
	b.t.Helper()
	entries, err := b.pg.AuditLog(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		b.t.Fatal(err)
	}
	return entries
}

// audited reports whether the audit log has an entry with the action (and
// login, when not empty).
func (b *consoleBundle) audited(action, login string) bool {
	for _, e := range b.audit() {
		if e.Action == action && (login == "" || e.Login == login) {
			return true
		}
	}
	return false
}
