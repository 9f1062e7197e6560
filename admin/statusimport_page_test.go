package admin_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"regbot/admin"
	"regbot/store"
)

// upload posts the bulk status form with a CSV file.
func (c *client) upload(path, file string, fields map[string]string) (int, string) {
	c.b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "export.csv")
	fw.Write([]byte(file))
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.b.srv.URL+path, &buf)
	if err != nil {
		c.b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	status, _, body := c.send(req)
	return status, body
}

// TestBulkStatusPage: an admin uploads the official system's export, tries
// it (nothing changes), then applies it: the matched candidate's status
// changes and they are notified; the rows not applied are listed by line;
// staff may not; the audit log has both runs.
func TestBulkStatusPage(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	withdrawn := b.candidate("o-bulk-1", "赵一", "13800000001")
	other := b.candidate("o-bulk-2", "孙二", "13800000002")
	const file = "手机号,状态,原因\n13800000001,已撤销,考生本人申请撤销\n13800000002,缴费成功,\n13900000009,审核中,\n"
	status := func(id store.Identity) store.Status {
		t.Helper()
		app, err := b.pg.Application(context.Background(), id, "internet-marketing-l4")
		if err != nil {
			t.Fatal(err)
		}
		return app.Status
	}

	staff := b.signedIn("clerk", store.RoleStaff)
	if code, _, body := staff.get("/admin/statuses"); code != http.StatusForbidden || !strings.Contains(body, "只有管理员") {
		t.Fatalf("staff on the bulk status page: %d", code)
	}
	if code, _ := staff.upload("/admin/statuses", file, map[string]string{"csrf": staff.csrf}); code != http.StatusForbidden {
		t.Fatalf("staff uploading an export: %d, want 403", code)
	}

	c := b.signedIn("boss", store.RoleAdmin)
	code, _, page := c.get("/admin/statuses")
	if code != http.StatusOK || !strings.Contains(page, `id="dry-run" checked`) || !strings.Contains(page, "批量状态") {
		t.Fatalf("bulk status page: %d\n%s", code, page)
	}
	if code, _ := c.upload("/admin/statuses", file, map[string]string{"dry_run": "1"}); code != http.StatusForbidden {
		t.Fatalf("an upload without the CSRF token: %d, want 403", code)
	}
	code, body := c.upload("/admin/statuses", file, map[string]string{"csrf": c.csrf, "dry_run": "1"})
	if code != http.StatusOK || !strings.Contains(body, `data-dry-run="true" data-applied="1" data-rows="3"`) ||
		!strings.Contains(body, `id="n-refused">1<`) || !strings.Contains(body, `id="n-unmatched">1<`) ||
		!strings.Contains(body, "line 3: refused") || !strings.Contains(body, "line 4: unmatched") {
		t.Fatalf("dry run: %d\n%s", code, body)
	}
	if s := status(withdrawn); s != store.StatusCollecting {
		t.Fatalf("a dry run changed the status to %s", s)
	}
	code, body = c.upload("/admin/statuses", file, map[string]string{"csrf": c.csrf})
	if code != http.StatusOK || !strings.Contains(body, `data-dry-run="false" data-applied="1"`) {
		t.Fatalf("import: %d\n%s", code, body)
	}
	if s, o := status(withdrawn), status(other); s != store.StatusWithdrawn || o != store.StatusCollecting {
		t.Fatalf("after the import: %s and %s, want withdrawn and collecting", s, o)
	}
	if got := strings.Join(b.deliveries(withdrawn, store.OutNotification), "\n"); !strings.Contains(got, "【报名状态更新】已撤销") {
		t.Fatalf("the withdrawn candidate's notification: %q", got)
	}
	if strings.Contains(body, "13800000001") || strings.Contains(body, "13900000009") {
		t.Error("the result page repeats a mobile from the file")
	}
	// Imported again: nothing changes twice.
	if _, body = c.upload("/admin/statuses", file, map[string]string{"csrf": c.csrf}); !strings.Contains(body, `data-applied="0"`) || !strings.Contains(body, `id="n-unchanged">1<`) {
		t.Fatalf("re-import:\n%s", body)
	}
	b.mustHaveAudited("boss", "status.import.dry_run", "status.import")
	b.mustHaveAudited("clerk", "denied") // the staff member's upload
}
