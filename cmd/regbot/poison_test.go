package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestPoisonMessagesOnEveryChannel runs the real binary on PostgreSQL and
// Redis with WeChat, Telegram (webhook), the web chat, the admin API and
// the console, and sends each what used to fail for ever or answer 500: NUL
// and invalid UTF-8 in texts and identities, over-long texts and
// identities. Texts are cleaned, recorded and answered (200); identities
// and paths that cannot be used are refused with 400; over-long texts are
// kept and answered with the plan's sentence.
func TestPoisonMessagesOnEveryChannel(t *testing.T) {
	t.Parallel()
	tg, wx := &fakeBotAPI{}, &fakeWeChat{}
	tgAPI, wxAPI := httptest.NewServer(tg), httptest.NewServer(wx)
	defer tgAPI.Close()
	defer wxAPI.Close()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	const secret, adminToken = "regbot_webhook_secret_0123456789", "admin-token-0123456789"
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
admin:
  token: %s
telegram:
  token: "123456:TEST-token"
  mode: webhook
  webhook_secret: %s
  server_url: %s
wechat:
  app_id: wxregbottest0001
  app_secret: test-secret
  token: %s
  api_base: %s
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), adminToken, secret, tgAPI.URL, wechatToken, wxAPI.URL)
	base, stderr, _ := startServe(t, addr, cfg, "/readyz")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pool, err := postgres.NewPool(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rec := testRecord(t, pool)
	recorded := func(channel, user string) []string {
		t.Helper()
		msgs, err := rec.InboundMessages(ctx, store.Identity{Channel: channel, UserID: user})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.Text)
		}
		return texts
	}
	long := strings.Repeat("字", 2500)

	t.Run("telegram", func(t *testing.T) {
		post := func(updateID int, text string) int {
			body, _ := json.Marshal(map[string]any{"update_id": updateID, "message": map[string]any{
				"message_id": updateID, "date": time.Now().Unix(), "text": text,
				"chat": map[string]any{"id": 5151, "type": "private"},
				"from": map[string]any{"id": 5151, "is_bot": false, "first_name": "考生"}}})
			req, _ := http.NewRequest(http.MethodPost, base+"/telegram", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				runWebhookAnswer(t, tgAPI.URL, answer)
			}
			return resp.StatusCode
		}
		for i, text := range []string{"你好\u0000", "\u0000", long} {
			if code := post(100+i, text); code != http.StatusOK {
				t.Fatalf("update %d: %d, want 200 (not redelivered)\n%s", i, code, stderr.String())
			}
		}
		got := recorded("telegram", "5151")
		if len(got) != 3 || got[0] != "你好\uFFFD" || got[1] != "\uFFFD" || got[2] != long {
			t.Errorf("recorded %q…", trimAll(got))
		}
		if !strings.Contains(tg.sent(), "这条消息太长了（超过 2000 字）") {
			t.Errorf("the long text was not answered with message_too_long:\n%s", tg.sent())
		}
	})

	t.Run("wechat", func(t *testing.T) {
		if status, _ := postWeChat(t, base, strings.Repeat("o", 300), 3001, "你好"); status != http.StatusBadRequest {
			t.Errorf("a 300-byte FromUserName: %d, want 400", status)
		}
		if status, _ := postWeChat(t, base, "oPoison01", 3002, "坏\xff字"); status != http.StatusBadRequest {
			t.Errorf("invalid UTF-8 in the XML: %d, want 400", status)
		}
		status, reply := postWeChat(t, base, "oPoison01", 3003, long)
		if status != http.StatusOK || !strings.Contains(reply, "这条消息太长了") {
			t.Errorf("a 2,500-character text: %d %q, want 200 and message_too_long", status, reply)
		}
		if got := recorded("wechat", "oPoison01"); len(got) != 1 || got[0] != long {
			t.Errorf("recorded %q, want the long text whole", trimAll(got))
		}
	})

	t.Run("web", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Get(base + "/chat")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		u, _ := url.Parse(base + "/chat")
		var csrf string
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "regbot_chat_csrf" {
				csrf = ck.Value
			}
		}
		for i, text := range []string{`"你好\u0000"`, `"\u0000"`, `"` + long + `"`} {
			req, _ := http.NewRequest(http.MethodPost, base+"/chat/api/message",
				strings.NewReader(fmt.Sprintf(`{"msg_id":"w%d","text":%s}`, i, text)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", csrf)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("message %d: %d %s", i, resp.StatusCode, body)
			}
			if i == 2 && !strings.Contains(string(body), "这条消息太长了") {
				t.Errorf("the long text answered %s", body)
			}
		}
		var user string
		if err := conn.QueryRow(ctx, `select user_id from inbound_messages where channel = 'web' limit 1`).Scan(&user); err != nil {
			t.Fatal(err)
		}
		if texts := recorded("web", user); len(texts) != 3 || texts[0] != "你好\uFFFD" || texts[2] != long {
			t.Errorf("recorded %q", trimAll(texts))
		}
	})

	t.Run("admin and console", func(t *testing.T) {
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/admin/api/candidates/x:%00/status", ""},
			{"POST", "/admin/api/candidates/x:%00/status", `{"status":"under_review"}`},
			{"GET", "/admin/api/candidates/x:%ff/status", ""},
			{"GET", "/admin/api/candidates/x:" + strings.Repeat("o", 300) + "/status", ""},
			{"GET", "/admin/api/candidates/x:%00/materials.zip", ""},
			{"GET", "/materials/%00", ""},
			{"GET", "/admin/candidates?q=%00", ""},
			{"GET", "/admin/login?next=%ff", ""},
			{"POST", "/admin/login", "login=a%00&password=b"},
		} {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			if strings.HasPrefix(tc.body, "login") {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %.60s: %d, want 4xx", tc.method, tc.path, resp.StatusCode)
			}
		}
	})
	if strings.Contains(stderr.String(), "panic") {
		t.Errorf("a handler panicked:\n%s", stderr.String())
	}
	// Logs name problems, never what was said or who said it.
	for _, pii := range []string{"oPoison01", "你好", "字字字"} {
		if strings.Contains(stderr.String(), pii) {
			t.Errorf("the log shows %q:\n%s", pii, stderr.String())
		}
	}
}

// trimAll shortens texts for a failure message.
func trimAll(texts []string) []string {
	out := make([]string, len(texts))
	for i, s := range texts {
		if r := []rune(s); len(r) > 20 {
			s = string(r[:20]) + fmt.Sprintf("…(%d)", len(r))
		}
		out[i] = s
	}
	return out
}
