package wechat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
)

const (
	testToken  = "regbotTestToken42"
	testAESKey = "kRnE6vXbUfU1o2B0cE5Ng9Wl3pQ7sT4yZaHjDmCxLvA" // 43 characters
	testAppID  = "wx0123456789abcdef"
)

// fakeHandler stands in for bot.Router: it drops message ids it has seen
// with bot.ErrDuplicate, as the Router does, and records every turn.
type fakeHandler struct {
	mu    sync.Mutex
	seen  map[string]bool
	turns []dialogs.Inbound
	dups  int
	delay time.Duration
	reply func(in dialogs.Inbound) (dialogs.Result, error)
}

func (h *fakeHandler) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	h.mu.Lock()
	if h.seen == nil {
		h.seen = map[string]bool{}
	}
	if h.seen[in.MsgID] {
		h.dups++
		h.mu.Unlock()
		return dialogs.Result{}, bot.ErrDuplicate
	}
	h.seen[in.MsgID] = true
	h.turns = append(h.turns, in)
	delay, reply := h.delay, h.reply
	h.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return dialogs.Result{}, ctx.Err()
		}
	}
	if reply != nil {
		return reply(in)
	}
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到：" + in.Text}}}, nil
}

func (h *fakeHandler) turnCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.turns)
}

func (h *fakeHandler) duplicates() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dups
}

func (h *fakeHandler) turn(i int) dialogs.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.turns[i]
}

// testBundle is an adapter behind a real HTTP server, on real Redis under a
// key prefix of its own, talking to the fake API.
type testBundle struct {
	a    *Adapter
	h    *fakeHandler
	cfg  Config
	srv  *httptest.Server
	reg  *prometheus.Registry
	rdb  redis.UniversalClient
	logs *syncBuffer
	now  func() time.Time
}

type setupOpts struct {
	cfg    func(*Config)
	deps   func(*Deps)
	memory bool // no Redis: the embedded mode
	// handler replaces the fake handler (the real Router).
	handler Handler
}

func testConfig() Config {
	return Config{
		AppID: testAppID, AppSecret: "test-secret-value", Token: testToken, EncodingAESKey: testAESKey,
		MenuCommands: map[string]string{"START": "开始报名", "PROGRESS": "进度", "HUMAN": "转人工"},
		Menu: []MenuButton{
			{Name: "报名", SubButtons: []MenuButton{{Name: "开始报名", Key: "START"}, {Name: "我的进度", Key: "PROGRESS"}}},
			{Name: "转人工", Key: "HUMAN"},
			{Name: "官网", URL: "https://example.com/exam"},
		},
		Templates: map[string]TemplateConfig{
			FallbackTemplate: {ID: "TPL-FALLBACK", URL: "https://example.com/open",
				Fields: map[string]string{"thing1": "{text}", "time2": "{time}"}},
		},
	}
}

// testRedis returns a client and a key prefix of the test's own, whose keys
// are deleted at cleanup.
func testRedis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at 127.0.0.1:6379 is required: %v", err)
	}
	prefix := "regbot:test:wechat:" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

