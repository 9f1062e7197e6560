package wechat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"regbot/dialogs"
	"regbot/store"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{memory: true})
	get := func(q url.Values) (int, string) {
		resp, err := http.Get(b.srv.URL + "/wechat?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := url.Values{"timestamp": {ts}, "nonce": {"n1"}, "echostr": {"1234567890"}, "signature": {util.Signature(testToken, ts, "n1")}}
	if code, body := get(good); code != http.StatusOK || body != "1234567890" {
		t.Errorf("verification: %d %q, want 200 echostr", code, body)
	}
	bad := url.Values{"timestamp": {ts}, "nonce": {"n1"}, "echostr": {"1234567890"}, "signature": {util.Signature("other", ts, "n1")}}
	if code, body := get(bad); code != http.StatusForbidden || strings.Contains(body, "1234567890") {
		t.Errorf("bad signature: %d %q, want 403 without echostr", code, body)
	}
}

// TestRefused: every request the webhook refuses gets its documented answer
// and reaches nothing: no turn, no API call.
func TestRefused(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), maxBodyBytes+1)
	tests := []struct {
		name   string
		req    request
		chunk  bool // send the body without Content-Length
		status int
		reason string
	}{
		{name: "bad signature", req: request{xml: textXML("o-1", 1, "hi"), badSignature: true}, status: 403, reason: "bad_signature"},
		{name: "stale timestamp", req: request{xml: textXML("o-1", 2, "hi"), at: time.Now().Add(-6 * time.Minute)}, status: 403, reason: "stale"},
		{name: "timestamp from the future", req: request{xml: textXML("o-1", 3, "hi"), at: time.Now().Add(6 * time.Minute)}, status: 403, reason: "stale"},
		{name: "malformed xml", req: request{body: []byte("<xml><FromUserName>o-1</From")}, status: 400, reason: "malformed"},
		{name: "not xml", req: request{body: []byte(`{"MsgType":"text"}`)}, status: 400, reason: "malformed"},
		{name: "empty body", req: request{body: []byte{}}, status: 400, reason: "malformed"},
		{name: "no sender", req: request{xml: textXML("", 4, "hi")}, status: 400, reason: "malformed"},
		{name: "oversized body", req: request{body: big}, status: 413, reason: "too_large"},
		{name: "oversized chunked body", req: request{body: big}, chunk: true, status: 413, reason: "too_large"},
		{name: "aes bad msg_signature", req: request{xml: textXML("o-1", 5, "hi"), mode: "aes", badMsgSignature: true}, status: 403, reason: "bad_signature"},
		{name: "aes other appid", req: request{xml: textXML("o-1", 6, "hi"), mode: "aes", appID: "wxffffffffffffffff"}, status: 400, reason: "malformed"},
		{name: "aes envelope not xml", req: request{xml: textXML("o-1", 7, "hi"), mode: "aes", final: []byte("garbage")}, status: 400, reason: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			req := b.newRequest(t, tt.req)
			if tt.chunk {
				req.ContentLength = -1
				req.Body = io.NopCloser(struct{ io.Reader }{bytes.NewReader(tt.req.body)})
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if got := counterValue(t, b.a.metrics.requests.WithLabelValues(tt.reason)); got != 1 {
				t.Errorf("requests{result=%s} = %v, want 1", tt.reason, got)
			}
			if n := b.h.turnCount(); n != 0 {
				t.Errorf("handler ran %d turns for a refused request", n)
			}
			keys, err := b.rdb.Keys(context.Background(), b.a.prefix+"*").Result()
			if err != nil || len(keys) != 0 {
				t.Errorf("refused request left keys %v (%v)", keys, err)
			}
		})
	}
}

// TestIgnored: unknown message types and events the bot does not handle
// get "success" and never reach the Handler.
func TestIgnored(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, xml string }{
		{"unknown message type", kindXML("o-1", 11, "hologram", "")},
		{"view click", eventXML("o-1", 1700000001, "VIEW", "https://example.com")},
		{"template receipt", eventXML("o-1", 1700000002, "TEMPLATESENDJOBFINISH", "")},
		{"unconfigured menu key", eventXML("o-1", 1700000003, "CLICK", "NOPE")},
		{"blank text", textXML("o-1", 12, "   ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{memory: true})
			resp, body := b.post(t, request{xml: tt.xml})
			if resp.StatusCode != 200 || body != "success" {
				t.Errorf("answer %d %q, want 200 success", resp.StatusCode, body)
			}
			if n := b.h.turnCount(); n != 0 {
				t.Errorf("handler ran %d turns", n)
			}
			if got := counterValue(t, b.a.metrics.requests.WithLabelValues("ignored")); got != 1 {
				t.Errorf("requests{result=ignored} = %v, want 1", got)
			}
		})
	}
}

