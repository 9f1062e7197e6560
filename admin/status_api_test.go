package admin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regbot/admin"
	"regbot/store"
)

func TestStatusAPI(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	mux := http.NewServeMux()
	b.api.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	id := b.candidate(t, idNumbers[0], "13800000001", store.StatusUnderReview)
	path := srv.URL + "/admin/api/candidates/" + id.Key() + "/status"

	do := func(method, url, token, idem, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
		}
		return resp.StatusCode, out
	}
	tests := []struct {
		name, token, body string
		url               string
		code              int
		says              string
	}{
		{"no token", "", `{"status":"rejected","reason":"x"}`, path, 401, "unauthorized"},
		{"wrong token", "not-the-token-at-all", `{"status":"rejected","reason":"x"}`, path, 401, "unauthorized"},
		{"bad json", staffToken, `{"status":`, path, 400, "body"},
		{"unknown field", staffToken, `{"state":"paid"}`, path, 400, "unknown field"},
		{"unknown status", staffToken, `{"status":"approved"}`, path, 400, "unknown status"},
		{"bad candidate", staffToken, `{"status":"paid"}`, srv.URL + "/admin/api/candidates/42/status", 400, "channel:user_id"},
		{"bad ID number", staffToken, `{"status":"paid"}`, srv.URL + "/admin/api/candidates/id_number:110105194912310029/status", 400, "ID number is not valid"},
		{"bad mobile", staffToken, `{"status":"paid"}`, srv.URL + "/admin/api/candidates/mobile:1380000/status", 400, "mobile is not valid"},
		{"unknown mobile", staffToken, `{"status":"paid"}`, srv.URL + "/admin/api/candidates/mobile:13999999999/status", 404, "no application with this mobile"},
		{"unknown candidate", staffToken, `{"status":"paid"}`, srv.URL + "/admin/api/candidates/wechat:nobody/status", 404, "no application"},
		{"illegal transition", staffToken, `{"status":"缴费成功"}`, path, 409, "from under_review to paid"},
		{"no reason", staffToken, `{"status":"审核不通过"}`, path, 422, "reason"},
		{"unknown item", staffToken, `{"status":"rejected","reason":"x","reopen":["passport"]}`, path, 422, "passport"},
	}
	for _, tt := range tests {
		code, out := do("POST", tt.url, tt.token, "", tt.body)
		if code != tt.code || !strings.Contains(out["error"].(string), tt.says) {
			t.Errorf("%s: %d %v, want %d saying %q", tt.name, code, out, tt.code, tt.says)
		}
	}
	if got := b.status(t, id); got != store.StatusUnderReview {
		t.Fatalf("refused requests moved the status to %q", got)
	}

	body := `{"status":"rejected","reason":"一寸照片背景不是白色","reopen":["photo"]}`
	for i, want := range []string{"applied", "unchanged"} { // a double click is one change
		code, out := do("POST", path, staffToken, "click-1", body)
		if code != 200 || out["outcome"] != want || out["status"] != "rejected" {
			t.Fatalf("request %d: %d %v, want 200 %s rejected", i+1, code, out, want)
		}
	}
	if n := b.rec.notifications(t, id); len(n) != 1 || !strings.Contains(n[0], "一寸照片背景不是白色") {
		t.Fatalf("notifications after a double click: %q", n)
	}
	code, out := do("GET", path, staffToken, "", "")
	events, _ := out["events"].([]any)
	if code != 200 || out["status"] != "rejected" || len(events) == 0 {
		t.Fatalf("GET: %d %v", code, out)
	}
	last := events[len(events)-1].(map[string]any)
	if last["actor"] != admin.TokenActor || last["reason"] != "一寸照片背景不是白色" || last["from"] != "under_review" {
		t.Fatalf("last event %v, want from under_review by %s with the reason", last, admin.TokenActor)
	}

	// The same candidate by ID number (lower-case x, as typed) and by
	// mobile: a GET shows the change above; a POST moves them on.
	byID := srv.URL + "/admin/api/candidates/id_number:" + strings.ToLower(idNumbers[0]) + "/status"
	if code, out := do("GET", byID, staffToken, "", ""); code != 200 || out["status"] != "rejected" {
		t.Fatalf("GET by ID number: %d %v", code, out)
	}
	byMobile := srv.URL + "/admin/api/candidates/mobile:13800000001/status"
	if code, out := do("POST", byMobile, staffToken, "", `{"status":"under_review"}`); code != 200 || out["outcome"] != "applied" || out["from"] != "rejected" {
		t.Fatalf("POST by mobile: %d %v", code, out)
	}
	if got := b.status(t, id); got != store.StatusUnderReview {
		t.Fatalf("after the change by mobile the status is %q", got)
	}
}
