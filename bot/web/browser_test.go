package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive Debian's Chromium (apt-get install -y chromium;
// REGBOT_CHROMIUM overrides the path). They are required: only -short skips
// them. REGBOT_SCREENSHOT_DIR keeps the screenshots somewhere lasting;
// otherwise they go to the test's temporary directory, and the log names
// the file either way.

// browser is a headless Chromium tab on a phone-sized viewport, watching for
// JavaScript dialogs and uncaught exceptions.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	dialogs    []string
	exceptions []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := cmp.Or(os.Getenv("REGBOT_CHROMIUM"), "/usr/bin/chromium")
	if _, err := os.Stat(exe); err != nil {
		if testing.Short() {
			t.Skipf("-short: no browser test (%v)", err)
		}
		t.Fatalf("the web chat browser test needs Chromium at %s (apt-get install -y chromium): %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(390, 844),
	)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	b := &browser{t: t, ctx: tabCtx}
	dialogs := chromedp.Events(tabCtx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
			chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	console := chromedp.Console(tabCtx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.String())
				b.mu.Unlock()
			}
		}
	}()
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.dialogs) > 0 {
			t.Errorf("the page opened dialogs: %q", b.dialogs)
		}
		if len(b.exceptions) > 0 {
			t.Errorf("the page threw: %q", b.exceptions)
		}
	})
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open loads the page and waits until it has shown the history (and, on a
// new conversation, the greeting).
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.waitJS(`document.querySelector('#chat').dataset.ready === '1'`)
}

func (b *browser) reload() {
	b.t.Helper()
	b.do(chromedp.Reload())
	b.waitJS(`document.querySelector('#chat').dataset.ready === '1'`)
}