// TestUnsubscribeMarksUnreachable: an unfollow is no turn; it marks the
// candidate unreachable (so the outbox and broadcasts skip them), answers
// "success", and a failure to mark is logged without the OpenID.
func TestUnsubscribeMarksUnreachable(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var marked []store.Identity
	fail := false
	b := setup(t, setupOpts{memory: true, deps: func(d *Deps) {
		d.Unreachable = func(_ context.Context, id store.Identity) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("record down")
			}
			marked = append(marked, id)
			return nil
		}
	}})
	resp, body := b.post(t, request{xml: eventXML("o-gone-1", 1700000000, "unsubscribe", "")})
	if resp.StatusCode != 200 || body != "success" {
		t.Fatalf("answer %d %q, want 200 success", resp.StatusCode, body)
	}
	// Safe mode too.
	resp, body = b.post(t, request{xml: eventXML("o-gone-2", 1700000001, "unsubscribe", ""), mode: "aes"})
	if resp.StatusCode != 200 {
		t.Fatalf("safe mode: answer %d %q, want 200", resp.StatusCode, body)
	}
	mu.Lock()
	got := slices.Clone(marked)
	fail = true
	mu.Unlock()
	want := []store.Identity{{Channel: Channel, UserID: "o-gone-1"}, {Channel: Channel, UserID: "o-gone-2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("marked unreachable %+v, want %+v", got, want)
	}
	if n := b.h.turnCount(); n != 0 {
		t.Errorf("handler ran %d turns for unfollows", n)
	}
	if got := counterValue(t, b.a.metrics.requests.WithLabelValues("unsubscribed")); got != 2 {
		t.Errorf("requests{result=unsubscribed} = %v, want 2", got)
	}
	resp, body = b.post(t, request{xml: eventXML("o-gone-3", 1700000002, "unsubscribe", "")})
	if resp.StatusCode != 200 || body != "success" {
		t.Fatalf("marking failed: answer %d %q, want 200 success", resp.StatusCode, body)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "unreachable failed") || strings.Contains(logs, "o-gone-3") {
		t.Errorf("a failed mark is not logged, or logged with the OpenID:\n%s", logs)
	}
}

// TestInbound: what each kind of message becomes for the engine.
func TestInbound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		xml  string
		want dialogs.Inbound
	}{
		{"text", textXML("o-in", 21, "我有四年工作经验"), dialogs.Inbound{MsgID: "21", Text: "我有四年工作经验"}},
		{"menu click", eventXML("o-in", 1700000100, "CLICK", "PROGRESS"), dialogs.Inbound{MsgID: "ev:o-in:1700000100:CLICK:PROGRESS", Text: "进度"}},
		{"subscribe", eventXML("o-in", 1700000101, "subscribe", "qrscene_42"), dialogs.Inbound{MsgID: "ev:o-in:1700000101:subscribe:qrscene_42", Event: "subscribe"}},
		{"voice", kindXML("o-in", 22, "voice", "<MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format>"), dialogs.Inbound{MsgID: "22", Other: "voice"}},
		{"recognised voice", kindXML("o-in", 23, "voice", "<Recognition><![CDATA[转人工]]></Recognition>"), dialogs.Inbound{MsgID: "23", Text: "转人工"}},
		{"location", kindXML("o-in", 24, "location", "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y>"), dialogs.Inbound{MsgID: "24", Other: "location"}},
		{"video", kindXML("o-in", 25, "video", ""), dialogs.Inbound{MsgID: "25", Other: "video"}},
		{"link", kindXML("o-in", 26, "link", "<Url><![CDATA[https://example.com]]></Url>"), dialogs.Inbound{MsgID: "26", Other: "link"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{memory: true})
			resp, _ := b.post(t, request{xml: tt.xml})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if b.h.turnCount() != 1 {
				t.Fatalf("handler ran %d turns, want 1", b.h.turnCount())
			}
			got := b.h.turn(0)
			want := tt.want
			want.Channel, want.UserID = Channel, "o-in"
			if got.Channel != want.Channel || got.UserID != want.UserID || got.MsgID != want.MsgID ||
				got.Text != want.Text || got.Other != want.Other || got.Event != want.Event || got.Image != nil {
				t.Errorf("inbound %+v, want %+v", got, want)
			}
		})
	}
}

