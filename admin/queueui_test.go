package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"regbot/admin"
	"regbot/store"
)

// TestQueueUIIsForAdmins: the queue's dashboard is behind the admin role;
// its API calls that change something must come from the console's origin
// (they carry no form token) and are audited.
func TestQueueUIIsForAdmins(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	anon := b.client()
	if status, loc, _ := anon.get("/admin/river/jobs"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/signin") {
		t.Fatalf("the queue dashboard without a session: %d → %q", status, loc)
	}
	staff := b.signedIn("clerk", store.RoleStaff)
	if status, _, body := staff.get("/admin/river/"); status != http.StatusForbidden || strings.Contains(body, "queue dashboard") {
		t.Fatalf("staff on the queue dashboard: %d %s", status, body)
	}
	if _, _, body := staff.get("/admin/"); strings.Contains(body, `href="/admin/river/"`) {
		t.Error("staff see the queue dashboard in the menu")
	}
	c := b.signedIn("boss", store.RoleAdmin)
	if _, _, body := c.get("/admin/"); !strings.Contains(body, `href="/admin/river/"`) {
		t.Error("admins do not see the queue dashboard in the menu")
	}
	status, _, body := c.get("/admin/river/jobs?state=available")
	if status != http.StatusOK || body != "queue dashboard: GET /admin/river/jobs" {
		t.Fatalf("admin on the queue dashboard: %d %q", status, body)
	}
	const retry = "/admin/river/api/jobs/retry"
	for name, h := range map[string]http.Header{
		"no origin":           {},
		"another site":        {"Sec-Fetch-Site": {"cross-site"}},
		"another origin":      {"Origin": {"https://evil.example"}},
		"a sibling subdomain": {"Sec-Fetch-Site": {"same-site"}},
	} {
		if status, _, body := c.do(http.MethodPost, retry, nil, h); status != http.StatusForbidden || strings.Contains(body, "queue dashboard") {
			t.Errorf("POST %s from %s: %d %s", retry, name, status, body)
		}
	}
	if !b.audited("csrf.refused", "boss") {
		t.Error("the refused queue change is not in the audit log")
	}
	for name, h := range map[string]http.Header{
		"fetch metadata": {"Sec-Fetch-Site": {"same-origin"}},
		"origin":         {"Origin": {b.srv.URL}},
	} {
		if status, _, body := c.do(http.MethodPost, retry, nil, h); status != http.StatusOK || body != "queue dashboard: POST "+retry {
			t.Errorf("POST %s with %s: %d %q", retry, name, status, body)
		}
	}
	if !b.audited("queue.change", "boss") {
		t.Error("the queue change is not in the audit log")
	}
}
