package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store/storetest"
)

// The reliability tests of the real binary (issue 10): a crash mid-load, two
// instances with one killed mid-load, and Redis stopped mid-load. Load is
// sent the way WeChat sends it: each candidate's next message once the last
// one is answered, and the same MsgId again while no answer came (a refused
// connection, a timeout, an error status).

// dialog is what every candidate of the load says, in order.
var dialog = []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否", "否", "是", "2019-05"}

// ticketCode is a ticket number in a reply.
var ticketCode = regexp.MustCompile(`工单号 [0-9A-Z]+`)

// wxLoad drives WeChat-style traffic and keeps what came back.
type wxLoad struct {
	// pick is the instance a candidate's attempt goes to.
	pick   func(user, attempt int) string
	client *http.Client
	// idBase keeps the message ids of one test apart from another's.
	idBase int64

	mu sync.Mutex
	// replies are the passive replies received, by MsgId; empty are the
	// "success" answers.
	replies map[int64][]string
	// byUser are each candidate's passive replies in order.
	byUser   map[int][]string
	answered atomic.Int64
	retries  atomic.Int64
}

func newWXLoad(idBase int64, pick func(user, attempt int) string) *wxLoad {
	return &wxLoad{pick: pick, idBase: idBase, replies: map[int64][]string{}, byUser: map[int][]string{},
		// WeChat waits 5 s for an answer.
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (l *wxLoad) msgID(user, i int) int64 { return l.idBase + int64(user)*100 + int64(i) }

// openID is a candidate of this load (loads of one test are different
// candidates).
func (l *wxLoad) openID(user int) string { return fmt.Sprintf("oCrash%d_%04d", l.idBase/100_000, user) }

// run sends every candidate's dialog, users at once; it returns when all are
// answered or when one message stays unanswered for a minute.
func (l *wxLoad) run(t *testing.T, users int) {
	t.Helper()
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for i, text := range dialog {
				if err := l.send(u, l.msgID(u, i), text); err != nil {
					t.Errorf("candidate %d message %d: %v", u, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// send delivers one message until an answer comes back, as WeChat retries.
func (l *wxLoad) send(user int, msgID int64, text string) error {
	deadline := time.Now().Add(time.Minute)
	var last error
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 {
			l.retries.Add(1)
			time.Sleep(200 * time.Millisecond)
		}
		status, content, err := postWeChatOnce(l.client, l.pick(user, attempt), l.openID(user), msgID, text)
		if err != nil || status != http.StatusOK {
			last = fmt.Errorf("status %d: %v", status, err)
			continue
		}
		l.mu.Lock()
		l.replies[msgID] = append(l.replies[msgID], content)
		// Ticket numbers are random: blanked to compare conversations.
		l.byUser[user] = append(l.byUser[user], ticketCode.ReplaceAllString(content, "工单号 ?"))
		l.mu.Unlock()
		l.answered.Add(1)
		return nil
	}
	return fmt.Errorf("no answer within a minute: %w", last)
}

// postWeChatOnce posts a plaintext message signed as WeChat signs it and
// returns the status and the passive reply's Content ("" for "success").
func postWeChatOnce(client *http.Client, base, from string, msgID int64, text string) (int, string, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strconv.FormatInt(msgID, 36) + "n"
	parts := []string{wechatToken, ts, nonce}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {hex.EncodeToString(sum[:])}, "openid": {from}}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_regbot]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`, from, ts, text, msgID)
	resp, err := client.Post(base+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	var reply struct {
		Content string `xml:"Content"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<xml")) {
		if err := xml.Unmarshal(raw, &reply); err != nil {
			return resp.StatusCode, "", fmt.Errorf("passive reply is not XML: %q", raw)
		}
	}
	return resp.StatusCode, reply.Content, nil
}

// wechatServeConfig is a serve config for the reliability tests.
func wechatServeConfig(addr, dbURL, redisURL, prefix, blobDir, apiURL, extra string) string {
	return fmt.Sprintf(`http:
  listen: %s
privacy:
  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=
database:
  url: %s
redis:
  url: %s
  prefix: %q
turns:
  lease: 1s
%sblob:
  dir: %s
  encryption_key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
web:
  disabled: true
wechat:
  app_id: wxregbottest0001
  app_secret: test-secret
  token: %s
  api_base: %s
log:
  format: text
`, addr, dbURL, redisURL, prefix, extra, blobDir, wechatToken, apiURL)
}

// checkOnce checks the record and the answers after a load: every message
// recorded once, every message answered by exactly one passive reply, no
// customer-service message sent twice.
func checkOnce(t *testing.T, l *wxLoad, dbURL string, users, perUser int, fake *fakeWeChat) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `select msg_id, count(*) from inbound_messages where channel = 'wechat' group by msg_id`)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		// This load's messages only.
		if v, err := strconv.ParseInt(id, 10, 64); err == nil && v >= l.idBase && v < l.msgID(users, 0) {
			recorded[id] = n
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var missing, twice, unanswered, answeredTwice []int64
	for u := range users {
		for i := range perUser {
			id := l.msgID(u, i)
			switch recorded[strconv.FormatInt(id, 10)] {
			case 0:
				missing = append(missing, id)
			case 1:
			default:
				twice = append(twice, id)
			}
			var passive int
			for _, r := range l.replies[id] {
				if r != "" {
					passive++
				}
			}
			switch {
			case passive == 0:
				unanswered = append(unanswered, id)
			case passive > 1:
				answeredTwice = append(answeredTwice, id)
			}
		}
	}
	if len(missing)+len(twice)+len(unanswered)+len(answeredTwice) > 0 {
		t.Errorf("not once: %d messages not recorded %v, %d recorded twice %v, %d without a passive reply %v, %d answered twice %v",
			len(missing), head(missing), len(twice), head(twice), len(unanswered), head(unanswered), len(answeredTwice), head(answeredTwice))
	}
	if want := int64(users * perUser); int64(len(recorded)) != want {
		t.Errorf("%d message ids recorded, want %d", len(recorded), want)
	}
	// Each outbox row is one customer-service message here (the dialog has
	// no images): sent at most once, and every row marked sent was sent.
	var rowsAll, rowsSent int
	if err := conn.QueryRow(ctx, `select count(*), count(*) filter (where state = 'sent') from outbox`).Scan(&rowsAll, &rowsSent); err != nil {
		t.Fatal(err)
	}
	calls := len(fake.customMessages())
	if calls > rowsAll || calls < rowsSent {
		t.Errorf("%d customer-service messages for %d outbox rows (%d marked sent): a row was sent twice, or marked sent unsent", calls, rowsAll, rowsSent)
	}
}

func head(ids []int64) []int64 { return ids[:min(len(ids), 5)] }

// waitAnswered waits until n messages are answered.
func waitAnswered(t *testing.T, l *wxLoad, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); l.answered.Load() < int64(n); {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages answered, waiting for %d", l.answered.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCrashMidLoad: 100 candidates mid-conversation, the server SIGKILLed
// mid-load and started again on the same address after a second, WeChat's
// retries meanwhile: every message recorded once and answered once.
func TestCrashMidLoad(t *testing.T) {
	t.Parallel()
	const users = 100
	fake := &fakeWeChat{}
	api := httptest.NewServer(fake)
	defer api.Close()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	cfg := wechatServeConfig(addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), api.URL, "")
	base, stderr, cmd := startServe(t, addr, cfg, "/readyz")
	l := newWXLoad(1_000_000, func(int, int) string { return base })
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(t, users)
	}()
	waitAnswered(t, l, users*len(dialog)/3)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := l.answered.Load()
	time.Sleep(time.Second)
	_, stderr2, _ := startServe(t, addr, cfg, "/readyz")
	<-done
	if t.Failed() {
		t.Logf("first run:\n%s\nsecond run:\n%s", tail(stderr.String()), tail(stderr2.String()))
	}
	t.Logf("killed after %d answers; %d retries", killedAt, l.retries.Load())
	checkOnce(t, l, dbURL, users, len(dialog), fake)
}

