package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"regbot/bot"
)

// testServer is a server on the embedded stores whose readiness checks are
// checks, for in-process tests of the HTTP side.
func testServer(t *testing.T, checks ...readiness) *server {
	t.Helper()
	cfg, err := parseConfig([]byte(fmt.Sprintf("http:\n  shutdown_timeout: 5s\nblob:\n  dir: %s\n  encryption_key: %s\n",
		t.TempDir(), testKey)), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	plan, err := loadPlan(cfg.Plan.Path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStores(t.Context(), cfg, plan, log)
	if err != nil {
		t.Fatal(err)
	}
	st.checks = checks
	s, err := newServer(cfg, plan, st, log)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// listen serves h on a loopback port until the test ends.
func listen(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReadyzNamesTheDependencyDown: 503 naming what is down, without the
// error's details (those go to the log); Redis down alone is "degraded"
// with 200, since turns go on without it (changed on purpose with the
// degraded mode: it used to be 503).
func TestReadyzNamesTheDependencyDown(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.1:6379: secret detail") }
	up := func(context.Context) error { return nil }
	tests := []struct {
		name       string
		pg, redis  func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{"postgres down", down, up, http.StatusServiceUnavailable, "unavailable: postgres\n"},
		{"both down", down, down, http.StatusServiceUnavailable, "unavailable: postgres, redis\n"},
		{"redis down", up, down, http.StatusOK, "degraded: redis down, turns run on the database alone\n"},
	}
	for _, tt := range tests {
		s := testServer(t,
			readiness{name: "postgres", check: tt.pg},
			readiness{name: "redis", check: tt.redis, degrades: true})
		resp, err := http.Get(listen(t, s.routes()) + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody || strings.Contains(string(body), "secret") {
			t.Errorf("/readyz with %s: %d %q, want %d %q", tt.name, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
	}
}

// TestShutdownFinishesRequestsInFlight: a request running when SIGTERM
// arrives completes, and run returns only afterwards.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	s := testServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "turn done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- s.run(ctx, ln, slow) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	stop() // what SIGTERM does through main's signal context
	select {
	case err := <-runErr:
		t.Fatalf("run returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "turn done" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}
}

func TestMetricsObserve(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	m.observe(bot.Observation{Channel: "wechat", Duration: 3 * time.Millisecond})
	m.observe(bot.Observation{Channel: "wechat", Duration: 4 * time.Millisecond, Recovered: true})
	m.observe(bot.Observation{Channel: "wechat", Duplicate: true})
	m.observe(bot.Observation{Channel: "telegram", Err: errors.New("boom"), Duration: time.Second})
	checks := []struct {
		name      string
		got, want float64
	}{
		{"wechat turns", counterValue(t, m.turns.WithLabelValues("wechat")), 2},
		{"telegram turns", counterValue(t, m.turns.WithLabelValues("telegram")), 1},
		{"wechat duplicates", counterValue(t, m.duplicates.WithLabelValues("wechat")), 1},
		{"telegram errors", counterValue(t, m.errors.WithLabelValues("telegram")), 1},
		{"wechat errors", counterValue(t, m.errors.WithLabelValues("wechat")), 0},
		{"wechat recovered", counterValue(t, m.recovered.WithLabelValues("wechat")), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var h dto.Metric
	if err := m.latency.WithLabelValues("wechat").(prometheus.Metric).Write(&h); err != nil {
		t.Fatal(err)
	}
	if n := h.GetHistogram().GetSampleCount(); n != 2 {
		t.Errorf("wechat latency samples = %d, want 2 (duplicates are not turns)", n)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestEmbeddedConsole: on the embedded store the console exists only with
// admin.console.embedded_admin_password, and its admin signs in with it.
func TestEmbeddedConsole(t *testing.T) {
	t.Parallel()
	base := func(extra string) string {
		return fmt.Sprintf("blob:\n  dir: %s\n  encryption_key: %s\n%s", t.TempDir(), testKey, extra)
	}
	serve := func(cfgText string) string {
		t.Helper()
		cfg, err := parseConfig([]byte(cfgText), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		plan, err := loadPlan(cfg.Plan.Path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := openStores(t.Context(), cfg, plan, log)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newServer(cfg, plan, st, log)
		if err != nil {
			t.Fatal(err)
		}
		return listen(t, s.routes())
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	off := serve(base(""))
	if resp, err := noRedirect.Get(off + "/admin/signin"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("console without the embedded admin password: %v %v, want 404", resp, err)
	}
	on := serve(base("admin:\n  console:\n    embedded_admin_password: embedded-admin-pw\n"))
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	resp, err := c.Get(on + "/admin/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(on+"/admin/signin", url.Values{"csrf": {string(m[1])}, "login": {"admin"}, "password": {"embedded-admin-pw"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("sign in as the embedded admin: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := c.Get(on + "/admin/users"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("accounts page on the embedded store: %v %v", resp, err)
	}
	if _, err := parseConfig([]byte("privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: postgres://x@127.0.0.1/db\n"+base("admin:\n  console:\n    embedded_admin_password: embedded-admin-pw\n")),
		func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "embedded_admin_password is only for the embedded store") {
		t.Fatalf("embedded admin password with a database: %v", err)
	}
}
