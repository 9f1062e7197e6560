package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/admin"
	"regbot/dialogs"
	"regbot/store"
)

// routePath turns a route pattern into a method and a concrete path.
func routePath(pattern string) (string, string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = strings.NewReplacer("{$}", "", "{ticket}", "1", "{candidate}", "1", "{document}", "1",
		"{user}", "1", "{message}", "1", "{broadcast}", "1", "{action}", "pause").Replace(path)
	if strings.HasSuffix(path, "/admin/") && method == http.MethodGet && pattern == "/admin/" {
		path = "/admin/no-such-page"
	}
	return method, path
}

// adminPrefixes are the paths of the admins' pages: accounts, the audit
// log, broadcasts and segments, bulk statuses.
var adminPrefixes = []string{"/admin/users", "/admin/audit", "/admin/broadcasts", "/admin/segments", "/admin/statuses", "/admin/river/"}

// public are the routes that answer without a session.
var public = map[string]bool{
	"GET /admin/static/": true, "GET /admin/signin": true, "POST /admin/signin": true,
}

func TestEveryRouteWithoutASessionGoesToSignIn(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	if len(b.routes) < 15 {
		t.Fatalf("only %d routes recorded: %v", len(b.routes), b.routes)
	}
	c := b.client()
	for _, pattern := range b.routes {
		if public[pattern] {
			continue
		}
		method, path := routePath(pattern)
		status, loc, _ := c.do(method, path, url.Values{"csrf": {"x"}}, nil)
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin?next=") {
			t.Errorf("%s %s without a session: %d → %q; want 303 to sign-in", method, path, status, loc)
		}
	}
	// The inbox's background refresh gets a bare 401 instead.
	if status, _, _ := c.do(http.MethodGet, "/admin/tickets/live", nil, http.Header{"X-Regbot-Poll": {"1"}}); status != http.StatusUnauthorized {
		t.Errorf("live refresh without a session: %d, want 401", status)
	}
	// A forged cookie is no session.
	u, _ := url.Parse(b.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "regbot_console", Value: "forged", Path: "/admin"}})
	if status, loc, _ := c.get("/admin/candidates"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin") {
		t.Errorf("forged cookie: %d → %q", status, loc)
	}
}

func TestStaffOnAdminRoutesIsForbidden(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	target := b.addUser("staff2", store.RoleStaff)
	c := b.signedIn("staff1", store.RoleStaff)
	// Every mounted route of the admins' pages, GET or POST (with the
	// session's own CSRF token), is refused.
	checked := 0
	for _, pattern := range b.routes {
		method, path := routePath(pattern)
		if !slices.ContainsFunc(adminPrefixes, func(p string) bool { return strings.HasPrefix(path, p) }) {
			continue
		}
		checked++
		var status int
		var body string
		if method == http.MethodPost {
			status, _, body = c.post(path, url.Values{"action": {"disable"}, "name": {"x"}})
		} else {
			status, _, body = c.get(path)
		}
		if status != http.StatusForbidden || !strings.Contains(body, "只有管理员") {
			t.Errorf("staff %s %s: %d, want 403", method, path, status)
		}
	}
	if checked < 15 {
		t.Fatalf("only %d admin routes checked: %v", checked, b.routes)
	}
	for _, form := range []url.Values{
		{"login": {"sneaky"}, "display_name": {"x"}, "role": {"admin"}, "password": {testPassword}},
	} {
		if status, _, _ := c.post("/admin/users", form); status != http.StatusForbidden {
			t.Errorf("staff POST /admin/users: %d, want 403", status)
		}
	}
	if status, _, _ := c.post("/admin/users/"+strconv.FormatInt(target.ID, 10), url.Values{"action": {"disable"}}); status != http.StatusForbidden {
		t.Errorf("staff disabling a colleague: %d, want 403", status)
	}
	if _, err := b.pg.StaffUserByLogin(context.Background(), "sneaky"); err == nil {
		t.Fatal("a staff member created an account")
	}
	if u, _ := b.pg.StaffUser(context.Background(), target.ID); !u.DisabledAt.IsZero() {
		t.Fatal("a staff member disabled an account")
	}
	if !b.audited("denied", "staff1") {
		t.Error("the audit log has no denied entry for staff1")
	}
	// An admin may.
	a := b.signedIn("boss", store.RoleAdmin)
	if status, _, _ := a.get("/admin/users"); status != http.StatusOK {
		t.Errorf("admin GET /admin/users: %d", status)
	}
	if status, _, _ := a.get("/admin/audit"); status != http.StatusOK {
		t.Errorf("admin GET /admin/audit: %d", status)
	}
}

