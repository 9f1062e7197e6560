package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
)

const (
	testSecret = "test-webhook-secret-0123456789"
	testChat   = int64(42)
)

// testBundle is an adapter wired to a fake Bot API and a fake handler.
type testBundle struct {
	t    *testing.T
	mode string
	api  *fakeAPI
	a    *Adapter
	h    *echoHandler
	reg  *prometheus.Registry
	logs *syncBuffer
	hook *httptest.Server

	mu          sync.Mutex
	unreachable []store.Identity
}

type setupOpts struct {
	handler Handler
	api     *fakeAPI
	cfg     func(*Config)
	noStart bool
	// sizeMatters is Deps.SizeMatters.
	sizeMatters func(string) bool
	// later is Deps.Later.
	later func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error
}

// setup builds an adapter in mode against a fresh fake Bot API (or
// opts.api) and starts it: polling runs until the test ends, a webhook is
// served by an httptest server.
func setup(t *testing.T, mode string, opts *setupOpts) *testBundle {
	t.Helper()
	if opts == nil {
		opts = &setupOpts{}
	}
	b := &testBundle{t: t, mode: mode, api: opts.api, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	if b.api == nil {
		b.api = newFakeAPI(t)
	}
	h := opts.handler
	if h == nil {
		b.h = newEchoHandler()
		h = b.h
	}
	// The tests of the Bot API path send every reply by the API; the
	// webhook reply (the default in webhook mode) has tests of its own.
	cfg := Config{Token: b.api.token, Mode: mode, WebhookSecret: testSecret, ServerURL: b.api.srv.URL, PollTimeout: 2 * time.Second,
		WebhookReply: new(false)}
	if opts.cfg != nil {
		opts.cfg(&cfg)
	}
	log := slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, h, Deps{Unreachable: b.markUnreachable, Registerer: b.reg, SizeMatters: opts.sizeMatters, Later: opts.later}, log)
	if err != nil {
		t.Fatal(err)
	}
	a.turnRetries = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
	b.a = a
	if mode == ModeWebhook {
		b.hook = httptest.NewServer(a)
		t.Cleanup(b.hook.Close)
	}
	if !opts.noStart {
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Stop)
	}
	t.Cleanup(func() {
		if tok := b.api.token; strings.Contains(b.logs.String(), tok) {
			t.Errorf("the bot token appears in the logs:\n%s", b.logs.String())
		}
	})
	return b
}

func (b *testBundle) markUnreachable(_ context.Context, id store.Identity) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unreachable = append(b.unreachable, id)
	return nil
}

func (b *testBundle) unreachableIDs() []store.Identity {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]store.Identity(nil), b.unreachable...)
}