// TestPassiveReply: a turn done in budget is answered in the response,
// choices as numbered lines, in plaintext, compatible and safe mode.
func TestPassiveReply(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", "compat", "aes"} {
		t.Run("mode="+cmpOr(mode, "plain"), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{memory: true})
			b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
				return dialogs.Result{Messages: []dialogs.Outbound{{
					Text:    "您是否持有五级/初级工证书？",
					Choices: []dialogs.Choice{{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}},
				}}}, nil
			}
			resp, body := b.post(t, request{xml: textXML("o-pass", 31, "开始报名"), mode: mode})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if mode == "aes" || mode == "compat" {
				body = decryptReply(t, b, body)
			}
			got := passiveText(t, body, "o-pass")
			if want := "您是否持有五级/初级工证书？\n1. 是\n2. 否"; got != want {
				t.Errorf("reply %q, want %q", got, want)
			}
			if in := b.h.turn(0); in.Text != "开始报名" || in.MsgID != "31" {
				t.Errorf("inbound %+v", in)
			}
		})
	}
}

// TestAESNothingToSay: in safe mode a turn without messages is answered
// "success" (the SDK writes nothing there).
func TestAESNothingToSay(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{memory: true})
	b.h.reply = func(dialogs.Inbound) (dialogs.Result, error) { return dialogs.Result{}, nil }
	resp, body := b.post(t, request{xml: textXML("o-quiet", 41, "嗯"), mode: "aes"})
	if resp.StatusCode != 200 || body != "success" {
		t.Errorf("answer %d %q, want 200 success", resp.StatusCode, body)
	}
}

// TestOfficialSample decrypts the sample message of WeChat's
// message-encryption documentation (the WXBizMsgCrypt samples): token
// "spamtest", that EncodingAESKey and AppID, its ciphertext and
// msg_signature. It proves the webhook reads what WeChat really sends,
// not only what our own encryption produces.
func TestOfficialSample(t *testing.T) {
	t.Parallel()
	const (
		token     = "spamtest"
		aesKey    = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
		appID     = "wx2c2769f8efd9abc2"
		timestamp = "1409735669"
		nonce     = "1320562132"
		msgSign   = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
		fromXML   = `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>`
	)
	sent := time.Unix(1409735669, 0)
	b := setup(t, setupOpts{memory: true,
		cfg: func(c *Config) {
			c.Token, c.EncodingAESKey, c.AppID = token, aesKey, appID
		},
		deps: func(d *Deps) { d.Now = func() time.Time { return sent.Add(10 * time.Second) } },
	})
	// Plaintext fields stripped: only the ciphertext can supply the message.
	safeBody := `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>` + fromXML[strings.Index(fromXML, "<Encrypt>"):]
	for _, body := range []string{fromXML, safeBody} {
		q := url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "encrypt_type": {"aes"},
			"msg_signature": {msgSign}, "signature": {util.Signature(token, timestamp, nonce)}}
		resp, err := http.Post(b.srv.URL+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := b.h.turnCount(); n != 1 {
		t.Fatalf("%d turns, want 1 (the second post is the same MsgId)", n)
	}
	in := b.h.turn(0)
	if in.UserID != "oyORnuP8q7ou2gfYjqLzSIWZf0rs" || in.Text != "abcdteT" || in.MsgID != "6054768590064713728" {
		t.Errorf("decrypted inbound %+v", in)
	}

	// A tampered ciphertext no longer matches the published msg_signature.
	q := url.Values{"timestamp": {timestamp}, "nonce": {nonce}, "encrypt_type": {"aes"},
		"msg_signature": {msgSign}, "signature": {util.Signature(token, timestamp, nonce)}}
	resp, err := http.Post(b.srv.URL+"/wechat?"+q.Encode(), "text/xml", strings.NewReader(strings.Replace(fromXML, "hyzAe4", "hyzAe5", 1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered ciphertext: status %d, want 403", resp.StatusCode)
	}
}

// TestRetriedDelivery: the same message posted three times at once, then
// three times in sequence, is one turn and one reply; so is an event.
func TestRetriedDelivery(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"redis", "memory"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{memory: store == "memory"})
			b.h.delay = 200 * time.Millisecond
			for _, x := range []string{textXML("o-dup", 51, "你好"), eventXML("o-dup", 1700000200, "subscribe", "")} {
				var mu sync.Mutex
				var bodies []string
				var wg sync.WaitGroup
				for range 3 {
					wg.Go(func() {
						_, body := b.post(t, request{xml: x})
						mu.Lock()
						bodies = append(bodies, body)
						mu.Unlock()
					})
				}
				wg.Wait()
				for range 3 {
					_, body := b.post(t, request{xml: x})
					bodies = append(bodies, body)
				}
				replies := 0
				for _, body := range bodies {
					switch {
					case strings.HasPrefix(body, "<xml>"):
						replies++
					case body != "success":
						t.Errorf("answer %q", body)
					}
				}
				if replies != 1 {
					t.Errorf("%d replies to six deliveries, want 1: %q", replies, bodies)
				}
			}
			if n := b.h.turnCount(); n != 2 {
				t.Errorf("%d turns, want 2 (one message, one event)", n)
			}
			if got := counterValue(t, b.a.metrics.requests.WithLabelValues("duplicate")); got != 10 {
				t.Errorf("requests{result=duplicate} = %v, want 10", got)
			}
		})
	}
}

