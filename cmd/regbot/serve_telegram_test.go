package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"regbot/bot/telegram/telegramtest"
	"regbot/store/storetest"
)

// runWebhookAnswer does what Telegram does with a webhook's answer: a body
// naming a method (the turn's reply, telegram.webhook_reply) is that Bot API
// call, made here on the fake at apiURL as a form like the client's.
func runWebhookAnswer(t *testing.T, apiURL string, body []byte) {
	t.Helper()
	runWebhookAnswerAs(t, apiURL, "123456:TEST-token", body)
}

// runWebhookAnswerAs is runWebhookAnswer for the bot with token.
func runWebhookAnswerAs(t *testing.T, apiURL, token string, body []byte) {
	t.Helper()
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	var call map[string]any
	if err := json.Unmarshal(body, &call); err != nil {
		t.Fatalf("webhook answer %q: %v", body, err)
	}
	method, _ := call["method"].(string)
	if method == "" {
		t.Fatalf("webhook answer %q names no method", body)
	}
	delete(call, "method")
	form := url.Values{}
	for k, v := range call {
		if s, ok := v.(string); ok {
			form.Set(k, s)
			continue
		}
		b, _ := json.Marshal(v)
		form.Set(k, string(b))
	}
	resp, err := http.PostForm(apiURL+"/bot"+token+"/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// fakeBotAPI answers the Bot API methods a running serve calls and records
// the texts it sends.
type fakeBotAPI struct {
	mu    sync.Mutex
	texts []string
}

func (f *fakeBotAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		r.ParseForm()
	}
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "sendMessage":
		f.mu.Lock()
		f.texts = append(f.texts, r.FormValue("text"))
		f.mu.Unlock()
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":4242,"type":"private"},"text":"ok"}}`, time.Now().UnixNano()%100000, time.Now().Unix())
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"regbot","username":"regbot_test_bot"}}`)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

func (f *fakeBotAPI) sent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.texts, "\n---\n")
}

// TestServeTelegramWebhook runs the real binary with the Telegram channel in
// webhook mode against a local fake Bot API: a wrong secret gets 401, a
// conversation's updates get answers, and a repeated update_id is one turn.
func TestServeTelegramWebhook(t *testing.T) {
	t.Parallel()
	fake := &fakeBotAPI{}
	api := httptest.NewServer(fake)
	defer api.Close()
	addr := freeAddr(t)
	const secret = "regbot_webhook_secret_0123456789"
	cfg := fmt.Sprintf(`http:
  listen: %s
blob:
  dir: %s
  insecure_no_encryption: true
web:
  disabled: true
telegram:
  token: "123456:TEST-token"
  mode: webhook
  webhook_secret: %s
  server_url: %s
log:
  format: text
`, addr, t.TempDir(), secret, api.URL)
	base, stderr, _ := startServe(t, addr, cfg, "/healthz")
	post := func(updateID int, text, token string) int {
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":4242,"type":"private"},"from":{"id":4242,"is_bot":false,"first_name":"考生"},"text":%q}}`,
			updateID, updateID, time.Now().Unix(), text)
		req, _ := http.NewRequest(http.MethodPost, base+"/telegram", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			runWebhookAnswer(t, api.URL, answer)
		}
		return resp.StatusCode
	}
	if code := post(1, "/start", "wrong-secret-wrong-secret"); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d, want 401", code)
	}
	if s := fake.sent(); s != "" {
		t.Fatalf("a refused update was answered: %s", s)
	}
	for i, text := range []string{"/start", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"} {
		if code := post(10+i, text, secret); code != http.StatusOK {
			t.Fatalf("update %q: %d\n%s", text, code, stderr.String())
		}
	}
	// A reply of one text is the webhook's answer, the others go through
	// the outbox after it: count them once they stopped coming.
	before := settled(func() int { return strings.Count(fake.sent(), "---") })
	if code := post(16, "否", secret); code != http.StatusOK {
		t.Fatalf("repeated update: %d", code)
	}
	time.Sleep(500 * time.Millisecond)
	if after := strings.Count(fake.sent(), "---"); after != before {
		t.Fatalf("a repeated update_id was answered again:\n%s", fake.sent())
	}
	if !strings.Contains(fake.sent(), "第（二）条") {
		t.Fatalf("no message names condition C2 as the guide does (第（二）条):\n%s", fake.sent())
	}
	if strings.Contains(stderr.String(), "TEST-token") {
		t.Errorf("the bot token is in the log:\n%s", stderr.String())
	}
}

