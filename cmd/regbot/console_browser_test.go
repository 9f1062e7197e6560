package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"regbot/store/storetest"
)

// The staff console end to end: the real binary on PostgreSQL and Redis, a
// candidate on a fake WeChat official account, staff in headless Chromium
// (Debian's chromium; REGBOT_CHROMIUM overrides the path). Screenshots go
// to REGBOT_SCREENSHOT_DIR when set (else the test's temporary directory).

// consoleWeChat is the fake WeChat API of the test: the access token,
// customer-service messages (recorded by recipient), and one image to
// download as media.
type consoleWeChat struct {
	image []byte

	mu   sync.Mutex
	sent map[string][]string // openid → texts, in order
}

func (f *consoleWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/cgi-bin/stable_token", "/cgi-bin/token":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"FAKE_TOKEN","expires_in":7200}`)
	case "/cgi-bin/media/get":
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(f.image)
	case "/cgi-bin/message/custom/send":
		var msg struct {
			ToUser string `json:"touser"`
			Text   struct {
				Content string `json:"content"`
			} `json:"text"`
			MsgMenu struct {
				HeadContent string `json:"head_content"`
			} `json:"msgmenu"`
		}
		json.NewDecoder(r.Body).Decode(&msg)
		f.mu.Lock()
		f.sent[msg.ToUser] = append(f.sent[msg.ToUser], msg.Text.Content+msg.MsgMenu.HeadContent)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}
}

// received returns what was sent to openID by customer-service message.
func (f *consoleWeChat) received(openID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.sent[openID], "\n")
}

// waitFor waits until openID received a message containing every want.
func (f *consoleWeChat) waitFor(t *testing.T, openID string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		got := f.received(openID)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(got, w)
		}
		if ok {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never received %q; got:\n%s", openID, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postWeChatXML posts a signed plaintext message and returns the passive
// reply's content.
func postWeChatXML(t *testing.T, base, from string, msgID int64, inner string) string {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strconv.FormatInt(msgID, 36) + "n"
	parts := []string{wechatToken, ts, nonce}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {hex.EncodeToString(sum[:])}, "openid": {from}}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_regbot]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime>%s<MsgId>%d</MsgId></xml>`, from, ts, inner, msgID)
	resp, err := http.Post(base+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("wechat message: %d %s", resp.StatusCode, buf.String())
	}
	return buf.String()
}

func wechatText(t *testing.T, base, from string, msgID int64, text string) string {
	t.Helper()
	return postWeChatXML(t, base, from, msgID, fmt.Sprintf(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>`, text))
}

func wechatImage(t *testing.T, base, from string, msgID int64) string {
	t.Helper()
	return postWeChatXML(t, base, from, msgID, `<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[]]></PicUrl><MediaId><![CDATA[MEDIA1]]></MediaId>`)
}

// idCardJPEG is an ID-card-sized photo the inspector accepts.
func idCardJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1200, 760))
	for y := range 760 {
		for x := range 1200 {
			v := uint8(200 + (x*7+y*3)%40)
			if (x/40+y/40)%5 == 0 {
				v = 60
			}
			img.Set(x, y, color.RGBA{v, v, uint8(int(v) * 9 / 10), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// staffBrowser is a headless Chromium tab on a phone-sized viewport.
type staffBrowser struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

func newStaffBrowser(t *testing.T) *staffBrowser {
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
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(390, 844))
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	b := &staffBrowser{t: t, ctx: tabCtx}
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
	dialogs := chromedp.Events(tabCtx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, "dialog: "+ev.Message)
			b.mu.Unlock()
			chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.exceptions) > 0 {
			t.Errorf("the console threw, opened dialogs or broke its CSP: %q", b.exceptions)
		}
	})
	return b
}

func (b *staffBrowser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\npage:\n%s", err, b.text())
	}
}

// text is the page's visible text, for failure messages.
func (b *staffBrowser) text() string {
	v, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	return v
}

func (b *staffBrowser) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the expression is truthy, across page loads.
func (b *staffBrowser) waitJS(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %v\npage:\n%s", expr, err, b.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open navigates and waits for the page.
func (b *staffBrowser) open(u string) {
	b.t.Helper()
	b.do(chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

// clickAndLoad clicks the element and waits for the next page to load.
func (b *staffBrowser) clickAndLoad(sel string) {
	b.t.Helper()
	b.eval(`window.__staleMarker = 1; ''`)
	b.clickAttached(sel)
	b.waitJS(`window.__staleMarker === undefined && document.readyState === 'complete'`)
}

// clickAttached clicks the element, querying it again when the page replaced
// it between the query and the click. A click is a query (a node id) and
// then calls on that id (scroll it into view, read its box) before the mouse
// events go to the point found; the inbox rewrites its list when a refresh
// brings a change, so its link can be gone by then, and the browser answers
// "Could not find node with given id". That error comes before any mouse
// event, so nothing was clicked and querying again is safe.
func (b *staffBrowser) clickAttached(sel string) {
	b.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel)))
		if err == nil {
			return
		}
		if !detachedNode(err) || time.Now().After(deadline) {
			b.t.Fatalf("browser: click %s: %v\npage:\n%s", sel, err, b.text())
		}
	}
}

