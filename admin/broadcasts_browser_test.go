package admin_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"regbot/admin"
	"regbot/bot/telegram"
	"regbot/bot/telegram/telegramtest"
	"regbot/broadcasts"
	"regbot/dialogs"
	"regbot/notify"
	"regbot/store"
)

// TestBroadcastInTheBrowser: an admin writes a broadcast in Chromium, is
// told expr's message for a mistyped filter, previews whom it reaches
// and how it looks on each channel, saves and sends it, and watches the
// counts move on the page (refreshed in place) until every candidate got
// it through the fake Bot API. Screenshots go to REGBOT_SCREENSHOT_DIR.
func TestBroadcastInTheBrowser(t *testing.T) {
	t.Parallel()
	const n = 40
	b := setupConsole(t, admin.Config{})
	b.addUser("boss", store.RoleAdmin)
	ctx := context.Background()
	if _, err := b.pool.Exec(ctx, `
		with c as (insert into candidates (created_at) select now() from generate_series(1, $1) returning id),
		i as (insert into identities (channel, user_id, candidate_id)
		      select 'telegram', (7000000 + id)::text, id from c returning candidate_id)
		insert into applications (candidate_id, plan_id, answers)
		select candidate_id, 'internet-marketing-l4', jsonb_build_object('name', '考生' || candidate_id) from i`, n); err != nil {
		t.Fatal(err)
	}
	tg := telegramtest.New(t)
	startSending(t, b, tg, 10)

	br := newConsoleBrowser(t)
	br.navigate(b.srv.URL + "/admin/signin")
	br.setValue("#login", "boss")
	br.setValue("#password", testPassword)
	br.clickAndWait("#signin", `document.querySelector('nav a[href="/admin/broadcasts"]')`)
	br.navigate(b.srv.URL + "/admin/broadcasts/new")
	br.setValue("#title", "考试时间通知")
	br.setValue("#filter", `status == 3`)
	br.setValue("#body", "{name|考生}您好：考试时间已公布，请登录官网查看。")
	br.clickAndWait("#preview", `document.querySelector('#problem')`)
	if msg := evalIn[string](br, `document.querySelector('#problem').textContent`); !strings.Contains(msg, "mismatched types string and int") {
		t.Fatalf("a mistyped filter: %q", msg)
	}
	br.setValue("#filter", `status == "collecting" && has_name`)
	br.clickAndWait("#preview", `document.querySelector('#match-count')`)
	if got := evalIn[string](br, `document.querySelector('#match-count').dataset.matches`); got != fmt.Sprint(n) {
		t.Fatalf("preview matches %s, want %d", got, n)
	}
	if got := evalIn[string](br, `document.querySelector('[data-channel="telegram"] .bubble').textContent`); !strings.Contains(got, "您好：考试时间已公布") || !strings.Contains(got, "考生") {
		t.Fatalf("the Telegram preview shows %q", got)
	}
	br.screenshot("broadcast-preview.png")
	br.clickAndWait("#save", `document.querySelector('#send')`)
	br.clickAndWait("#send", `document.querySelector('#progress .progress')`)
	// The counts refresh in place (broadcasts.js): the same page shows more
	// sent as they go, then all of them.
	br.do(chromedp.Evaluate[chromedp.Void](`window.samePage = true`))
	br.waitJS(`window.samePage && document.querySelector('#progress').dataset.refreshed && +document.querySelector('#count-sent').textContent > 0`, 60*time.Second)
	br.screenshot("broadcast-sending.png")
	br.waitJS(fmt.Sprintf(`document.querySelector('#count-sent') && document.querySelector('#count-sent').textContent === '%d'`, n), 90*time.Second)
	br.waitJS(`document.querySelector('#report')`, 10*time.Second)
	br.screenshot("broadcast-sent.png")
	for chat, k := range tg.Delivered() {
		if k != 1 {
			t.Fatalf("chat %s got it %d times", chat, k)
		}
	}
	if got := len(tg.Delivered()); got != n {
		t.Fatalf("%d delivered, want %d", got, n)
	}
	if !b.audited("broadcast.send", "boss") {
		t.Fatal("the send is not in the audit log")
	}
}

// startSending runs what a serve process runs to send broadcasts: a
// Notifier with the Telegram adapter against the fake Bot API, and a
// Runner at rate messages a second.
func startSending(t *testing.T, b *consoleBundle, tg *telegramtest.Server, rate float64) {
	t.Helper()
	ctx := context.Background()
	if err := notify.MigrateRiver(ctx, b.pool); err != nil {
		t.Fatal(err)
	}
	adapter, err := telegram.New(telegram.Config{Token: telegramtest.Token, ServerURL: tg.URL()}, idle{}, telegram.Deps{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]notify.Sender{}
	n, err := notify.New(notify.Config{}, notify.Deps{Record: b.pg, Queue: notify.NewRiverQueue(b.pool, b.pg, nil),
		Blobs: b.blobs, Senders: senders}, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := broadcasts.NewService(b.pg, b.engine.Plan(), b.blobs, nil)
	r, err := broadcasts.NewRunner(broadcasts.Config{Rates: map[string]float64{"telegram": rate}, PollInterval: 200 * time.Millisecond},
		svc, b.pg, n, b.pg, nil)
	if err != nil {
		t.Fatal(err)
	}
	senders["telegram"] = r.Pace("telegram", adapter)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(); n.Stop() })
}

// idle is the adapter's handler; the test only sends.
type idle struct{}

func (idle) Handle(context.Context, dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{}, nil
}

// consoleBrowser is a headless Chromium tab (Debian's chromium;
// REGBOT_CHROMIUM overrides the path), failing the test on an uncaught
// exception or a Content-Security-Policy violation.
type consoleBrowser struct {
	t   *testing.T
	ctx context.Context
}

func newConsoleBrowser(t *testing.T) *consoleBrowser {
	t.Helper()
	exe := cmp.Or(os.Getenv("REGBOT_CHROMIUM"), "/usr/bin/chromium")
	if _, err := os.Stat(exe); err != nil {
		if testing.Short() {
			t.Skipf("-short: no browser test (%v)", err)
		}
		t.Fatalf("the console browser test needs Chromium at %s (apt-get install -y chromium): %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1024, 900))
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	b := &consoleBrowser{t: t, ctx: tabCtx}
	var (
		mu       sync.Mutex
		problems []string
	)
	console := chromedp.Console(tabCtx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) > 0 {
			t.Errorf("the page threw or broke the CSP: %q", problems)
		}
	})
	return b
}

func (b *consoleBrowser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *consoleBrowser) navigate(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// setValue sets a form field's value.
func (b *consoleBrowser) setValue(sel, value string) {
	b.t.Helper()
	js, _ := json.Marshal(value)
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = %s`, sel, js)))
}

// clickAndWait clicks a button (submitting its form with it) and waits
// until the next page shows what until finds.
func (b *consoleBrowser) clickAndWait(sel, until string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.body.dataset.old = '1'; document.querySelector(%q).click()`, sel)))
	b.waitJS(`!document.body.dataset.old && (`+until+`)`, 45*time.Second)
}

// waitJS waits until the expression is truthy; a page being replaced
// (a form submitted) is waited out.
func (b *consoleBrowser) waitJS(expr string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
			b.t.Fatalf("waiting for %s: %v\npage:\n%s", expr, err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func evalIn[T any](b *consoleBrowser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the page and logs where.
func (b *consoleBrowser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	dir := os.Getenv("REGBOT_SCREENSHOT_DIR")
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}