func TestFormsWithoutTheCSRFTokenAreForbidden(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	other := b.signedIn("boss", store.RoleAdmin)
	c := b.client()
	c.mustSignIn("boss")
	var posts []string
	for _, pattern := range b.routes {
		if strings.HasPrefix(pattern, "POST ") && !public[pattern] {
			posts = append(posts, pattern)
		}
	}
	for _, pattern := range posts {
		_, path := routePath(pattern)
		for name, token := range map[string]string{"no token": "", "another session's token": other.csrf} {
			form := url.Values{"action": {"disable"}, "text": {"hi"}, "verdict": {"accepted"}}
			if token != "" {
				form.Set("csrf", token)
			}
			status, _, _ := c.do(http.MethodPost, path, form, nil)
			if status != http.StatusForbidden {
				t.Errorf("%s with %s: %d, want 403", pattern, name, status)
			}
		}
	}
	// Sign-in has its own form token: a cross-site sign-in is refused too.
	if status, _, _ := b.client().do(http.MethodPost, "/admin/signin", url.Values{"login": {"boss"}, "password": {testPassword}}, nil); status != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", status)
	}
	// Still signed in: the refused posts changed nothing.
	if status, _, _ := c.get("/admin/"); status != http.StatusOK {
		t.Errorf("after the refused posts: %d", status)
	}
	if !b.audited("csrf.refused", "boss") {
		t.Error("the audit log has no csrf.refused entry")
	}
}

func TestCandidateTextIsEscaped(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	const evil = `<script>alert("x")</script>`
	// A name as an import might write it, and a message to staff.
	id := store.Identity{Channel: "web", UserID: "evil"}
	err := b.pg.RecordTurn(context.Background(), &store.Turn{Identity: id, PlanID: b.engine.Plan().ID, MsgID: "m1",
		Inbound: evil, Answers: map[string]any{"name": evil, "mobile": "13800000009"}, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	tid := store.Identity{Channel: "wechat", UserID: "talker"}
	b.say(tid, "t1", dialogs.Inbound{Text: "你好"})
	b.say(tid, "t2", dialogs.Inbound{Text: "转人工"})
	b.say(tid, "t3", dialogs.Inbound{Text: evil})
	c := b.signedIn("staff1", store.RoleStaff)
	_, _, list := c.get("/admin/candidates")
	_, _, inbox := c.get("/admin/tickets")
	tickets, _ := b.pg.TicketInbox(context.Background(), store.TicketFilter{}, "name")
	_, _, ticket := c.get("/admin/tickets/" + strconv.FormatInt(tickets[0].ID, 10))
	rows, _, _ := b.pg.CandidateList(context.Background(), store.CandidateFilter{Channel: "web"})
	_, _, page := c.get("/admin/candidates/" + strconv.FormatInt(rows[0].CandidateID, 10))
	for name, body := range map[string]string{"list": list, "candidate page": page, "ticket": ticket, "inbox": inbox} {
		if strings.Contains(body, "<script>alert") {
			t.Errorf("%s renders the script as markup", name)
		}
	}
	for name, body := range map[string]string{"list": list, "candidate page": page, "ticket": ticket} {
		if !strings.Contains(body, "&lt;script&gt;alert(") {
			t.Errorf("%s does not show the text escaped", name)
		}
	}
	if !b.audited("candidate.view", "staff1") {
		t.Error("the audit log misses the candidate page view")
	}
}

var previewLink = regexp.MustCompile(`href="(/admin/candidates/\d+/documents/\d+\?k=[^"]+)"`)

func TestPreviewLinksBelongToTheirSession(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	id := b.candidate("prev", "张三", "13800000001")
	b.say(id, "prev-img", dialogs.Inbound{Image: &dialogs.Image{Data: jpegBytes(t)}})
	rows, _, _ := b.pg.CandidateList(context.Background(), store.CandidateFilter{})
	page := "/admin/candidates/" + strconv.FormatInt(rows[0].CandidateID, 10)

	a := b.signedIn("staff1", store.RoleStaff)
	_, _, body := a.get(page)
	m := previewLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no preview link on the candidate page:\n%s", body)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+link, nil)
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("own preview: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	other := b.signedIn("staff2", store.RoleStaff)
	if status, _, _ := other.get(link); status != http.StatusForbidden {
		t.Errorf("another session's preview link: %d, want 403", status)
	}
	// A link with another document's id and this session's key is refused too.
	swapped := regexp.MustCompile(`/documents/\d+`).ReplaceAllString(link, "/documents/999999")
	if status, _, _ := a.get(swapped); status != http.StatusForbidden {
		t.Errorf("a key used for another document: %d, want 403", status)
	}
	if status, _, _ := a.post("/admin/signout", nil); status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", status)
	}
	if status, loc, _ := a.get(link); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin") {
		t.Errorf("preview after sign-out: %d → %q, want sign-in", status, loc)
	}
	// Signed in again, the same browser has a new session: the old link
	// stays dead.
	a.mustSignIn("staff1")
	if status, _, _ := a.get(link); status != http.StatusForbidden {
		t.Errorf("the old preview link in a new session: %d, want 403", status)
	}
	if !b.audited("document.denied", "staff2") || !b.audited("document.view", "staff1") || !b.audited("signout", "staff1") {
		t.Error("the audit log misses the preview, the refused preview or the sign-out")
	}
}

func TestTenWrongPasswordsLockTheAccount(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{Console: admin.ConsoleConfig{SignInPerMinute: 100}})
	b.addUser("li", store.RoleStaff)
	c := b.client()
	for i := 1; i <= 10; i++ {
		status, _, body := c.signIn("li", "wrong password "+strconv.Itoa(i))
		if status == http.StatusSeeOther {
			t.Fatalf("wrong password %d signed in", i)
		}
		if i == 10 && !strings.Contains(body, "已被锁定") {
			t.Fatalf("the 10th wrong password does not say the account is locked:\n%s", body)
		}
	}
	status, _, body := c.signIn("li", testPassword)
	if status != http.StatusForbidden || !strings.Contains(body, "锁定") {
		t.Fatalf("the right password on a locked account: %d\n%s", status, body)
	}
	// An unknown login gets the same answer as a wrong password.
	if status, _, body := c.signIn("nobody", "whatever-whatever"); status != http.StatusUnauthorized || !strings.Contains(body, "账号或密码错误") {
		t.Errorf("unknown login: %d", status)
	}
	if !b.audited("signin.locked", "li") || !b.audited("signin.failed", "li") || !b.audited("signin.failed", "nobody") {
		t.Error("the audit log misses the failed sign-ins or the lock-out")
	}
	// An admin unlocks it.
	a := b.signedIn("boss", store.RoleAdmin)
	u, _ := b.pg.StaffUserByLogin(context.Background(), "li")
	a.get("/admin/users")
	if status, _, _ := a.post("/admin/users/"+strconv.FormatInt(u.ID, 10), url.Values{"action": {"unlock"}}); status != http.StatusSeeOther {
		t.Fatalf("unlock: %d", status)
	}
	c.mustSignIn("li")
	if !b.audited("user.unlock", "boss") || !b.audited("signin", "li") {
		t.Error("the audit log misses the unlock or the sign-in")
	}
}

func TestSignInIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{Console: admin.ConsoleConfig{SignInPerMinute: 1}})
	b.addUser("li", store.RoleStaff)
	c := b.client()
	throttled := false
	for range 4 {
		if status, _, _ := c.signIn("li", "wrong password!"); status == http.StatusTooManyRequests {
			throttled = true
		}
	}
	if !throttled {
		t.Fatal("4 attempts in a row at 1 a minute (burst 2) were never throttled")
	}
	if u, _ := b.pg.StaffUserByLogin(context.Background(), "li"); u.FailedLogins > 2 {
		t.Errorf("throttled attempts still counted as wrong passwords: %d", u.FailedLogins)
	}
	if !b.audited("signin.throttled", "li") {
		t.Error("the audit log misses the throttled attempts")
	}
}

func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{Console: admin.ConsoleConfig{SessionIdle: 10 * time.Minute, SessionMax: time.Hour}})
	c := b.signedIn("li", store.RoleStaff)
	// Active every 5 minutes: the idle limit does not end the session…
	for range 6 {
		b.clock.advance(5*time.Minute + time.Second)
		if status, _, _ := c.get("/admin/tickets"); status != http.StatusOK {
			t.Fatalf("active session ended after %v", b.clock.offset)
		}
	}
	// …but the absolute limit does.
	b.clock.advance(31 * time.Minute)
	if status, loc, _ := c.get("/admin/tickets"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin") {
		t.Fatalf("after the absolute limit: %d → %q", status, loc)
	}
	// Idle for longer than the idle limit: signed out.
	c.mustSignIn("li")
	b.clock.advance(11 * time.Minute)
	if status, _, _ := c.get("/admin/tickets"); status != http.StatusSeeOther {
		t.Fatalf("after 11 idle minutes: %d, want the sign-in redirect", status)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{Console: admin.ConsoleConfig{BehindProxy: true}})
	b.addUser("li", store.RoleStaff)
	for _, tc := range []struct {
		proto  string
		secure bool
	}{{"https", true}, {"", false}} {
		c := b.client()
		c.get("/admin/signin")
		form := url.Values{"login": {"li"}, "password": {testPassword}, "csrf": {c.csrf}}
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/admin/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "regbot_console" && ck.Value != "" {
				cookie = ck
			}
		}
		if cookie == nil {
			t.Fatalf("proto %q: no session cookie (status %d)", tc.proto, resp.StatusCode)
		}
		if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/admin" || cookie.Secure != tc.secure {
			t.Errorf("proto %q: cookie %+v; want HttpOnly, SameSite=Lax, Path=/admin, Secure=%v", tc.proto, cookie, tc.secure)
		}
	}
}

func TestPasswordHashes(t *testing.T) {
	t.Parallel()
	h, err := admin.HashPassword("correct horse battery")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	h2, _ := admin.HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{"", "", false},
		{"$argon2id$v=19$m=19456,t=2,p=1$bad$bad", "x", false},
		{strings.Replace(h, "t=2", "t=99", 1), "correct horse battery", false},
	} {
		if got := admin.CheckPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%q, %q) = %v", tc.hash, tc.pw, got)
		}
	}
	if err := admin.CheckPasswordRules("short"); err == nil {
		t.Error("a 5-character password passes the rules")
	}
}
