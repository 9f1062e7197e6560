package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
)

// fakeHandler stands in for bot.Router: it drops repeated message ids like
// the Router does and answers from a small script.
type fakeHandler struct {
	mu   sync.Mutex
	seen map[string]bool
	got  []dialogs.Inbound
}

func (f *fakeHandler) Handle(_ context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.MsgID != "" {
		if f.seen == nil {
			f.seen = map[string]bool{}
		}
		if f.seen[in.MsgID] {
			return dialogs.Result{}, bot.ErrDuplicate
		}
		f.seen[in.MsgID] = true
	}
	f.got = append(f.got, in)
	yesNo := []dialogs.Choice{{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}}
	switch {
	case in.Event == "subscribe":
		return result(dialogs.Outbound{Text: "您好！我是报名助手。"}, dialogs.Outbound{Text: "您有五级证书吗？", Choices: yesNo}), nil
	case in.Choice != "":
		return result(dialogs.Outbound{Text: "您选择了 " + in.Choice, Choices: yesNo}), nil
	case in.Image != nil:
		return result(
			dialogs.Outbound{Text: fmt.Sprintf("收到图片 %d 字节", len(in.Image.Data))},
			dialogs.Outbound{Text: "这是处理后的照片", Image: &dialogs.OutImage{Name: "photo.png", Data: testPNG()}},
		), nil
	case in.Text == "boom":
		return dialogs.Result{}, errors.New("engine: blob store down at /var/secret/path")
	case in.Text == "half":
		return result(dialogs.Outbound{Text: "已记录"}), errors.New("save session: conflict")
	case in.Text == "mobile":
		return result(dialogs.Outbound{Text: "请输入手机号", Ask: &dialogs.Ask{Slot: "mobile", Type: "mobile"}}), nil
	case in.Text == "package":
		return result(dialogs.Outbound{Text: "这是您的材料包：", Link: &dialogs.Link{Label: "材料包下载", URL: "/materials/test-token"}}), nil
	case in.Text == "long":
		var lines []string
		for i := range 20 {
			lines = append(lines, fmt.Sprintf("第 %d 行", i+1))
		}
		return result(dialogs.Outbound{Text: strings.Join(lines, "\n")}), nil
	case in.Text == "link":
		return result(
			dialogs.Outbound{Text: "模板下载", Link: &dialogs.Link{Label: "模板包", URL: "https://example.com/t.zip"}},
			dialogs.Outbound{Text: "坏链接", Link: &dialogs.Link{Label: "点我", URL: "javascript:alert(1)"}},
		), nil
	}
	return result(dialogs.Outbound{Text: "收到：" + in.Text}), nil
}

func (f *fakeHandler) inbounds() []dialogs.Inbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dialogs.Inbound(nil), f.got...)
}

func result(msgs ...dialogs.Outbound) dialogs.Result { return dialogs.Result{Messages: msgs} }

func testPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 40))
	for i := range img.Pix {
		img.Pix[i] = 0xcc
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// testJPEG is a w×h JPEG with a gradient, like a phone photo.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkerJPEG is a w×h JPEG of a checkerboard: a picture unlike testJPEG's
// gradient, for a second material (the same picture is refused for two).
func checkerJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{30, 40, 60, 255}
			if (x/97+y/61)%2 == 0 {
				c = color.RGBA{235, 225, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// planText is the default plan's text of key with its placeholders
// filled: what the page and the API say.
func planText(key string, kv ...string) string {
	p, err := plans.Default()
	if err != nil {
		panic(err)
	}
	return dialogs.Fill(p.Texts[key], kv...)
}

// testSecret is a fixed cookie secret (32 zero-ish bytes, base64).
const testSecret = "cmVnYm90LXdlYi1jaGF0LXRlc3Qtc2VjcmV0LTMyYnl0ZXMh"

// testBundle is what a handler test works with.
type testBundle struct {
	chat    *Chat
	handler *fakeHandler
	server  *httptest.Server
	clock   *testClock
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T, cfg Config) *testBundle {
	t.Helper()
	if cfg.CookieSecret == "" {
		cfg.CookieSecret = testSecret
	}
	clock := &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	h := &fakeHandler{}
	chat, err := New(cfg, h, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testBundle{chat: chat, handler: h, server: srv, clock: clock}
}

// client is a browser-like visitor: a cookie jar, and the CSRF header taken
// from the CSRF cookie as the page's script does.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (b *testBundle) newClient(t *testing.T) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: b.server.URL, http: &http.Client{Jar: jar}}
	res := c.do(c.request("GET", "/chat", nil))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /chat: %d", res.StatusCode)
	}
	return c
}

func (c *client) request(method, path string, body io.Reader) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	return req
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base + "/chat")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &response{Response: res, body: body}
}

// postJSON posts body to path with the CSRF header.
func (c *client) postJSON(path, body string) *response {
	c.t.Helper()
	req := c.request("POST", path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, c.cookie(csrfCookie))
	return c.do(req)
}

type response struct {
	*http.Response
	body []byte
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