// TestRouterDuplicate: the Router recognises the retry; with no recorded
// reply to give again the answer is "success" and nothing is sent.
func TestRouterDuplicate(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	_, body := b.post(t, request{xml: textXML("o-rdup", 61, "你好")})
	if !strings.HasPrefix(body, "<xml>") {
		t.Fatalf("first delivery: %q", body)
	}
	_, body = b.post(t, request{xml: textXML("o-rdup", 61, "你好")})
	if body != "success" {
		t.Errorf("retry: %q, want success", body)
	}
	time.Sleep(100 * time.Millisecond)
	if sends, dups := len(fake.callsOf("custom_send")), b.h.duplicates(); sends != 0 || dups != 1 {
		t.Errorf("custom sends %d, router duplicates %d; want 0 and 1", sends, dups)
	}
}

// TestRestByCustomerService: the texts up to the first image are the
// passive reply; the image and what follows go as customer-service
// messages, the image uploaded as temporary media and a question as a
// msgmenu.
func TestRestByCustomerService(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	qr := []byte("\x89PNG fake qr code")
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		return dialogs.Result{Messages: []dialogs.Outbound{
			{Text: "审核已通过。"},
			{Text: "请扫码缴费：", Image: &dialogs.OutImage{Name: "pay.png", Data: qr}},
			{Text: "缴费后请告诉我。"},
			{Text: "已经缴费了吗？", Choices: []dialogs.Choice{{ID: "paid", Label: "已缴费"}, {ID: "later", Label: "稍后"}}},
		}}, nil
	}
	_, body := b.post(t, request{xml: textXML("o-rest", 71, "进度")})
	if got := passiveText(t, body, "o-rest"); got != "审核已通过。\n\n请扫码缴费：" {
		t.Errorf("passive reply %q", got)
	}
	calls := fake.waitOK(t, "custom_send", 2, 5*time.Second)
	m0, m1 := decodeCustomer(t, calls[0]), decodeCustomer(t, calls[1])
	if m0.MsgType != "image" || m0.Image.MediaID != "UP1" || m0.ToUser != "o-rest" {
		t.Errorf("first customer message %+v, want the uploaded image", m0)
	}
	if m1.MsgType != "msgmenu" || m1.Msgmenu.HeadContent != "缴费后请告诉我。\n\n已经缴费了吗？" ||
		len(m1.Msgmenu.List) != 2 || m1.Msgmenu.List[0].Content != "1. 已缴费" || m1.Msgmenu.List[1].ID != "2" {
		t.Errorf("second customer message %+v, want the question as msgmenu", m1)
	}
	if up := fake.okCalls("media_upload"); len(up) != 1 || !bytes.Equal(up[0].Body, qr) {
		t.Errorf("uploads %v, want the QR code once", up)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.callsOf("custom_send")); n != 2 {
		t.Errorf("%d customer messages, want 2", n)
	}
}