// detachedNode reports whether err is the browser's answer to a call on a
// node that is no longer in the document.
func detachedNode(err error) bool {
	var e *cdproto.Error
	return errors.As(err, &e) && (strings.Contains(e.Message, "Could not find node with given id") ||
		strings.Contains(e.Message, "No node with given id found"))
}

func (b *staffBrowser) screenshot(name string) {
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
	b.t.Logf("screenshot (390-wide phone viewport): %s", path)
}

func jsQuote(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// TestConsoleInTheBrowser walks the staff console scenario.
func TestConsoleInTheBrowser(t *testing.T) {
	t.Parallel()
	fake := &consoleWeChat{image: idCardJPEG(t), sent: map[string][]string{}}
	api := httptest.NewServer(fake)
	defer api.Close()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`http:
  listen: %s
privacy:
  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=
database:
  url: %s
redis:
  url: %s
  prefix: %q
blob:
  dir: %s
  encryption_key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
web:
  disabled: true
wechat:
  app_id: wxregbottest0001
  app_secret: test-secret
  token: %s
  api_base: %s
admin:
  console:
    poll_every: 1s
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), wechatToken, api.URL)
	cfgPath := writeConfig(t, cfg)
	base, stderr, _ := startServe(t, addr, cfg, "/readyz")
	add := exec.Command(regbotBin, "user", "add", "--config", cfgPath, "--login", "wang", "--name", "王老师", "--role", "admin")
	add.Stdin = strings.NewReader("a long staff password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}

	// Seed: one candidate with an uploaded ID card, one who only said hello.
	const zhang, newcomer, asker = "oZhangSan0001", "oNewcomer0002", "oAsker0000003"
	var msgID int64 = 5000
	next := func() int64 { msgID++; return msgID }
	for _, text := range []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否",
		"张三", "11010519491231002X", "2035-01-01", "13800000001"} {
		wechatText(t, base, zhang, next(), text)
	}
	wechatImage(t, base, zhang, next())
	wechatText(t, base, newcomer, next(), "你好")

	b := newStaffBrowser(t)
	// Sign in: the console sends an unsigned visitor to the sign-in page.
	b.open(base + "/admin/")
	b.waitJS(`location.pathname === '/admin/signin'`)
	b.do(chromedp.SendKeys(chromedp.CSS("#login"), "wang"), chromedp.SendKeys(chromedp.CSS("#password"), "a long staff password"))
	b.screenshot("console-signin.png")
	b.clickAndLoad("#signin")
	b.waitJS(`location.pathname === '/admin/' && !!document.querySelector('#total')`)

	// The dashboard shows the seeded numbers.
	if got := b.eval(`document.querySelector('#total').textContent + '/' + document.querySelector('#waiting').textContent`); got != "2/0" {
		t.Fatalf("dashboard applications/waiting = %s, want 2/0\n%s", got, b.text())
	}
	bars := b.eval(`Array.from(document.querySelectorAll('.bar-row')).map(g => g.dataset.label + '=' + g.dataset.n).join(',')`)
	for _, want := range []string{"收集资料中=2", "条件 C2=1", "未确定=1"} {
		if !strings.Contains(bars, want) {
			t.Errorf("dashboard bars %s lack %s", bars, want)
		}
	}
	b.screenshot("console-dashboard.png")

	// Admins have the queue's own dashboard (River UI) from the menu; it
	// renders under the console's session (and without breaking its CSP).
	b.clickAndLoad(`nav a[href="/admin/river/"]`)
	b.waitJS(`location.pathname.startsWith('/admin/river/') && document.body.innerText.includes('Pause live updates')`)
	b.screenshot("console-queue.png")
	b.open(base + "/admin/statuses")
	b.waitJS(`!!document.querySelector('#import-form') && document.querySelector('#dry-run').checked`)
	b.screenshot("console-statuses.png")

	// The inbox, open before the ticket exists.
	b.open(base + "/admin/tickets")
	b.waitJS(`!!document.querySelector('#inbox')`)
	b.eval(`window.__sameInbox = 'yes'; ''`)
	wechatText(t, base, asker, next(), "你好")
	reply := wechatText(t, base, asker, next(), "转人工")
	told := reply + fake.received(asker)
	i := strings.Index(told, "工单号 ")
	if i < 0 {
		t.Fatalf("转人工 got no ticket number: %q", told)
	}
	code := told[i+len("工单号 ") : i+len("工单号 ")+6]
	// It appears without a reload.
	b.waitJS(`!!document.querySelector('[data-ticket=` + jsQuote(code) + `]')`)
	if b.eval(`window.__sameInbox || 'reloaded'`) != "yes" {
		t.Fatal("the inbox reloaded the page to show the new ticket")
	}
	// A refresh that brings no change leaves the list alone: the ticket
	// focused from the keyboard keeps the focus.
	row := `document.querySelector('[data-ticket=` + jsQuote(code) + `] a')`
	b.eval(row + `.focus(); window.__polled = document.querySelector('#inbox').dataset.refreshed || ''; ''`)
	b.waitJS(`(document.querySelector('#inbox').dataset.refreshed || '') !== window.__polled`)
	if got := b.eval(`document.activeElement === ` + row + ` ? 'kept' : 'lost to ' + document.activeElement.tagName`); got != "kept" {
		t.Errorf("an unchanged inbox refresh took the focus from the ticket: %s", got)
	}
	b.screenshot("console-inbox.png")

	// Claim, reply: the candidate's WeChat receives it.
	b.clickAndLoad(`[data-ticket="` + code + `"] a`)
	b.clickAndLoad("#claim")
	b.waitJS(`document.querySelector('#assignee').textContent.includes('wang')`)
	const answer = "您好，我是王老师。请问您想咨询什么？"
	b.do(chromedp.SendKeys(chromedp.CSS("#reply-text"), answer))
	b.clickAndLoad("#reply")
	fake.waitFor(t, asker, "【工作人员回复】", answer)
	// The candidate answers; it goes to the ticket, not the dialog.
	if got := wechatText(t, base, asker, next(), "我想问报名费多少钱"); strings.Contains(got, "工作经历") {
		t.Fatalf("the dialog answered a message meant for staff: %q", got)
	}
	b.open(b.eval(`location.href`))
	b.waitJS(`document.querySelector('#thread').textContent.includes('我想问报名费多少钱')`)
	// The ticket shows the reply delivered, and WeChat's window open.
	b.waitJS(`!!document.querySelector('#replies [data-state="sent"]') && document.querySelector('#reply-window').dataset.open === 'true'`)
	b.screenshot("console-ticket.png")
	// Close: the candidate is back with the bot, at the question where they left.
	b.clickAndLoad("#close")
	b.waitJS(`document.querySelector('#ticket-state').textContent.includes('已关闭')`)
	fake.waitFor(t, asker, "工作人员已结束本次人工服务（工单号 "+code+"）")
	if got := wechatText(t, base, asker, next(), "否") + fake.received(asker); !strings.Contains(got, "学校") {
		t.Fatalf("after close the answer did not go to the dialog (the next question is about school): %q", got)
	}

	// Find a candidate by mobile; open a material preview.
	b.open(base + "/admin/candidates")
	b.do(chromedp.SendKeys(chromedp.CSS("#q"), "13800000001"))
	b.clickAndLoad("#search")
	if got := b.eval(`document.querySelector('#result-count').textContent`); !strings.Contains(got, "共 1 条") {
		t.Fatalf("search by mobile: %s\n%s", got, b.text())
	}
	if got := b.eval(`document.querySelector('#candidate-list').textContent`); !strings.Contains(got, "张三") || !strings.Contains(got, "138****0001") {
		t.Fatalf("search result: %s", got)
	}
	b.screenshot("console-candidates.png")
	b.clickAndLoad(`#candidate-list a`)
	b.waitJS(`(() => { const i = document.querySelector('[data-material="id_card_front"] img.preview'); return i && i.complete && i.naturalWidth === 1200; })()`)
	b.screenshot("console-candidate.png")

	// Reject it with a reason: the candidate is told and asked for it again.
	b.do(chromedp.Click(chromedp.CSS(`[data-material="id_card_front"] details.reject summary`)))
	b.do(chromedp.SetValue(chromedp.CSS(`[data-material="id_card_front"] select[name="reason"]`), "照片有反光或阴影"))
	b.clickAndLoad(`[data-material="id_card_front"] .reject-submit`)
	b.waitJS(`document.querySelector('[data-material="id_card_front"] .review').textContent.includes('已退回')`)
	fake.waitFor(t, zhang, "照片有反光或阴影", "请拍摄并发送身份证人像面")
	b.screenshot("console-rejected.png")

	// Sign out.
	b.clickAndLoad("#signout")
	b.waitJS(`location.pathname === '/admin/signin' && document.body.textContent.includes('您已安全退出')`)
	b.open(base + "/admin/candidates")
	b.waitJS(`location.pathname === '/admin/signin'`)
	b.screenshot("console-signed-out.png")
	if strings.Contains(stderr.String(), "13800000001") || strings.Contains(stderr.String(), "11010519491231002X") {
		t.Errorf("the log names a mobile or an ID number:\n%s", stderr.String())
	}
}
