package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"regbot/store/memory"
)

func decode[T any](t *testing.T, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func TestPageSetsSignedCookies(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	res, err := http.Get(b.server.URL + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /chat: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<html lang="zh-CN">`, "<title>互联网营销师报名助手</title>", `name="viewport"`, `accept="image/*"`, `data-max-text="2000"`, `data-max-upload="20971520"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		cookies[c.Name] = c
	}
	id, csrf := cookies[identityCookie], cookies[csrfCookie]
	if id == nil || csrf == nil {
		t.Fatalf("cookies = %v", res.Cookies())
	}
	if !id.HttpOnly || id.SameSite != http.SameSiteLaxMode || id.Path != "/chat" || id.Secure {
		t.Errorf("identity cookie = %+v", id)
	}
	if csrf.HttpOnly {
		t.Error("CSRF cookie must be readable by the page script")
	}
	uid, ok := b.chat.parseIdentity(id.Value)
	if !ok {
		t.Fatalf("identity cookie %q does not verify", id.Value)
	}
	if csrf.Value != b.chat.csrfToken(uid) {
		t.Error("CSRF cookie is not the identity's token")
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		behindProxy bool
		tls         bool
		proto       string
		want        bool
	}{
		{name: "plain", want: false},
		{name: "tls", tls: true, want: true},
		{name: "forwarded proto ignored without proxy", proto: "https", want: false},
		{name: "forwarded proto behind proxy", behindProxy: true, proto: "https", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, Config{BehindProxy: tc.behindProxy})
			req := httptest.NewRequest("GET", "/chat", nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			rec := httptest.NewRecorder()
			mux := http.NewServeMux()
			b.chat.Routes(mux)
			mux.ServeHTTP(rec, req)
			cs := rec.Result().Cookies()
			if len(cs) != 2 {
				t.Fatalf("cookies = %v", cs)
			}
			for _, c := range cs {
				if c.Secure != tc.want {
					t.Errorf("%s Secure = %v, want %v", c.Name, c.Secure, tc.want)
				}
			}
		})
	}
}

func TestTamperedCookieGetsNewIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	if r := c.postJSON("/chat/api/message", `{"msg_id":"m1","text":"你好"}`); r.StatusCode != 200 {
		t.Fatalf("message: %d %s", r.StatusCode, r.body)
	}
	orig := c.cookie(identityCookie)
	id, _, _ := strings.Cut(orig, ".")
	other := newID()
	for name, value := range map[string]string{
		"signature of another id": other + "." + strings.SplitN(orig, ".", 2)[1],
		"flipped signature":       id + "." + flip(strings.SplitN(orig, ".", 2)[1]),
		"no signature":            id,
		"garbage":                 "%%%",
	} {
		t.Run(name, func(t *testing.T) {
			req := c.request("GET", "/chat/api/history", nil)
			req.AddCookie(&http.Cookie{Name: identityCookie, Value: value})
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			h := decode[historyResponse](t, &response{Response: res, body: body})
			if len(h.Messages) != 0 {
				t.Errorf("tampered cookie sees %d messages", len(h.Messages))
			}
			var fresh string
			for _, ck := range res.Cookies() {
				if ck.Name == identityCookie {
					fresh = ck.Value
				}
			}
			newID, ok := b.chat.parseIdentity(fresh)
			if !ok || newID == id || newID == other {
				t.Errorf("want a new valid identity, got %q", fresh)
			}
		})
	}
	// The genuine cookie still sees its conversation.
	h := decode[historyResponse](t, c.do(c.request("GET", "/chat/api/history", nil)))
	if len(h.Messages) != 2 {
		t.Errorf("history = %+v", h.Messages)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	victim := b.newClient(t)
	attacker := b.newClient(t)
	for _, tc := range []struct {
		name   string
		header func(r *http.Request)
		want   int
	}{
		{name: "no header", header: func(r *http.Request) {}, want: 403},
		{name: "wrong header", header: func(r *http.Request) { r.Header.Set(csrfHeader, "x"+victim.cookie(csrfCookie)) }, want: 403},
		{name: "another visitor's token", header: func(r *http.Request) { r.Header.Set(csrfHeader, attacker.cookie(csrfCookie)) }, want: 403},
		{name: "cross-site browser request", header: func(r *http.Request) {
			r.Header.Set(csrfHeader, victim.cookie(csrfCookie))
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, want: 403},
		{name: "foreign origin", header: func(r *http.Request) {
			r.Header.Set(csrfHeader, victim.cookie(csrfCookie))
			r.Header.Set("Origin", "https://evil.example")
		}, want: 403},
		{name: "right token", header: func(r *http.Request) { r.Header.Set(csrfHeader, victim.cookie(csrfCookie)) }, want: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := victim.request("POST", "/chat/api/message", strings.NewReader(`{"text":"你好"}`))
			tc.header(req)
			res := victim.do(req)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.want, res.body)
			}
			if tc.want == 403 && decode[errorResponse](t, res).Error != planText("web_forbidden") {
				t.Errorf("body = %s", res.body)
			}
		})
	}
	if n := len(b.handler.inbounds()); n != 1 {
		t.Errorf("handler ran %d times, want only for the right token", n)
	}
	// Upload is guarded too.
	req := victim.request("POST", "/chat/api/upload", strings.NewReader("x"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if res := victim.do(req); res.StatusCode != 403 {
		t.Errorf("upload without token: %d", res.StatusCode)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{RatePerMinute: 3, BehindProxy: true})
	c := b.newClient(t)
	get := func(ip string) *response {
		req := c.request("GET", "/chat/api/history", nil)
		req.Header.Set("X-Forwarded-For", "10.9.9.9, "+ip)
		return c.do(req)
	}
	for i := range 3 {
		if r := get("203.0.113.7"); r.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, r.StatusCode)
		}
	}
	r := get("203.0.113.7")
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request: %d", r.StatusCode)
	}
	if decode[errorResponse](t, r).Error != planText("web_too_many") || r.Header.Get("Retry-After") != "20" {
		t.Errorf("429 = %s Retry-After %q", r.body, r.Header.Get("Retry-After"))
	}
	if r := get("203.0.113.8"); r.StatusCode != 200 {
		t.Errorf("other IP: %d", r.StatusCode)
	}
	// POSTs draw from the same bucket, before anything else is checked.
	req := c.request("POST", "/chat/api/message", strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set(csrfHeader, c.cookie(csrfCookie))
	if r := c.do(req); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("post: %d", r.StatusCode)
	}
	if n := len(b.handler.inbounds()); n != 0 {
		t.Errorf("handler ran %d times", n)
	}
	b.clock.Advance(20 * time.Second)
	if r := get("203.0.113.7"); r.StatusCode != 200 {
		t.Errorf("after refill: %d", r.StatusCode)
	}
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(0, 0)}
	l := newLimiter(clock.Now)
	ctx := context.Background()
	for i := range 100 {
		l.Allow(ctx, fmt.Sprint("ip", i), 1, 60)
	}
	if l.size() != 100 {
		t.Fatalf("size %d", l.size())
	}
	clock.Advance(2 * time.Minute)
	l.Allow(ctx, "new", 1, 60)
	if l.size() != 1 {
		t.Errorf("after sweep size %d, want 1", l.size())
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		remote, xff string
		proxy       bool
		want        string
	}{
		{name: "direct v4", remote: "198.51.100.4:5555", want: "198.51.100.4"},
		{name: "xff ignored when direct", remote: "198.51.100.4:5555", xff: "1.2.3.4", want: "198.51.100.4"},
		{name: "last xff hop behind proxy", remote: "127.0.0.1:1", xff: "6.6.6.6, 1.2.3.4", proxy: true, want: "1.2.3.4"},
		{name: "bad xff falls back", remote: "127.0.0.1:1", xff: "junk", proxy: true, want: "127.0.0.1"},
		{name: "v6 by /64", remote: "[2001:db8:1:2:3:4:5:6]:443", want: "2001:db8:1:2::/64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Chat{cfg: Config{BehindProxy: tc.proxy}}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := c.clientKey(r); got != tc.want {
				t.Errorf("clientKey = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTextLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	body := func(text string) string {
		j, _ := json.Marshal(map[string]string{"text": text})
		return string(j)
	}
	for _, tc := range []struct {
		name string
		body string
		want int
		msg  string
	}{
		{name: "2000 characters", body: body(strings.Repeat("字", 2000)), want: 200},
		// The Router keeps it and answers the plan's message_too_long.
		{name: "2001 characters", body: body(strings.Repeat("字", 2001)), want: 200},
		{name: "100 KB", body: body(strings.Repeat("a", 100<<10)), want: 413, msg: "消息太长了（最多 2000 字），请分几次发送"},
		{name: "blank", body: body("  \n "), want: 400, msg: planText("web_empty")},
		{name: "nothing", body: `{}`, want: 400, msg: planText("web_empty")},
		{name: "not JSON", body: `text=hi`, want: 400, msg: planText("web_bad_request")},
		{name: "bad msg id", body: `{"msg_id":"a b","text":"hi"}`, want: 400, msg: planText("web_bad_request")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.postJSON("/chat/api/message", tc.body)
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %.200s", r.StatusCode, tc.want, r.body)
			}
			if tc.msg != "" && decode[errorResponse](t, r).Error != tc.msg {
				t.Errorf("error = %s", r.body)
			}
		})
	}
	if n := len(b.handler.inbounds()); n != 2 {
		t.Errorf("handler got %d messages, want 2 (2000 and 2001 characters; the body over the limit is refused)", n)
	}
}

func TestHTMLIsEscapedInJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	j, _ := json.Marshal(map[string]string{"msg_id": "x1", "text": evil})
	r := c.postJSON("/chat/api/message", string(j))
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	hist := c.do(c.request("GET", "/chat/api/history", nil))
	for name, raw := range map[string][]byte{"message": r.body, "history": hist.body} {
		if bytes.ContainsAny(raw, "<>") {
			t.Errorf("%s body has raw < or >: %s", name, raw)
		}
		if !bytes.Contains(raw, []byte(`\u003cscript\u003e`)) {
			t.Errorf("%s body lacks the escaped text: %s", name, raw)
		}
	}
	got := decode[turnResponse](t, r)
	if len(got.Messages) != 1 || got.Messages[0].Text != "收到："+evil {
		t.Errorf("messages = %+v", got.Messages)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", r.Header)
	}
}

func TestConversationAndHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	start := decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"s1","start":true}`))
	if len(start.Messages) != 2 || len(start.Messages[1].Choices) != 2 {
		t.Fatalf("start = %+v", start)
	}
	ch := decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"c1","choice":"yes"}`))
	if len(ch.Messages) != 1 || ch.Messages[0].Text != "您选择了 yes" {
		t.Fatalf("choice = %+v", ch)
	}
	lk := decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"l1","text":"link"}`))
	if lk.Messages[0].Link == nil || lk.Messages[0].Link.URL != "https://example.com/t.zip" {
		t.Errorf("link = %+v", lk.Messages[0])
	}
	if lk.Messages[1].Link != nil || !strings.Contains(lk.Messages[1].Text, "javascript:alert(1)") {
		t.Errorf("unsafe link must become text: %+v", lk.Messages[1])
	}

	hist := decode[historyResponse](t, c.do(c.request("GET", "/chat/api/history", nil)))
	var got []string
	for _, m := range hist.Messages {
		got = append(got, fmt.Sprintf("%d %s %s", m.ID, m.From, strings.SplitN(m.Text, "\n", 2)[0]))
	}
	want := []string{
		"1 bot 您好！我是报名助手。",
		"2 bot 您有五级证书吗？",
		"3 user 是", // the button's label, as the visitor saw it
		"4 bot 您选择了 yes",
		"5 user link",
		"6 bot 模板下载",
		"7 bot 坏链接",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history:\n got %q\nwant %q", got, want)
	}

	ins := b.handler.inbounds()
	uid, _ := b.chat.parseIdentity(c.cookie(identityCookie))
	if ins[0].Event != "subscribe" || ins[1].Choice != "yes" {
		t.Errorf("inbounds = %+v", ins)
	}
	for _, in := range ins {
		if in.Channel != "web" || in.UserID != uid || !strings.HasPrefix(in.MsgID, uid+"/") {
			t.Errorf("inbound identity = %q %q %q", in.Channel, in.UserID, in.MsgID)
		}
	}
}

func TestDoubleSubmitIsHandledOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	first := decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"same-id","text":"张三"}`))
	second := decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"same-id","text":"张三"}`))
	if first.Duplicate || len(first.Messages) != 1 || !second.Duplicate || len(second.Messages) != 0 {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if n := len(b.handler.inbounds()); n != 1 {
		t.Errorf("handler ran %d times", n)
	}
	hist := decode[historyResponse](t, c.do(c.request("GET", "/chat/api/history", nil)))
	if len(hist.Messages) != 2 {
		t.Errorf("history has %d entries, want 2", len(hist.Messages))
	}
	// Another visitor may use the same client id: ids are per visitor.
	other := b.newClient(t)
	if r := decode[turnResponse](t, other.postJSON("/chat/api/message", `{"msg_id":"same-id","text":"李四"}`)); r.Duplicate {
		t.Error("another visitor's message id collided")
	}
}

func TestHandlerErrorsStayPrivate(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	r := c.postJSON("/chat/api/message", `{"text":"boom"}`)
	if r.StatusCode != 500 {
		t.Fatalf("status %d", r.StatusCode)
	}
	e := decode[errorResponse](t, r)
	if e.Error != planText("web_busy") || e.RequestID == "" || bytes.Contains(r.body, []byte("secret")) {
		t.Errorf("body = %s", r.body)
	}
	// A turn that happened but was not fully saved is still shown.
	r = c.postJSON("/chat/api/message", `{"text":"half"}`)
	if got := decode[turnResponse](t, r); r.StatusCode != 200 || len(got.Messages) != 1 || got.Messages[0].Text != "已记录" {
		t.Errorf("half-saved turn: %d %s", r.StatusCode, r.body)
	}
}

// upload posts an image as the page does.
func (c *client) upload(name string, data []byte, msgID string) *response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("msg_id", msgID)
	fw, _ := mw.CreateFormFile("image", name)
	fw.Write(data)
	mw.Close()
	req := c.request("POST", "/chat/api/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set(csrfHeader, c.cookie(csrfCookie))
	return c.do(req)
}

func TestUpload(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	jpg := testJPEG(t, 300, 400)
	r := c.upload(`C:\Users\me\身份证正面.jpg`, jpg, "u1")
	if r.StatusCode != 200 {
		t.Fatalf("upload: %d %s", r.StatusCode, r.body)
	}
	got := decode[turnResponse](t, r)
	if len(got.Messages) != 2 || got.Messages[1].Image == "" {
		t.Fatalf("messages = %+v", got.Messages)
	}
	in := b.handler.inbounds()[0]
	if in.Image == nil || !bytes.Equal(in.Image.Data, jpg) || in.Image.Name != "身份证正面.jpg" || !in.Image.Document {
		t.Errorf("inbound image = %+v", in.Image)
	}

	// The bot's image is served to its visitor only.
	img := c.do(c.request("GET", got.Messages[1].Image, nil))
	if img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/png" || !bytes.Equal(img.body, testPNG()) {
		t.Errorf("image: %d %s", img.StatusCode, img.Header.Get("Content-Type"))
	}
	other := b.newClient(t)
	if r := other.do(other.request("GET", got.Messages[1].Image, nil)); r.StatusCode != 404 {
		t.Errorf("another visitor got the image: %d", r.StatusCode)
	}
	if r := c.do(c.request("GET", "/chat/api/image/1", nil)); r.StatusCode != 404 {
		t.Errorf("entry without image: %d", r.StatusCode)
	}
	hist := decode[historyResponse](t, c.do(c.request("GET", "/chat/api/history", nil)))
	if hist.Messages[0].From != FromUser || hist.Messages[0].Upload != "身份证正面.jpg" {
		t.Errorf("history keeps the upload as %+v", hist.Messages[0])
	}
}

func TestUploadRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	big := make([]byte, 30<<20)
	copy(big, testJPEG(t, 64, 64))
	for _, tc := range []struct {
		name string
		do   func() *response
		want int
		msg  string
	}{
		{name: "30 MB", do: func() *response { return c.upload("big.jpg", big, "b1") }, want: 413, msg: "图片太大了（最大 20 MB），请压缩后再发送"},
		{name: "30 MB chunked", do: func() *response {
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				fw, _ := mw.CreateFormFile("image", "big.jpg")
				fw.Write(big)
				mw.Close()
				pw.Close()
			}()
			req := c.request("POST", "/chat/api/upload", pr)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set(csrfHeader, c.cookie(csrfCookie))
			return c.do(req)
		}, want: 413, msg: "图片太大了（最大 20 MB），请压缩后再发送"},
		{name: "PDF", do: func() *response { return c.upload("证书.pdf", []byte("%PDF-1.4\n1 0 obj"), "p1") }, want: 415, msg: planText("web_not_image")},
		{name: "text named .jpg", do: func() *response { return c.upload("a.jpg", []byte("hello"), "p2") }, want: 415, msg: planText("web_not_image")},
		{name: "empty file", do: func() *response { return c.upload("a.jpg", nil, "p3") }, want: 415, msg: planText("web_not_image")},
		{name: "no file", do: func() *response {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("msg_id", "n1")
			mw.Close()
			req := c.request("POST", "/chat/api/upload", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set(csrfHeader, c.cookie(csrfCookie))
			return c.do(req)
		}, want: 400, msg: planText("web_no_file")},
		{name: "JSON instead of multipart", do: func() *response { return c.postJSON("/chat/api/upload", `{}`) }, want: 400, msg: planText("web_no_file")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			if r.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tc.want, r.body)
			}
			if e := decode[errorResponse](t, r); e.Error != tc.msg {
				t.Errorf("error %q, want %q", e.Error, tc.msg)
			}
		})
	}
	if n := len(b.handler.inbounds()); n != 0 {
		t.Errorf("handler got %d refused uploads", n)
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Path: "/web/chat"})
	for path, want := range map[string]int{
		"/web/chat/static/chat.js":  200,
		"/web/chat/static/chat.css": 200,
		"/web/chat/static/":         404,
		"/web/chat/static/nope.js":  404,
	} {
		res, err := http.Get(b.server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
		if path == "/web/chat/static/chat.js" && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("chat.js served as %q", res.Header.Get("Content-Type"))
		}
	}
}

func TestScriptNeverUsesInnerHTML(t *testing.T) {
	t.Parallel()
	js, err := staticFiles.ReadFile("static/chat.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("chat.js uses %s", bad)
		}
	}
}

// TestSharedRateLimiter: the limit can live in a shared store (store/memory
// here, store/redis in production); when that store fails the chat stays up.
func TestSharedRateLimiter(t *testing.T) {
	t.Parallel()
	shared := memory.New()
	var failing bool
	lim := rateLimiterFunc(func(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
		if failing {
			return false, 0, errors.New("redis: connection refused")
		}
		return shared.Allow(ctx, key, rate, burst)
	})
	chat, err := New(Config{CookieSecret: testSecret, RatePerMinute: 2}, &fakeHandler{}, newTextLogger(io.Discard), WithRateLimiter(lim))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	chat.Routes(mux)
	get := func() int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/chat/api/history", nil))
		return rec.Code
	}
	if a, b, c := get(), get(), get(); a != 200 || b != 200 || c != 429 {
		t.Errorf("statuses %d %d %d, want 200 200 429", a, b, c)
	}
	// Another instance on the same store shares the bucket.
	other, _ := New(Config{CookieSecret: testSecret, RatePerMinute: 2}, &fakeHandler{}, newTextLogger(io.Discard), WithRateLimiter(lim))
	mux2 := http.NewServeMux()
	other.Routes(mux2)
	rec := httptest.NewRecorder()
	mux2.ServeHTTP(rec, httptest.NewRequest("GET", "/chat/api/history", nil))
	if rec.Code != 429 {
		t.Errorf("second instance: %d, want 429", rec.Code)
	}
	failing = true
	if got := get(); got != 200 {
		t.Errorf("limiter down: %d, want 200", got)
	}
}

type rateLimiterFunc func(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error)

func (f rateLimiterFunc) Allow(ctx context.Context, key string, rate float64, burst int) (bool, time.Duration, error) {
	return f(ctx, key, rate, burst)
}