// TestTwoInstancesOneKilled: two serve instances on one PostgreSQL and one
// Redis share the candidates; one is SIGKILLed mid-load and WeChat's retries
// go to the other: every message handled once.
func TestTwoInstancesOneKilled(t *testing.T) {
	t.Parallel()
	const users = 60
	fake := &fakeWeChat{}
	api := httptest.NewServer(fake)
	defer api.Close()
	_, prefix := storetest.RedisPrefix(t)
	dbURL := storetest.PostgresURL(t)
	blobs := t.TempDir()
	addrA, addrB := freeAddr(t), freeAddr(t)
	baseA, _, _ := startServe(t, addrA, wechatServeConfig(addrA, dbURL, storetest.RedisURL, prefix, blobs, api.URL, ""), "/readyz")
	baseB, stderrB, cmdB := startServe(t, addrB, wechatServeConfig(addrB, dbURL, storetest.RedisURL, prefix, blobs, api.URL, ""), "/readyz")
	bases := []string{baseA, baseB}
	l := newWXLoad(2_000_000, func(user, attempt int) string { return bases[(user+attempt)%2] })
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(t, users)
	}()
	waitAnswered(t, l, users*len(dialog)/3)
	if err := cmdB.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmdB.Wait()
	<-done
	if t.Failed() {
		t.Logf("instance B:\n%s", tail(stderrB.String()))
	}
	t.Logf("%d retries", l.retries.Load())
	checkOnce(t, l, dbURL, users, len(dialog), fake)
}

