package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"regbot/bot/telegram/telegramtest"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// broadcastServeConfig is a serve config with Telegram (webhook mode,
// against the fake Bot API), PostgreSQL and Redis, quick recovery of a
// dead process's messages (notify.lease; a broadcast delivery's claim lasts
// twice send_timeout) and the broadcast rate given. send_timeout leaves a
// loaded machine room: a send that outlasts it is sent again (the outbox
// is at-least-once), which the tests that count deliveries refuse; at 1 s
// a send that reached the fake 1.1 s after it left was sent twice.
func broadcastServeConfig(addr, dbURL, prefix, blobDir, apiURL string, rate int) string {
	return fmt.Sprintf(`http:
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
telegram:
  token: %q
  mode: webhook
  webhook_secret: regbot_webhook_secret_0123456789
  server_url: %s
notify:
  lease: 6s
  send_timeout: 3s
  sweep_interval: 500ms
  poll_interval: 200ms
broadcasts:
  rates:
    telegram: %d
  poll_interval: 200ms
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, blobDir, telegramtest.Token, apiURL, rate)
}

// seedCandidates migrates the record at dbURL and adds n candidates on
// Telegram, each with a name.
func seedCandidates(t *testing.T, dbURL string, n int) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `
		with c as (insert into candidates (created_at) select now() from generate_series(1, $1) returning id),
		i as (insert into identities (channel, user_id, candidate_id)
		      select 'telegram', (5000000 + id)::text, id from c returning candidate_id)
		insert into applications (candidate_id, plan_id, answers)
		select candidate_id, 'internet-marketing-l4', jsonb_build_object('name', '考生' || candidate_id) from i`, n)
	if err != nil {
		t.Fatal(err)
	}
}

// cli runs one regbot command in this process and returns its stdout; a
// failure fails the test unless wantFail. A command still running after
// two minutes (a watch whose broadcast never finishes) is cancelled and
// fails, with what it printed, instead of holding the suite until its
// timeout.
func cli(t *testing.T, wantFail bool, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, args, strings.NewReader(""), &out, &errOut)
	if ctx.Err() != nil {
		t.Errorf("regbot %s: still running after 2 minutes", strings.Join(args, " "))
	}
	if (code != 0) != wantFail {
		t.Fatalf("regbot %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

var createdID = regexp.MustCompile(`broadcast (\d+) created`)

// TestBroadcastCommandsAndCrash drives a broadcast from the command line
// while the real `regbot serve` sends it through a fake Bot API: a
// mistyped filter is refused with expr's message, a filter matching nobody
// sends nothing, and a serve SIGKILLed mid-broadcast (while Telegram holds
// the sends in flight, so nothing accepted is unrecorded) and started
// again finishes it with every candidate getting the message exactly once;
// status --watch shows a progress bar, report writes the CSV.
func TestBroadcastCommandsAndCrash(t *testing.T) {
	t.Parallel()
	const n = 1500
	tg := telegramtest.New(t)
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	seedCandidates(t, dbURL, n)
	addr := freeAddr(t)
	conf := broadcastServeConfig(addr, dbURL, prefix, t.TempDir(), tg.URL(), 300)
	cfgPath := writeConfig(t, conf)

	_, stderr := cli(t, true, "broadcast", "create", "--config", cfgPath, "--title", "考试", "--filter", `status == 3`, "--text", "x")
	if !strings.Contains(stderr, "mismatched types string and int") {
		t.Fatalf("a mistyped filter: %s", stderr)
	}
	out, _ := cli(t, false, "broadcast", "create", "--config", cfgPath, "--title", "没人", "--filter", `status == "paid"`, "--text", "x")
	if !strings.Contains(out, "matches 0 candidates") || !strings.Contains(out, "warning: the filter matches no candidate") {
		t.Fatalf("create with a filter matching nobody:\n%s", out)
	}
	_, stderr = cli(t, true, "broadcast", "send", "--config", cfgPath, createdID.FindStringSubmatch(out)[1])
	if !strings.Contains(stderr, "matches no candidate: nothing was sent") {
		t.Fatalf("send with a filter matching nobody: %s", stderr)
	}

	_, stderrA, cmdA := startServe(t, addr, conf, "/readyz")
	out, _ = cli(t, false, "broadcast", "create", "--config", cfgPath, "--title", "考试通知",
		"--filter", `status == "collecting"`, "--text", "{name|考生}您好，考试时间已公布。")
	if !strings.Contains(out, fmt.Sprintf("matches %d candidates (telegram %d)", n, n)) {
		t.Fatalf("create:\n%s", out)
	}
	id := createdID.FindStringSubmatch(out)[1]
	out, _ = cli(t, false, "broadcast", "send", "--config", cfgPath, id)
	if !strings.Contains(out, fmt.Sprintf("sending to %d candidates", n)) {
		t.Fatalf("send:\n%s", out)
	}
	waitDelivered(t, tg, n/3)
	tg.Hold()
	waitRecorded(t, tg, cfgPath, id) // the outcomes of what went through are written
	if err := cmdA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmdA.Wait()
	killTime := time.Now()
	tg.Drop() // the sends held when it died never reached Telegram
	killedAt := len(tg.Delivered())
	out, _ = cli(t, false, "broadcast", "status", "--config", cfgPath, id)
	if !strings.Contains(out, "sending") {
		t.Fatalf("status after the kill:\n%s", out)
	}
	_, stderrB, _ := startServe(t, addr, conf, "/readyz")
	out, stderr = cli(t, false, "broadcast", "status", "--config", cfgPath, "--watch", id)
	if t.Failed() {
		t.Logf("first serve:\n%s\nsecond serve:\n%s", tail(stderrA.String()), tail(stderrB.String()))
	}
	if !strings.Contains(out, fmt.Sprintf("sent %d, failed 0", n)) || !strings.Contains(stderr, "broadcast "+id) || !strings.Contains(stderr, "%") {
		t.Fatalf("status --watch:\nstdout: %s\nstderr: %s", out, tail(stderr))
	}
	got := tg.Delivered()
	if len(got) != n {
		t.Fatalf("%d chats got the broadcast, want %d", len(got), n)
	}
	for chat, k := range got {
		if k != 1 {
			var times []string
			for _, s := range tg.Sends() {
				if s.ChatID == chat {
					times = append(times, s.String())
				}
			}
			t.Fatalf("chat %s got it %d times (killed at %s):\n%s\nfirst serve:\n%s\nsecond serve:\n%s", chat, k,
				killTime.Format("15:04:05.000"), strings.Join(times, "\n"), tail(stderrA.String()), tail(stderrB.String()))
		}
	}
	t.Logf("killed after %d of %d delivered", killedAt, n)
	out, _ = cli(t, false, "broadcast", "report", "--config", cfgPath, id)
	if lines := strings.Count(out, "\n"); lines != n+1 || strings.Count(out, ",sent,") != n {
		t.Fatalf("report: %d lines, %d sent", lines, strings.Count(out, ",sent,"))
	}
	out, _ = cli(t, false, "broadcast", "list", "--config", cfgPath)
	if !strings.Contains(out, "考试通知") || !strings.Contains(out, "done") {
		t.Fatalf("list:\n%s", out)
	}
}

// TestBroadcastTwoInstances: two serve processes on one database and one
// Redis share a broadcast; every candidate gets it once.
func TestBroadcastTwoInstances(t *testing.T) {
	t.Parallel()
	const n = 800
	tg := telegramtest.New(t)
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	seedCandidates(t, dbURL, n)
	blobs := t.TempDir()
	addrA, addrB := freeAddr(t), freeAddr(t)
	confA := broadcastServeConfig(addrA, dbURL, prefix, blobs, tg.URL(), 400)
	startServe(t, addrA, confA, "/readyz")
	startServe(t, addrB, broadcastServeConfig(addrB, dbURL, prefix, blobs, tg.URL(), 400), "/readyz")
	cfgPath := writeConfig(t, confA)
	cli(t, false, "segment", "save", "--config", cfgPath, "所有考生", `true`)
	out, _ := cli(t, false, "broadcast", "create", "--config", cfgPath, "--title", "两台", "--segment", "所有考生", "--text", "通知")
	id := createdID.FindStringSubmatch(out)[1]
	out, _ = cli(t, false, "broadcast", "send", "--config", cfgPath, "--wait", id)
	if !strings.Contains(out, fmt.Sprintf("sent %d, failed 0", n)) {
		t.Fatalf("send --wait:\n%s", out)
	}
	got := tg.Delivered()
	if len(got) != n {
		t.Fatalf("%d chats got the broadcast, want %d", len(got), n)
	}
	for chat, k := range got {
		if k != 1 {
			t.Fatalf("chat %s got it %d times", chat, k)
		}
	}
}

var recordedSent = regexp.MustCompile(`sent (\d+),`)

// waitRecorded waits until the broadcast's record holds as sent every
// message the held Telegram took: a serve killed after that has nothing
// delivered but unrecorded (killing it earlier would send those again, the
// at-least-once window no platform without idempotency keys can close).
func waitRecorded(t *testing.T, tg *telegramtest.Server, cfgPath, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		delivered := 0
		for _, k := range tg.Delivered() {
			delivered += k
		}
		out, _ := cli(t, false, "broadcast", "status", "--config", cfgPath, id)
		m := recordedSent.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("broadcast status without a sent count:\n%s", out)
		}
		if sent, _ := strconv.Atoi(m[1]); sent >= delivered {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the record holds %s sent, Telegram took %d", m[1], delivered)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitDelivered(t *testing.T, tg *telegramtest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(tg.Delivered()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d delivered, want %d", len(tg.Delivered()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeWeChatWindow is the WeChat API for a broadcast: customer-service
// messages to OpenIDs starting with "oOut" are refused with 45015 (the
// candidate wrote more than 48 hours ago), template messages are taken.
type fakeWeChatWindow struct {
	mu        sync.Mutex
	custom    map[string]int // OpenID → customer-service messages taken
	templates []string       // template message bodies
}

func (f *fakeWeChatWindow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	var msg struct {
		ToUser string `json:"touser"`
	}
	json.Unmarshal(body, &msg)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cgi-bin/stable_token", "/cgi-bin/token":
		io.WriteString(w, `{"access_token":"FAKE_TOKEN","expires_in":7200}`)
	case "/cgi-bin/message/custom/send":
		if strings.HasPrefix(msg.ToUser, "oOut") {
			io.WriteString(w, `{"errcode":45015,"errmsg":"response out of time limit or subscription is canceled"}`)
			return
		}
		f.custom[msg.ToUser]++
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	case "/cgi-bin/message/template/send":
		f.templates = append(f.templates, string(body))
		io.WriteString(w, `{"errcode":0,"errmsg":"ok","msgid":1}`)
	default:
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}
}

// TestBroadcastWeChatWindow: on WeChat a broadcast goes as a
// customer-service message to candidates within the 48-hour window and as
// the configured broadcast template to the others, each once.
func TestBroadcastWeChatWindow(t *testing.T) {
	t.Parallel()
	fake := &fakeWeChatWindow{custom: map[string]int{}}
	api := httptest.NewServer(fake)
	defer api.Close()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	openIDs := []string{"oIn_1", "oIn_2", "oIn_3", "oOut_1", "oOut_2"}
	if _, err := pool.Exec(ctx, `
		with c as (insert into candidates (created_at) select now() from unnest($1::text[]) returning id),
		n as (select id, row_number() over (order by id) as k from c),
		i as (insert into identities (channel, user_id, candidate_id)
		      select 'wechat', ($1::text[])[n.k], n.id from n returning candidate_id)
		insert into applications (candidate_id, plan_id, answers)
		select candidate_id, 'internet-marketing-l4', '{"name":"王五"}' from i`, openIDs); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	conf := fmt.Sprintf(`http:
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
  insecure_no_encryption: true
web:
  disabled: true
wechat:
  app_id: wxregbottest0001
  app_secret: test-secret
  token: %s
  api_base: %s
  templates:
    broadcast:
      id: TEMPLATE_BROADCAST
      fields:
        thing1: "{text}"
        time2: "{time}"
broadcasts:
  poll_interval: 200ms
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), wechatToken, api.URL)
	startServe(t, addr, conf, "/readyz")
	cfgPath := writeConfig(t, conf)
	out, _ := cli(t, false, "broadcast", "create", "--config", cfgPath, "--title", "微信", "--filter", `channel == "wechat"`,
		"--text", "{name}您好，准考证已可打印。")
	id := createdID.FindStringSubmatch(out)[1]
	out, _ = cli(t, false, "broadcast", "send", "--config", cfgPath, "--wait", id)
	if !strings.Contains(out, "sent 5, failed 0, skipped 0") {
		t.Fatalf("send --wait:\n%s", out)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, o := range openIDs[:3] {
		if fake.custom[o] != 1 {
			t.Fatalf("%s got %d customer-service messages, want 1", o, fake.custom[o])
		}
	}
	if len(fake.templates) != 2 {
		t.Fatalf("%d template messages, want 2: %q", len(fake.templates), fake.templates)
	}
	for _, body := range fake.templates {
		if !strings.Contains(body, "TEMPLATE_BROADCAST") || !strings.Contains(body, "王五您好") {
			t.Fatalf("template message: %s", body)
		}
	}
}