func setup(t testing.TB, opts setupOpts) *testBundle {
	t.Helper()
	b := &testBundle{h: &fakeHandler{}, cfg: testConfig(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	if opts.cfg != nil {
		opts.cfg(&b.cfg)
	}
	deps := Deps{Registerer: b.reg}
	if !opts.memory {
		deps.Redis, deps.KeyPrefix = testRedis(t)
		b.rdb = deps.Redis
	}
	if opts.deps != nil {
		opts.deps(&deps)
	}
	b.now = deps.Now
	if b.now == nil {
		b.now = time.Now
	}
	log := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var h Handler = b.h
	if opts.handler != nil {
		h = opts.handler
	}
	a, err := New(b.cfg, h, deps, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.a = a
	mux := http.NewServeMux()
	a.Routes(mux)
	b.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		b.srv.Close()
		a.Stop()
		if s := b.logs.String(); strings.Contains(s, "access_token=T") || strings.Contains(s, "test-secret-value") {
			t.Errorf("logs hold a credential:\n%s", s)
		}
	})
	return b
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// request is one webhook POST as WeChat would make it.
type request struct {
	xml   string    // the message
	mode  string    // "" plaintext, "aes" safe, "compat" compatible
	at    time.Time // timestamp (zero: the bundle's now)
	nonce string
	// tamper hooks change the signed request before it is sent.
	badSignature, badMsgSignature bool
	appID                         string // encrypt for another AppID
	body                          []byte // raw body instead of xml
	final                         []byte // the body as sent, after encryption
}

// post sends r to the webhook and returns the response and its body.
func (b *testBundle) post(t testing.TB, r request) (*http.Response, string) {
	t.Helper()
	req := b.newRequest(t, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *testBundle) newRequest(t testing.TB, r request) *http.Request {
	t.Helper()
	at := r.at
	if at.IsZero() {
		at = b.now()
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := r.nonce
	if nonce == "" {
		nonce = randomHex(5)
	}
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature(b.cfg.Token, ts, nonce)}, "openid": {"o-test"}}
	if r.badSignature {
		q.Set("signature", util.Signature("wrong-token", ts, nonce))
	}
	body := []byte(r.xml)
	if r.body != nil {
		body = r.body
	}
	if r.mode == "aes" || r.mode == "compat" {
		appID := cmpOr(r.appID, b.cfg.AppID)
		random := make([]byte, 16)
		_, _ = rand.Read(random)
		enc, err := util.EncryptMsg(random, body, appID, b.cfg.EncodingAESKey)
		if err != nil {
			t.Fatal(err)
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(b.cfg.Token, ts, nonce, string(enc)))
		if r.badMsgSignature {
			q.Set("msg_signature", util.Signature(b.cfg.Token, ts, nonce, string(enc)+"x"))
		}
		if r.mode == "aes" {
			body = []byte("<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>")
		} else {
			// Compatible mode: the plaintext fields and the ciphertext.
			body = []byte(strings.Replace(r.xml, "</xml>", "<Encrypt><![CDATA["+string(enc)+"]]></Encrypt></xml>", 1))
		}
	}
	if r.final != nil {
		body = r.final
	}
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+b.a.cfg.Path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml")
	return req
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// textXML is a text message as WeChat posts it.
func textXML(from string, msgID int64, content string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`,
		from, time.Now().Unix(), content, msgID)
}

// imageXML is an image message.
func imageXML(from string, msgID int64, mediaID, picURL string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[%s]]></PicUrl><MediaId><![CDATA[%s]]></MediaId><MsgId>%d</MsgId></xml>`,
		from, time.Now().Unix(), picURL, mediaID, msgID)
}

// eventXML is an event push.
func eventXML(from string, createTime int64, event, key string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event><EventKey><![CDATA[%s]]></EventKey></xml>`,
		from, createTime, event, key)
}

// kindXML is a message of any type with no content of note.
func kindXML(from string, msgID int64, kind, extra string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[%s]]></MsgType>%s<MsgId>%d</MsgId></xml>`,
		from, time.Now().Unix(), kind, extra, msgID)
}

// passiveText parses a plaintext passive reply and returns its content,
// checking it is addressed back to the candidate.
func passiveText(t testing.TB, body, wantTo string) string {
	t.Helper()
	var m struct {
		ToUserName   string `xml:"ToUserName"`
		FromUserName string `xml:"FromUserName"`
		MsgType      string `xml:"MsgType"`
		Content      string `xml:"Content"`
	}
	if err := xml.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("passive reply %q: %v", body, err)
	}
	if m.ToUserName != wantTo || m.FromUserName != "gh_test" || m.MsgType != "text" {
		t.Fatalf("passive reply addressed %q→%q type %q, want gh_test→%q text", m.FromUserName, m.ToUserName, m.MsgType, wantTo)
	}
	return m.Content
}

// decryptReply checks and decrypts a safe-mode passive reply.
func decryptReply(t testing.TB, b *testBundle, body string) string {
	t.Helper()
	var env message.ResponseEncryptedXMLMsg
	if err := xml.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("encrypted reply %q: %v", body, err)
	}
	want := util.Signature(b.cfg.Token, strconv.FormatInt(env.Timestamp, 10), env.Nonce, env.EncryptedMsg)
	if env.MsgSignature != want {
		t.Fatalf("reply MsgSignature %s, want %s", env.MsgSignature, want)
	}
	_, plain, err := util.DecryptMsg(b.cfg.AppID, env.EncryptedMsg, b.cfg.EncodingAESKey)
	if err != nil {
		t.Fatalf("decrypt reply: %v", err)
	}
	return string(plain)
}

// customerBody decodes a recorded customer-service message.
type customerBody struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image *struct {
		MediaID string `json:"media_id"`
	} `json:"image"`
	Msgmenu *struct {
		HeadContent string `json:"head_content"`
		List        []struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		} `json:"list"`
		TailContent string `json:"tail_content"`
	} `json:"msgmenu"`
}

func decodeCustomer(t testing.TB, c apiCall) customerBody {
	t.Helper()
	var m customerBody
	if err := json.Unmarshal(c.Body, &m); err != nil {
		t.Fatalf("customer message %s: %v", c.Body, err)
	}
	return m
}

// counterValue reads a counter (prometheus/testutil needs a module this
// repository does not carry).
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// planText is the default plan's text of key: what the adapter says.
func planText(key string) string {
	p, err := plans.Default()
	if err != nil {
		panic(err)
	}
	return p.Texts[key]
}