// TestRedisStoppedMidLoad: the Redis of a running serve is killed mid-load
// and started again: no turn fails, every candidate gets the same answers
// as a candidate served before the outage, /readyz says degraded during it
// and ready after it.
func TestRedisStoppedMidLoad(t *testing.T) {
	t.Parallel()
	const users = 40
	redisAddr := freeAddr(t)
	_, port, _ := strings.Cut(redisAddr, ":")
	redisDir := t.TempDir()
	startRedis := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", redisDir)
		if err := cmd.Start(); err != nil {
			t.Fatalf("redis-server is required for this test: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for deadline := time.Now().Add(10 * time.Second); ; {
			if out, err := exec.Command("redis-cli", "-p", port, "ping").Output(); err == nil && strings.TrimSpace(string(out)) == "PONG" {
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("redis-server did not come up")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rcmd := startRedis()
	fake := &fakeWeChat{}
	api := httptest.NewServer(fake)
	defer api.Close()
	dbURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	cfg := wechatServeConfig(addr, dbURL, "redis://"+redisAddr+"/0", "regbot:", t.TempDir(), api.URL, "")
	base, stderr, _ := startServe(t, addr, cfg, "/readyz")

	// The reference: one candidate's whole dialog before the outage.
	ref := newWXLoad(3_000_000, func(int, int) string { return base })
	ref.run(t, 1)
	want := ref.byUser[0]

	l := newWXLoad(3_100_000, func(int, int) string { return base })
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(t, users)
	}()
	waitAnswered(t, l, users*len(dialog)/4)
	if err := rcmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = rcmd.Wait()
	if got := waitReadyz(t, base, "degraded"); !strings.HasPrefix(got, "degraded") {
		t.Errorf("/readyz during the outage: %q", got)
	}
	waitAnswered(t, l, users*len(dialog)*2/3)
	startRedis()
	if got := waitReadyz(t, base, "ok"); !strings.HasPrefix(got, "ok") {
		t.Errorf("/readyz after the outage: %q", got)
	}
	<-done
	// After the outage (a probe waits a second): one more message each,
	// on the fast path again.
	time.Sleep(1200 * time.Millisecond)
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			if err := l.send(u, l.msgID(u, len(dialog)), "进度"); err != nil {
				t.Errorf("candidate %d after the outage: %v", u, err)
			}
		})
	}
	wg.Wait()
	l.mu.Lock()
	for u := range users {
		got := l.byUser[u]
		if len(got) != len(dialog)+1 || !slices.Equal(got[:len(dialog)], want) || got[len(dialog)] != l.byUser[0][len(dialog)] {
			t.Errorf("candidate %d got other answers than before the outage:\n%q\nwant\n%q", u, got, want)
			break
		}
	}
	l.mu.Unlock()
	logs := stderr.String()
	if n := strings.Count(logs, "fast path (redis) unavailable"); n != 1 {
		t.Errorf("%d log lines for one outage, want 1:\n%s", n, tail(logs))
	}
	if !strings.Contains(logs, "fast path (redis) answers again") {
		t.Errorf("the fast path did not come back:\n%s", tail(logs))
	}
	if strings.Contains(logs, "系统繁忙") || strings.Contains(logs, "wechat turn failed") {
		t.Errorf("a turn failed during the outage:\n%s", tail(logs))
	}
	checkOnce(t, l, dbURL, users, len(dialog)+1, fake)
}

// waitReadyz polls /readyz until its body starts with prefix (or 20 s) and
// returns the last body.
func waitReadyz(t *testing.T, base, prefix string) string {
	t.Helper()
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(raw)
		if strings.HasPrefix(body, prefix) {
			return body
		}
	}
	return body
}

// tail is the end of a log, for failure messages.
func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