// TestSlowMedia: the media download takes 6 s. The webhook still answers
// within 5 s ("success"), and the reply arrives by customer-service message
// once the image is in and the turn done.
func TestSlowMedia(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	photo := []byte("\xff\xd8\xff\xe0 fake jpeg of an ID card")
	fake.setMedia("MEDIA-slow", photo, 6*time.Second)
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		if in.Image == nil {
			return dialogs.Result{Messages: []dialogs.Outbound{{Text: "没有收到图片"}}}, nil
		}
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "身份证人像面已收到。"}, {Text: "请上传国徽面。"}}}, nil
	}
	start := time.Now()
	resp, body := b.post(t, request{xml: imageXML("o-slow", 81, "MEDIA-slow", "")})
	if took := time.Since(start); took >= 5*time.Second || resp.StatusCode != 200 || body != "success" {
		t.Fatalf("webhook answered %d %q after %s, want 200 success within 5s", resp.StatusCode, body, took)
	}
	calls := fake.waitOK(t, "custom_send", 1, 10*time.Second)
	m := decodeCustomer(t, calls[0])
	if m.MsgType != "text" || m.Text.Content != "身份证人像面已收到。\n\n请上传国徽面。" {
		t.Errorf("customer message %+v, want both messages combined", m)
	}
	if in := b.h.turn(0); in.Image == nil || !bytes.Equal(in.Image.Data, photo) {
		t.Errorf("handler got image %+v, want the downloaded bytes", in.Image)
	}
}

// TestImageFallsBackToPicURL: when the media API fails, the image is taken
// from its PicUrl.
func TestImageFallsBackToPicURL(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	photo := []byte("\xff\xd8\xff\xe0 picurl jpeg")
	fake.setMedia("P1", photo, 0) // served at /pic/P1 only: media_get knows no "GONE"
	_, body := b.post(t, request{xml: imageXML("o-pic", 91, "GONE", fake.url+"/pic/P1")})
	if got := passiveText(t, body, "o-pic"); got != "收到：" {
		t.Errorf("reply %q", got)
	}
	if in := b.h.turn(0); in.Image == nil || !bytes.Equal(in.Image.Data, photo) {
		t.Errorf("handler got %+v, want the PicUrl bytes", in.Image)
	}
	if got := counterValue(t, b.a.metrics.apiErrors.WithLabelValues("media_get", "40007")); got != 1 {
		t.Errorf("api_errors{media_get,40007} = %v, want 1", got)
	}
}

// TestImageUnavailable: an image that cannot be downloaded gets a request
// to send it again, and never reaches the Handler.
func TestImageUnavailable(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	_, body := b.post(t, request{xml: imageXML("o-gone", 92, "GONE", "")})
	if got := passiveText(t, body, "o-gone"); got != planText("wechat_image_failed") {
		t.Errorf("reply %q, want %q", got, planText("wechat_image_failed"))
	}
	if n := b.h.turnCount(); n != 0 {
		t.Errorf("handler ran %d turns", n)
	}
}

// TestSlowTurn: a turn slower than the budget is answered "success" and
// all its messages, the first included, go out by customer-service message.
func TestSlowTurn(t *testing.T) {
	b := setup(t, setupOpts{cfg: func(c *Config) { c.ReplyBudget = 300 * time.Millisecond }})
	fake.reset()
	b.h.delay = time.Second
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		return dialogs.Result{Messages: []dialogs.Outbound{
			{Text: "您符合条件 C2。"},
			{Text: "需要的材料如下。"},
			{Text: "准备好了吗？", Choices: []dialogs.Choice{{ID: "y", Label: "好了"}}},
		}}, nil
	}
	start := time.Now()
	_, body := b.post(t, request{xml: textXML("o-late", 101, "4年")})
	if took := time.Since(start); body != "success" || took > time.Second {
		t.Fatalf("answer %q after %s, want success at the budget", body, took)
	}
	calls := fake.waitOK(t, "custom_send", 1, 5*time.Second)
	m := decodeCustomer(t, calls[0])
	if m.MsgType != "msgmenu" || m.Msgmenu.HeadContent != "您符合条件 C2。\n\n需要的材料如下。\n\n准备好了吗？" {
		t.Errorf("customer message %+v, want everything in one msgmenu", m)
	}
}

// flakyHandler fails a message id's first turn for now, as the Router does
// when the database is out of reach (the id released), and answers the
// next delivery.
type flakyHandler struct {
	mu    sync.Mutex
	tries map[string]int
}

func (h *flakyHandler) Handle(_ context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tries[in.MsgID]++; h.tries[in.MsgID] == 1 {
		return dialogs.Result{}, errors.New("record turn: dial tcp 127.0.0.1:5432: connection refused")
	}
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到：" + in.Text}}}, nil
}