// waitJS waits until the expression is truthy.
func (b *browser) waitJS(expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v\nlog:\n%s", expr, err, strings.Join(b.log(), "\n"))
	}
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// log is the conversation as shown: one line per list item, "bot|…",
// "user|…", "failed|…" (a message the server refused) or "notice|…", with
// the item's text content.
func (b *browser) log() []string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#log > li')).map(li =>
		(li.classList.contains('notice') ? 'notice' : li.classList.contains('failed') ? 'failed' :
			li.classList.contains('user') ? 'user' : 'bot') + '|' + li.textContent)`))
	if err != nil {
		return []string{err.Error()}
	}
	return v
}

// idle waits until no request is in flight.
func (b *browser) idle() {
	b.t.Helper()
	b.waitJS(`document.querySelector('#chat').dataset.busy !== '1' && !document.querySelector('#log .typing')`)
}

// say types text and presses Enter, as a visitor does.
func (b *browser) say(text string) {
	b.t.Helper()
	b.idle()
	b.do(chromedp.SendKeys(chromedp.CSS("#text"), text+kb.Enter))
	b.idle()
}

// click presses the enabled choice button with the given label.
func (b *browser) click(label string) {
	b.t.Helper()
	b.idle()
	sel := fmt.Sprintf(`Array.from(document.querySelectorAll('#log .choices button:not(:disabled)')).find(b => b.textContent === %s)`, jsString(label))
	b.waitJS(sel)
	b.do(chromedp.Evaluate[chromedp.Void](sel + `.scrollIntoView({block: 'center'})`))
	// A real click (mouse events at the button's position), not a JS click().
	nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSSAll("#log .choices button:not(:disabled)")))
	if err != nil {
		b.t.Fatal(err)
	}
	for _, n := range nodes {
		text, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.NodeIDs{n.NodeID}))
		if err == nil && text == label {
			b.do(chromedp.MouseClickNode(n))
			b.idle()
			return
		}
	}
	b.t.Fatalf("no button %q; log:\n%s", label, strings.Join(b.log(), "\n"))
}

// upload picks a file with the image button's file input.
func (b *browser) upload(path string) {
	b.t.Helper()
	b.idle()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
	b.idle()
}

// screenshot saves what the phone shows and logs where.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
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
	b.t.Logf("screenshot (390×844 phone viewport): %s", path)
	return path
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lastLine(lines []string, prefix string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], prefix) {
			return lines[i]
		}
	}
	return ""
}

// TestBrowserPage runs the page in Chromium against a scripted handler: the
// page's own behaviour (buttons, uploads, refusals, escaping, reload),
// independent of the plan.
func TestBrowserPage(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	br := newBrowser(t)
	br.open(b.server.URL + "/chat")

	if got := eval[string](br, `document.title`); got != "互联网营销师报名助手" {
		t.Errorf("title %q", got)
	}
	// An empty conversation starts with the greeting.
	br.waitJS(`document.querySelectorAll('#log .choices button').length === 2`)
	if log := br.log(); len(log) != 2 || log[0] != "bot|您好！我是报名助手。" {
		t.Fatalf("greeting: %q", log)
	}

	br.click("是")
	if log := br.log(); lastLine(log, "user|") != "user|是" || lastLine(log, "bot|") != "bot|您选择了 yes是否" {
		t.Errorf("after click: %q", log)
	}
	// Only the newest buttons stay active.
	if n := eval[int](br, `document.querySelectorAll('#log .choices button:not(:disabled)').length`); n != 2 {
		t.Errorf("%d active buttons, want 2", n)
	}

	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	br.say(evil)
	if log := br.log(); lastLine(log, "user|") != "user|"+evil || lastLine(log, "bot|") != "bot|收到："+evil {
		t.Errorf("HTML must show as text: %q", log)
	}
	if n := eval[int](br, `document.querySelectorAll('#log script, #log img[src="x"]').length`); n != 0 {
		t.Errorf("message HTML became %d elements", n)
	}

	br.say("link")
	href := eval[string](br, `document.querySelector('#log a.link').href`)
	rel := eval[string](br, `document.querySelector('#log a.link').rel`)
	if href != "https://example.com/t.zip" || rel != "noopener noreferrer" {
		t.Errorf("link %q rel %q", href, rel)
	}
	if n := eval[int](br, `document.querySelectorAll('#log a.link').length`); n != 1 {
		t.Errorf("%d links, want 1 (the javascript: one as text)", n)
	}

	// The input box follows the question: a phone keypad for a mobile number.
	br.say("mobile")
	if got := eval[string](br, `document.querySelector('#text').inputMode + ' ' + document.querySelector('#text').placeholder`); got != "tel 请输入 11 位手机号" {
		t.Errorf("input for a mobile question: %q", got)
	}

	jpg := testJPEG(t, 600, 800)
	br.upload(writeFile(t, "证件照.jpg", jpg))
	br.waitJS(`Array.from(document.querySelectorAll('#log .msg.bot img.image')).some(i => i.complete && i.naturalWidth === 40)`)
	if log := br.log(); !strings.Contains(strings.Join(log, "\n"), fmt.Sprintf("bot|收到图片 %d 字节", len(jpg))) {
		t.Errorf("upload: %q", log)
	}
	if got := b.handler.inbounds(); got[len(got)-1].Image == nil || got[len(got)-1].Image.Name != "证件照.jpg" {
		t.Errorf("handler got %+v", got[len(got)-1])
	}

	// Refusals show a clear message in the page.
	br.upload(writeFile(t, "notes.txt", []byte("这不是图片")))
	br.waitJS(`document.querySelector('#log > li:last-child').textContent === '请上传图片文件（JPG/PNG）'`)
	if log := br.log(); log[len(log)-2] != "failed|[图片] notes.txt" {
		t.Errorf("refused upload: %q", log[len(log)-2:])
	}
	br.upload(writeFile(t, "huge.jpg", append(testJPEG(t, 64, 64), make([]byte, 30<<20)...)))
	br.waitJS(`document.querySelector('#log > li:last-child').textContent === '图片太大了（最大 20 MB），请压缩后再发送'`)
	br.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#text').value = '长'.repeat(100 * 1024)`), chromedp.Click(chromedp.CSS("#send")))
	br.waitJS(`document.querySelector('#log > li:last-child').textContent === '消息太长了（最多 2000 字），请分几次发送'`)
	if n := eval[int](br, `document.querySelector('#text').value.length`); n != 100<<10 {
		t.Errorf("the refused text should stay in the box to be shortened, has %d characters", n)
	}
	br.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#text').value = ''`))
	// The server refuses them as well when a client skips the page's checks;
	// the browser gets the 413 answer, not a broken connection.
	got := eval[string](br, `(async () => {
		const csrf = document.cookie.split('; ').find(c => c.startsWith('regbot_chat_csrf=')).split('=')[1];
		const body = new FormData();
		body.append('image', new Blob([new Uint8Array(30 * 1024 * 1024)], {type: 'image/jpeg'}), 'big.jpg');
		const r = await fetch('/chat/api/upload', {method: 'POST', body, headers: {'X-CSRF-Token': csrf}});
		return r.status + ' ' + (await r.json()).error;
	})()`)
	if got != "413 图片太大了（最大 20 MB），请压缩后再发送" {
		t.Errorf("server-side 413 in the browser: %q", got)
	}

	// A reload shows the same conversation, images included.
	before := br.log()
	br.reload()
	br.waitJS(`Array.from(document.querySelectorAll('#log .msg.bot img.image')).some(i => i.complete && i.naturalWidth === 40)`)
	after := br.log()
	var kept []string
	for _, l := range before {
		// Notices and refused messages are not part of the conversation.
		if !strings.HasPrefix(l, "notice|") && !strings.HasPrefix(l, "failed|") {
			kept = append(kept, l)
		}
	}
	if strings.Join(after, "\n") != strings.Join(kept, "\n") {
		t.Errorf("after reload:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(kept, "\n"))
	}
	br.screenshot("web-chat-page.png")
}

// TestBrowserCrossOriginPostIsRefused checks the cross-origin guard with
// a real browser: a page on another origin cannot post to the chat even
// with the visitor's cookies.
func TestBrowserCrossOriginPostIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	// Count what reaches the chat's message endpoint, and how it is answered.
	var mu sync.Mutex
	var statuses []int
	mux := http.NewServeMux()
	b.chat.Routes(mux)
	b.server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		mux.ServeHTTP(rec, r)
		if r.Method == "POST" {
			mu.Lock()
			statuses = append(statuses, rec.status)
			mu.Unlock()
		}
	})
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><script>
			fetch(%q, {method: 'POST', mode: 'no-cors', credentials: 'include',
				headers: {'Content-Type': 'text/plain'}, body: '{"text":"转人工"}'})
				.then(() => document.title = 'sent', () => document.title = 'failed');
		</script>`, b.server.URL+"/chat/api/message")
	}))
	t.Cleanup(evil.Close)
	br := newBrowser(t)
	br.open(b.server.URL + "/chat")
	br.idle()
	br.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
	br.waitJS(`document.title === 'sent' || document.title === 'failed'`)
	for _, in := range b.handler.inbounds() {
		if in.Text != "" {
			t.Errorf("cross-origin post reached the handler: %+v", in)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// The greeting (200), then the forged post, refused.
	if len(statuses) != 2 || statuses[0] != 200 || statuses[1] != http.StatusForbidden {
		t.Errorf("POST statuses %v, want [200 403]", statuses)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
