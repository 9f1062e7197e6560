package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store/storetest"
)

// holdingAPI is a fake WeChat API and a fake Telegram Bot API in one
// server, speaking their wire formats. It counts the sends it acknowledged
// per user, and on hold it leaves sends unanswered: a send is acknowledged
// only if it is answered while its client is still there.
type holdingAPI struct {
	mu    sync.Mutex
	acked map[string]int // user → sends acknowledged
	held  int            // sends waiting unanswered
	hold  chan struct{}  // closed: answer; open: wait
}

func newHoldingAPI() *holdingAPI {
	h := &holdingAPI{acked: map[string]int{}, hold: make(chan struct{})}
	close(h.hold)
	return h
}

// holdSends makes the next sends wait until release.
func (h *holdingAPI) holdSends() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hold = make(chan struct{})
}

func (h *holdingAPI) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.hold:
	default:
		close(h.hold)
	}
}

func (h *holdingAPI) heldSends() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held
}

func (h *holdingAPI) ackedBy(user string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.acked[user]
}

func (h *holdingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var user, answer string
	switch {
	case r.URL.Path == "/cgi-bin/stable_token" || r.URL.Path == "/cgi-bin/token":
		io.WriteString(w, `{"access_token":"FAKE_TOKEN","expires_in":7200}`)
		return
	case r.URL.Path == "/cgi-bin/message/custom/send":
		body, _ := io.ReadAll(r.Body)
		s := string(body)
		if i := strings.Index(s, `"touser":"`); i >= 0 {
			user = "wechat:" + s[i+10:i+10+strings.Index(s[i+10:], `"`)]
		}
		answer = `{"errcode":0,"errmsg":"ok"}`
	case strings.HasSuffix(r.URL.Path, "/sendMessage") || strings.HasSuffix(r.URL.Path, "/sendPhoto"):
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			r.ParseForm()
		}
		// Read the body to its end: only then does the server watch the
		// connection and cancel the request's context when the client dies.
		io.Copy(io.Discard, r.Body)
		chat := r.FormValue("chat_id")
		user = "telegram:" + chat
		answer = fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%s,"type":"private"},"text":"ok"}}`,
			time.Now().UnixNano()%1000000, time.Now().Unix(), chat)
	case strings.HasPrefix(r.URL.Path, "/cgi-bin/"):
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		return
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
		return
	}
	h.mu.Lock()
	hold := h.hold
	h.held++
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.held--
		h.mu.Unlock()
	}()
	select {
	case <-hold:
	case <-r.Context().Done():
		return // the client is gone: never acknowledged
	}
	if r.Context().Err() != nil {
		return
	}
	h.mu.Lock()
	h.acked[user]++
	h.mu.Unlock()
	io.WriteString(w, answer)
}

// TestServeOutboxCrash runs the real binary on PostgreSQL and Redis with
// WeChat and Telegram pointed at local fakes, kills it (SIGKILL) while the
// fakes hold the sends of turns already recorded unanswered, restarts it,
// and checks that every outbox message is delivered, each exactly once:
// the sends each user's fake acknowledged are exactly the sends the record
// says its messages took.
func TestServeOutboxCrash(t *testing.T) {
	t.Parallel()
	api := newHoldingAPI()
	srv := httptest.NewServer(api)
	defer srv.Close()
	defer api.release()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	const secret = "regbot_webhook_secret_0123456789"
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
  join_replies: false    # the rest of each reply through the outbox, which this test kills mid-send
telegram:
  token: "123456:TEST-token"
  mode: webhook
  webhook_secret: %s
  server_url: %s
  webhook_reply: false   # every reply through the outbox, which this test kills mid-send
notify:
  lease: 4s
  send_timeout: 2s
  sweep_interval: 300ms
  retry_backoff: 200ms
  max_retry_wait: 1s
  order_wait: 100ms
  poll_interval: 100ms
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), wechatToken, srv.URL, secret, srv.URL)
	base, stderr, cmd := startServe(t, addr, cfg, "/readyz")

	tgPost := func(base string, chat int64, updateID int, text string) {
		t.Helper()
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"考生"},"text":%q}}`,
			updateID, updateID, time.Now().Unix(), chat, chat, text)
		req, _ := http.NewRequest(http.MethodPost, base+"/telegram", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("telegram update %d: %d\n%s", updateID, resp.StatusCode, stderr.String())
		}
	}
	const users = 4
	wechatUser := func(i int) string { return fmt.Sprintf("oCrashCandidate%02d", i) }
	tgChat := func(i int) int64 { return int64(7000 + i) }
	turns := []string{"你好", "是", "杭州某某电子商务有限公司"}
	turn := func(base string, step int) {
		for i := range users {
			if status, _ := postWeChat(t, base, wechatUser(i), int64(100*i+step+1), turns[step]); status != http.StatusOK {
				t.Fatalf("wechat turn %d of user %d: %d\n%s", step, i, status, stderr.String())
			}
			text := turns[step]
			if step == 0 {
				text = "/start"
			}
			tgPost(base, tgChat(i), 100*i+step+1, text)
		}
	}

	// A first turn each, delivered normally.
	turn(base, 0)
	waitOutbox(t, dbURL, "the first turns' messages sent", func(pending, sent int) bool { return pending == 0 && sent > 0 })

	// Then the platforms stop answering; the next turns are recorded, their
	// sends are under way, and the process dies.
	api.holdSends()
	turn(base, 1)
	turn(base, 2)
	deadline := time.Now().Add(30 * time.Second)
	for api.heldSends() < users && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := api.heldSends(); n < users {
		t.Fatalf("%d sends held, want at least %d before the kill\n%s", n, users, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	pending, _ := outboxCounts(t, dbURL)
	if pending == 0 {
		t.Fatal("nothing was pending at the kill: the test proves nothing")
	}
	api.release()

	// The restarted process finds what the dead one left and delivers it.
	base, stderr, _ = startServe(t, addr, cfg, "/readyz")
	waitOutbox(t, dbURL, "every outbox message sent after the restart", func(pending, _ int) bool { return pending == 0 })
	// Time for a duplicate to show if there were one.
	time.Sleep(time.Second)
	parts := outboxParts(t, dbURL)
	for i := range users {
		for _, user := range []string{"wechat:" + wechatUser(i), "telegram:" + strconv.FormatInt(tgChat(i), 10)} {
			if got, want := api.ackedBy(user), parts[user]; got != want || want == 0 {
				t.Errorf("%s: %d sends acknowledged, the record says its messages took %d", user, got, want)
			}
		}
	}
	if t.Failed() {
		t.Logf("serve log after the restart:\n%s", stderr.String())
	}
}

// outboxCounts returns how many outbox rows are pending and sent.
func outboxCounts(t *testing.T, dbURL string) (pending, sent int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `select count(*) filter (where state = 'pending'), count(*) filter (where state = 'sent') from outbox`).Scan(&pending, &sent); err != nil {
		t.Fatal(err)
	}
	var other int
	if err := conn.QueryRow(ctx, `select count(*) from outbox where state not in ('pending', 'sent')`).Scan(&other); err != nil || other != 0 {
		t.Fatalf("%d outbox rows failed, skipped or cancelled (%v)", other, err)
	}
	return pending, sent
}

// outboxParts returns, per user, how many sends the record says the sent
// outbox rows took.
func outboxParts(t *testing.T, dbURL string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `select channel || ':' || user_id, sum(parts_sent) from outbox where state = 'sent' group by 1`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var user string
		var n int
		if err := rows.Scan(&user, &n); err != nil {
			t.Fatal(err)
		}
		out[user] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitOutbox polls the outbox counts until cond holds.
func waitOutbox(t *testing.T, dbURL, what string, cond func(pending, sent int) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending, sent := outboxCounts(t, dbURL)
		if cond(pending, sent) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %d pending, %d sent", what, pending, sent)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
