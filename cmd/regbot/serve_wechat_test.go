package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"regbot/store/storetest"
)

// fakeWeChat is the part of the WeChat API a running serve calls: the stable
// access token and customer-service messages, which it records.
type fakeWeChat struct {
	mu   sync.Mutex
	sent []string // customer-service message bodies
}

func (f *fakeWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/cgi-bin/stable_token", "/cgi-bin/token":
		io.WriteString(w, `{"access_token":"FAKE_TOKEN","expires_in":7200}`)
	case "/cgi-bin/message/custom/send":
		f.mu.Lock()
		f.sent = append(f.sent, string(body))
		f.mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	default:
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}
}

func (f *fakeWeChat) customMessages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

const wechatToken = "regbotTestToken"

// postWeChat posts a plaintext message signed the way WeChat signs it and
// returns the status and the passive reply's Content.
func postWeChat(t *testing.T, base, from string, msgID int64, text string) (int, string) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := strconv.FormatInt(msgID, 36) + "n"
	parts := []string{wechatToken, ts, nonce}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {hex.EncodeToString(sum[:])}, "openid": {from}}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_regbot]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`, from, ts, text, msgID)
	resp, err := http.Post(base+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var reply struct {
		Content string `xml:"Content"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("<xml")) {
		if err := xml.Unmarshal(raw, &reply); err != nil {
			t.Fatalf("passive reply is not XML: %q", raw)
		}
	}
	return resp.StatusCode, reply.Content
}

// postWeChatEvent posts an event push (subscribe, unsubscribe) signed the
// way WeChat signs it and returns the status.
func postWeChatEvent(t *testing.T, base, from, event string) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().UnixNano(), 10)[:10]
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	parts := []string{wechatToken, ts, nonce}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	q := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {hex.EncodeToString(sum[:])}, "openid": {from}}
	body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_regbot]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event></xml>`, from, time.Now().UnixNano(), event)
	resp, err := http.Post(base+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeWeChatConversation runs the real binary on PostgreSQL and Redis
// with the WeChat channel pointed at a local fake API, posts a whole
// eligibility conversation as signed XML, retries one message, and checks
// the replies and the record.
func TestServeWeChatConversation(t *testing.T) {
	t.Parallel()
	fake := &fakeWeChat{}
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
log:
  format: text
`, addr, dbURL, storetest.RedisURL, prefix, t.TempDir(), wechatToken, api.URL)
	base, stderr, _ := startServe(t, addr, cfg, "/readyz")

	const openID = "oRegbotCandidate01"
	var replies []string
	for i, text := range []string{"你好", "是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"} {
		status, content := postWeChat(t, base, openID, int64(1000+i), text)
		if status != http.StatusOK || content == "" {
			t.Fatalf("message %q: status %d, passive reply %q\n%s", text, status, content, stderr.String())
		}
		replies = append(replies, content)
	}
	// WeChat retries a message it thinks was not answered: one turn only,
	// and the retry gets that turn's passive reply again (it used to get an
	// empty success; changed on purpose: WeChat retries only when the first
	// answer did not reach it).
	if status, content := postWeChat(t, base, openID, 1006, "否"); status != http.StatusOK || content != replies[len(replies)-1] {
		t.Fatalf("retried message: status %d, reply %q (want the first answer again: %q)", status, content, replies[len(replies)-1])
	}
	if !strings.Contains(strings.Join(replies, "\n"), "第（二）条") {
		t.Errorf("no reply names condition C2 as the guide does (第（二）条):\n%s", strings.Join(replies, "\n---\n"))
	}
	// Each turn's texts were joined into its passive reply (wechat.join_replies):
	// the questions are there, and no customer-service message was needed.
	for i, want := range []string{"您是否从事过", "单位全称", "什么职业", "哪年哪月开始", "哪年哪月结束", "还有其他工作经历吗"} {
		if !strings.Contains(replies[i], want) {
			t.Errorf("passive reply %d lacks %q: %q", i, want, replies[i])
		}
	}
	time.Sleep(500 * time.Millisecond)
	for _, m := range fake.customMessages() {
		var msg struct {
			ToUser string `json:"touser"`
		}
		if json.Unmarshal([]byte(m), &msg) == nil && msg.ToUser == openID {
			t.Errorf("a customer-service message for a reply that fit the passive one: %s", m)
		}
	}

	// The record: one application with C2, seven messages (the retry not
	// counted twice).
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var condition string
	var messages int
	err = conn.QueryRow(ctx, `select a.condition, (select count(*) from inbound_messages m where m.candidate_id = i.candidate_id)
		from applications a join identities i on i.candidate_id = a.candidate_id
		where i.channel = 'wechat' and i.user_id = $1`, openID).Scan(&condition, &messages)
	if err != nil {
		t.Fatal(err)
	}
	if condition != "C2" || messages != 7 {
		t.Fatalf("record: condition %q, %d messages; want C2 and 7", condition, messages)
	}

	// Unfollowing marks the candidate unreachable (the outbox and
	// broadcasts skip them); following again, recorded after the mark,
	// ends it.
	unreachable := func() bool {
		t.Helper()
		var u bool
		if err := conn.QueryRow(ctx, `select regbot_unreachable(candidate_id, channel, user_id, unreachable_at) from identities
			where channel = 'wechat' and user_id = $1`, openID).Scan(&u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	if status := postWeChatEvent(t, base, openID, "unsubscribe"); status != http.StatusOK || !unreachable() {
		t.Fatalf("unsubscribe: status %d, unreachable %v; want 200 and marked", status, unreachable())
	}
	if status := postWeChatEvent(t, base, openID, "subscribe"); status != http.StatusOK || unreachable() {
		t.Fatalf("subscribe again: status %d, unreachable %v; want 200 and cleared", status, unreachable())
	}
	if strings.Contains(stderr.String(), openID) || strings.Contains(stderr.String(), "FAKE_TOKEN") {
		t.Errorf("the log names the candidate's OpenID or the access token:\n%s", stderr.String())
	}
}