// TestHandlerErrorLetsWeChatRetry: a turn that failed for now is answered
// only after WeChat stopped waiting (no passive reply, no "success"), so
// WeChat delivers the message again and the retry is answered; in safe mode
// too.
func TestHandlerErrorLetsWeChatRetry(t *testing.T) {
	t.Parallel()
	h := &flakyHandler{tries: map[string]int{}}
	b := setup(t, setupOpts{memory: true, handler: h})
	const hold = 400 * time.Millisecond
	b.a.retryHold = hold
	for _, mode := range []string{"", "aes"} {
		msgID := int64(111)
		if mode == "aes" {
			msgID = 112
		}
		start := time.Now()
		resp, body := b.post(t, request{xml: textXML("o-err", msgID, "你好"), mode: mode})
		if took := time.Since(start); resp.StatusCode == http.StatusOK || took < hold-50*time.Millisecond {
			t.Fatalf("mode %q: failed turn answered %d %q after %s; want no answer before the hold (%s)", mode, resp.StatusCode, body, took, hold)
		}
		resp, body = b.post(t, request{xml: textXML("o-err", msgID, "你好"), mode: mode})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("mode %q: retry answered %d %q", mode, resp.StatusCode, body)
		}
		if mode == "" {
			if got := passiveText(t, body, "o-err"); got != "收到：你好" {
				t.Errorf("retry's reply %q, want the turn's", got)
			}
		} else if !strings.Contains(body, "<Encrypt>") {
			t.Errorf("safe mode retry: %q, want an encrypted passive reply", body)
		}
	}
	if got := counterValue(t, b.a.metrics.requests.WithLabelValues("retry")); got != 2 {
		t.Errorf("requests{result=retry} = %v, want 2", got)
	}
	if logs := b.logs.String(); strings.Contains(logs, "o-err") {
		t.Errorf("the OpenID is logged:\n%s", logs)
	}
}

// TestHandlerPanic: a Handler that panics (a bug: it would again) is
// answered with the busy message, not retried.
func TestHandlerPanic(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{memory: true})
	b.h.reply = func(dialogs.Inbound) (dialogs.Result, error) { panic("bug") }
	_, body := b.post(t, request{xml: textXML("o-err", 112, "你好")})
	if got := passiveText(t, body, "o-err"); got != planText("wechat_busy") {
		t.Errorf("after a panic: reply %q, want %q", got, planText("wechat_busy"))
	}
}

// TestStop: Stop waits for a turn still running in the background and the
// delivery of its reply; afterwards the webhook answers 503. Stop twice is
// fine.
func TestStop(t *testing.T) {
	b := setup(t, setupOpts{cfg: func(c *Config) { c.ReplyBudget = 100 * time.Millisecond }})
	fake.reset()
	b.h.delay = 700 * time.Millisecond
	if _, body := b.post(t, request{xml: textXML("o-stop", 121, "在吗")}); body != "success" {
		t.Fatalf("answer %q", body)
	}
	b.a.Stop()
	if n := len(fake.okCalls("custom_send")); n != 1 {
		t.Errorf("after Stop: %d customer messages sent, want 1", n)
	}
	b.a.Stop()
	if resp, _ := b.post(t, request{xml: textXML("o-stop", 122, "在吗")}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Stop: status %d, want 503", resp.StatusCode)
	}
}

// signatureOK accepts exactly what the SDK's util.Signature computes: the
// parts in any order, and nothing else (an upper-case digest, a changed
// part, a digest cut short).
func TestSignatureOK(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		parts []string
	}{
		{"three parts", []string{"floortoken", "1733216400", "840213"}},
		{"sorted already", []string{"1", "2", "3"}},
		{"prefixes", []string{"ab", "a", "abc"}},
		{"empty parts", []string{"", "token", ""}},
		{"four parts (safe mode)", []string{"token", "1733216400", "nonce", strings.Repeat("encrypted", 100)}},
		{"non-ASCII", []string{"令牌", "1733216400", "ñ"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := util.Signature(slices.Clone(tc.parts)...)
			reversed := slices.Clone(tc.parts)
			slices.Reverse(reversed)
			if !signatureOK(want, tc.parts...) || !signatureOK(want, reversed...) {
				t.Fatalf("signature %s of %q refused", want, tc.parts)
			}
			if signatureOK(strings.ToUpper(want), tc.parts...) && strings.ToUpper(want) != want {
				t.Error("upper-case digest accepted")
			}
			if signatureOK(want[:len(want)-1], tc.parts...) || signatureOK(want+"0", tc.parts...) {
				t.Error("digest of the wrong length accepted")
			}
			changed := slices.Clone(tc.parts)
			changed[0] += "x"
			if signatureOK(want, changed...) {
				t.Error("signature of other parts accepted")
			}
		})
	}
	if signatureOK("", "a", "b", "c", "d", "e") {
		t.Error("five parts accepted")
	}
}