// deliver hands an update to the adapter the way the mode receives it. In
// webhook mode it returns once the update is handled; in polling mode once
// it is queued.
func (b *testBundle) deliver(update map[string]any) {
	b.t.Helper()
	if b.mode == ModePolling {
		b.api.queue(update)
		return
	}
	body, err := json.Marshal(update)
	if err != nil {
		b.t.Fatal(err)
	}
	resp := b.post(body, testSecret)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

// post sends a raw webhook request.
func (b *testBundle) post(body []byte, secret string) *http.Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.hook.URL, bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(secretHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// waitSent waits until at least n messages were sent and returns them all.
func (b *testBundle) waitSent(n int) []apiCall {
	b.t.Helper()
	b.api.waitFor(fmt.Sprintf("%d sent messages", n), func() bool { return len(b.api.sent()) >= n })
	return b.api.sent()
}

// failures reads the send-failure counter for method and reason.
func (b *testBundle) failures(method, reason string) float64 {
	b.t.Helper()
	mfs, err := b.reg.Gather()
	if err != nil {
		b.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "regbot_telegram_send_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] == method && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// echoHandler stands in for the Router: it drops message ids it has seen
// (bot.ErrDuplicate) and answers each kind of message recognisably.
type echoHandler struct {
	mu   sync.Mutex
	seen map[string]bool
	got  []dialogs.Inbound
	dups int
	// delay, when set, makes the handler slow for some messages.
	delay func(in dialogs.Inbound) time.Duration
	// reply, when set, replaces the echo.
	reply func(in dialogs.Inbound) (dialogs.Result, error)
}

func newEchoHandler() *echoHandler { return &echoHandler{seen: map[string]bool{}} }

var echoChoices = []dialogs.Choice{{ID: "a", Label: "甲"}, {ID: "b", Label: "乙"}}

func (h *echoHandler) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	h.mu.Lock()
	if in.MsgID != "" && h.seen[in.MsgID] {
		h.dups++
		h.mu.Unlock()
		return dialogs.Result{}, bot.ErrDuplicate
	}
	h.seen[in.MsgID] = true
	h.got = append(h.got, in)
	delay, reply := h.delay, h.reply
	h.mu.Unlock()
	if delay != nil {
		time.Sleep(delay(in))
	}
	if reply != nil {
		res, err := reply(in)
		if err != nil && len(res.Messages) == 0 {
			// Like the Router: a failed turn's message id is forgotten.
			h.mu.Lock()
			delete(h.seen, in.MsgID)
			h.mu.Unlock()
		}
		return res, err
	}
	var text string
	var choices []dialogs.Choice
	switch {
	case in.Event == "subscribe":
		text, choices = "欢迎！请选择：", echoChoices
	case in.Choice != "":
		text = "你选了 " + in.Choice
	case in.Image != nil:
		text = fmt.Sprintf("收到图片 %s %d 字节 document=%v", in.Image.Name, len(in.Image.Data), in.Image.Document)
	case in.Other != "":
		text = "暂不支持：" + in.Other
	default:
		text = "你说：" + in.Text
	}
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: text, Choices: choices}}}, nil
}

func (h *echoHandler) inbounds() []dialogs.Inbound {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]dialogs.Inbound(nil), h.got...)
}

func (h *echoHandler) duplicates() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dups
}

// Update builders, in the Bot API's JSON.

func message(updateID, chat int64, fields map[string]any) map[string]any {
	m := map[string]any{
		"message_id": updateID,
		"date":       1767225600,
		"chat":       map[string]any{"id": chat, "type": "private", "first_name": "小王"},
		"from":       map[string]any{"id": chat, "is_bot": false, "first_name": "小王"},
	}
	for k, v := range fields {
		m[k] = v
	}
	return map[string]any{"update_id": updateID, "message": m}
}

func textUpdate(updateID, chat int64, text string) map[string]any {
	return message(updateID, chat, map[string]any{"text": text})
}

func callbackUpdate(updateID, chat int64, data string, msgID int, msgText string, buttons [][]inlineButton) map[string]any {
	return map[string]any{"update_id": updateID, "callback_query": map[string]any{
		"id":            fmt.Sprintf("cb-%d", updateID),
		"from":          map[string]any{"id": chat, "is_bot": false, "first_name": "小王"},
		"chat_instance": "ci-1",
		"data":          data,
		"message": map[string]any{
			"message_id":   msgID,
			"date":         1767225600,
			"chat":         map[string]any{"id": chat, "type": "private"},
			"text":         msgText,
			"reply_markup": inlineKeyboard{InlineKeyboard: buttons},
		},
	}}
}

// keyboardOf decodes a sent message's reply_markup.
func keyboardOf(t *testing.T, c apiCall) inlineKeyboard {
	t.Helper()
	var kb inlineKeyboard
	raw, ok := c.Fields["reply_markup"]
	if !ok {
		return kb
	}
	if err := json.Unmarshal([]byte(raw), &kb); err != nil {
		t.Fatalf("reply_markup %q: %v", raw, err)
	}
	return kb
}

// textOf is a sent message's text or caption.
func textOf(c apiCall) string {
	if c.Method == "sendPhoto" {
		return c.Fields["caption"]
	}
	return c.Fields["text"]
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (log handlers).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// modes runs fn as a parallel subtest in both modes.
func modes(t *testing.T, fn func(t *testing.T, mode string)) {
	for _, mode := range []string{ModeWebhook, ModePolling} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			fn(t, mode)
		})
	}
}

// planText is the default plan's text of key with its placeholders filled:
// what the adapter says.
func planText(key string, kv ...string) string {
	p, err := plans.Default()
	if err != nil {
		panic(err)
	}
	return dialogs.Fill(p.Texts[key], kv...)
}