// settled returns count() once it has not changed for half a second (at
// most 30 s).
func settled(count func() int) int {
	n, since := count(), time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if m := count(); m != n {
			n, since = m, time.Now()
		} else if time.Since(since) > 500*time.Millisecond {
			break
		}
	}
	return n
}

// TestServeTelegramWebhookRateLimited runs the real binary on PostgreSQL
// and Redis with Telegram in webhook mode. The eligibility result is two
// messages (the result joined with the materials, then the question for the
// name); the first goes by the Bot API while Telegram waits for the
// webhook's answer. When that send gets a 429, the 429 is not waited out:
// the webhook answers 200 without a message at once, and the outbox
// delivers the result and then the question once retry_after has passed,
// each once, in order.
func TestServeTelegramWebhookRateLimited(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t)
	var limited bool
	tg.FailWith(func(s telegramtest.Send) *telegramtest.Error {
		if strings.Contains(s.Text, "第（二）条") && !limited {
			limited = true
			return &telegramtest.Error{Code: 429, Description: "Too Many Requests: retry after 4", RetryAfter: 4}
		}
		return nil
	})
	_, prefix := storetest.RedisPrefix(t)
	addr := freeAddr(t)
	base, stderr, _ := startServe(t, addr, broadcastServeConfig(addr, storetest.PostgresURL(t), prefix, t.TempDir(), tg.URL(), 30), "/readyz")
	post := func(updateID int, text string) (int, []byte, time.Duration) {
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":4343,"type":"private"},"from":{"id":4343,"is_bot":false,"first_name":"考生"},"text":%q}}`,
			updateID, updateID, time.Now().Unix(), text)
		req, _ := http.NewRequest(http.MethodPost, base+"/telegram", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "regbot_webhook_secret_0123456789")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, answer, time.Since(start)
	}
	var resultAnswer []byte
	var resultTook time.Duration
	for i, text := range []string{"/start", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"} {
		code, answer, took := post(100+i, text)
		if code != http.StatusOK {
			t.Fatalf("update %q: %d\n%s", text, code, stderr.String())
		}
		refused := false
		for _, s := range tg.Sends() {
			refused = refused || s.Refused != 0
		}
		if refused && resultAnswer == nil {
			resultAnswer, resultTook = answer, took
			continue
		}
		runWebhookAnswerAs(t, tg.URL(), telegramtest.Token, answer)
	}
	if resultAnswer == nil {
		t.Fatalf("no send was refused; sends:\n%v", tg.Sends())
	}
	if len(bytes.TrimSpace(resultAnswer)) != 0 {
		t.Fatalf("the result's webhook answer is %q, want none (the rest of the reply went to the outbox)", resultAnswer)
	}
	if resultTook > 3*time.Second {
		t.Errorf("the result's webhook answer took %v: the 429's retry_after was waited out", resultTook)
	}
	// The outbox sends the result and the question once the 429 has passed.
	var result, name []int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		result, name = nil, nil
		for i, s := range tg.Sends() {
			if s.Refused != 0 {
				continue
			}
			if strings.Contains(s.Text, "第（二）条") {
				result = append(result, i)
			}
			if strings.Contains(s.Text, "姓名") {
				name = append(name, i)
			}
		}
		if len(result) > 0 && len(name) > 0 {
			break
		}
	}
	sends := tg.Sends()
	if len(result) != 1 || len(name) != 1 || result[0] > name[0] {
		t.Fatalf("delivered result at %v, question for the name at %v; want each once, the result first:\n%v\n%s", result, name, sends, stderr.String())
	}
	refusedAt := slices.IndexFunc(sends, func(s telegramtest.Send) bool { return s.Refused != 0 })
	if wait := sends[result[0]].At.Sub(sends[refusedAt].At); wait < 4*time.Second {
		t.Errorf("the outbox sent the result %v after the 429, want at least its retry_after (4s)", wait)
	}
	if !strings.Contains(sends[result[0]].Text, "材料") {
		t.Errorf("the result %q does not carry the materials joined to it", sends[result[0]].Text)
	}
}
