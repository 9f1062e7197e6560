package admin_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regbot/admin"
	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store/memory"
)

type testBundle struct {
	srv    *httptest.Server
	pkgs   *admin.Packages
	router *bot.Router
	engine *dialogs.Engine
}

const staffToken = "0123456789abcdef-staff"

func setup(t *testing.T) testBundle {
	t.Helper()
	return setupWith(t, admin.Config{})
}

// setupWith builds the bundle with cfg's limits; a limited bundle takes its
// tokens from the memory store's buckets.
func setupWith(t *testing.T, limits admin.Config) testBundle {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	blobs := dialogs.NewMemoryBlobs()
	mem := memory.New()
	var pkgs *admin.Packages
	engine, err := dialogs.NewEngine(plan, dialogs.Options{
		Blobs:       blobs,
		PackageLink: func(ctx context.Context, s *dialogs.Session) (*dialogs.Link, error) { return pkgs.Link(ctx, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	pkgs, err = admin.NewPackages(admin.Config{Token: staffToken, PublicURL: srv.URL, LinkSecret: "s3cret-s3cret-s3cret",
		PackagesPerMinute: limits.PackagesPerMinute, LinkPerMinute: limits.LinkPerMinute}, engine, mem, blobs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if limits.PackagesPerMinute > 0 || limits.LinkPerMinute > 0 {
		pkgs.Limit(mem, false)
	}
	pkgs.Routes(mux)
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: mem}, slog.New(slog.DiscardHandler))
	return testBundle{srv: srv, pkgs: pkgs, router: router, engine: engine}
}

// converse sends the messages of a C2 candidate who uploads the ID card front.
func converse(t *testing.T, b testBundle, user string) dialogs.Result {
	t.Helper()
	var res dialogs.Result
	send := func(in dialogs.Inbound) {
		in.Channel, in.UserID = "web", user
		var err error
		if res, err = b.router.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	for _, text := range []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否",
		"张三", "11010519491231002X", "长期", "13800138000"} {
		send(dialogs.Inbound{Text: text})
	}
	send(dialogs.Inbound{Image: &dialogs.Image{Data: jpegBytes(t)}})
	send(dialogs.Inbound{Text: "材料包"})
	return res
}

func TestCandidateLinkServesThePackage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := converse(t, b, "visitor-1")
	var link *dialogs.Link
	for _, m := range res.Messages {
		if m.Link != nil {
			link = m.Link
		}
	}
	if link == nil {
		t.Fatalf("材料包 sent no link: %+v", res.Messages)
	}
	names := zipNames(t, get(t, link.URL, "", http.StatusOK))
	if !strings.Contains(names, "报名信息.txt") || !strings.Contains(names, "身份证人像面.") {
		t.Fatalf("package holds %s", names)
	}
	tampered := strings.Replace(link.URL, "/materials/", "/materials/x", 1)
	get(t, tampered, "", http.StatusNotFound)
}

// A link is used at most LinkPerMinute times a minute, an address
// downloads at most PackagesPerMinute packages: then 429 with Retry-After
// and the plan's sentence.
func TestPackageDownloadsAreRateLimited(t *testing.T) {
	t.Parallel()
	b := setupWith(t, admin.Config{PackagesPerMinute: 3, LinkPerMinute: 2})
	link := packageLink(t, converse(t, b, "visitor-3"))
	get(t, link, "", http.StatusOK)
	get(t, link, "", http.StatusOK)
	limited := func(url, token string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
			strings.TrimSpace(string(body)) != b.engine.Plan().Text("package_rate_limited") {
			t.Fatalf("GET %s over the limit: %d %q (Retry-After %q)", url, resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	}
	limited(link, "") // the link's two a minute are used
	staff := b.srv.URL + "/admin/api/candidates/web:visitor-3/materials.zip"
	get(t, staff, staffToken, http.StatusOK) // the address's third
	limited(staff, staffToken)               // the address's three are used
}

func packageLink(t *testing.T, res dialogs.Result) string {
	t.Helper()
	for _, m := range res.Messages {
		if m.Link != nil {
			return m.Link.URL
		}
	}
	t.Fatalf("材料包 sent no link: %+v", res.Messages)
	return ""
}

func TestStaffEndpointNeedsTheToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	converse(t, b, "visitor-2")
	url := b.srv.URL + "/admin/api/candidates/web:visitor-2/materials.zip"
	get(t, url, "", http.StatusUnauthorized)
	get(t, url, "wrong-token-wrong-token", http.StatusUnauthorized)
	if names := zipNames(t, get(t, url, staffToken, http.StatusOK)); !strings.Contains(names, "报名信息.txt") {
		t.Fatalf("package holds %s", names)
	}
	get(t, b.srv.URL+"/admin/api/candidates/web:nobody/materials.zip", staffToken, http.StatusNotFound)
	get(t, b.srv.URL+"/admin/api/candidates/garbage/materials.zip", staffToken, http.StatusBadRequest)
}

func get(t *testing.T, url, token string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s, want %d", url, resp.StatusCode, body, want)
	}
	return body
}

func zipNames(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return strings.Join(names, ",")
}
