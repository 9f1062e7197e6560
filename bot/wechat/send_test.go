package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

func text(s string) []dialogs.Outbound { return []dialogs.Outbound{{Text: s}} }

// send delivers msgs to user as a turn's reply from the outbox.
func send(a *Adapter, ctx context.Context, user string, msgs []dialogs.Outbound) error {
	_, err := a.Deliver(ctx, bot.Delivery{UserID: user, Kind: store.OutReply, Messages: msgs})
	return err
}

// TestTokenRefusedRetriedOnce: a customer-service send refused with 40001
// (the token was replaced elsewhere) drops the cached token, fetches a new
// one and is tried once more; a second refusal is returned, not looped on.
func TestTokenRefusedRetriedOnce(t *testing.T) {
	for _, classic := range []bool{false, true} {
		t.Run(fmt.Sprintf("classic=%v", classic), func(t *testing.T) {
			b := setup(t, setupOpts{cfg: func(c *Config) { c.ClassicToken = classic }})
			fake.reset()
			tokenAPI := map[bool]string{false: "stable_token", true: "token"}[classic]
			ctx := context.Background()
			if err := send(b.a, ctx, "o-tok", text("第一条")); err != nil {
				t.Fatal(err)
			}
			fake.revoke()
			if err := send(b.a, ctx, "o-tok", text("第二条")); err != nil {
				t.Fatalf("send after the token was revoked: %v", err)
			}
			sends := fake.callsOf("custom_send")
			if len(sends) != 3 || sends[0].Code != 0 || sends[1].Code != 40001 || sends[2].Code != 0 {
				t.Fatalf("custom sends %v, want ok, 40001, ok", fake.summary())
			}
			if sends[1].Token == sends[2].Token {
				t.Errorf("retry used the refused token again")
			}
			if n := len(fake.callsOf(tokenAPI)); n != 2 {
				t.Errorf("%d token fetches, want 2", n)
			}
			if got := counterValue(t, b.a.metrics.apiErrors.WithLabelValues("custom_send", "40001")); got != 1 {
				t.Errorf("api_errors{custom_send,40001} = %v, want 1", got)
			}

			fake.failNext("custom_send", 40001, 40001, 40001)
			err := send(b.a, ctx, "o-tok", text("第三条"))
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != 40001 || ae.API != "custom_send" {
				t.Fatalf("err %v, want APIError 40001", err)
			}
			if n := len(fake.callsOf("custom_send")); n != 5 {
				t.Errorf("%d custom sends in all, want 5 (one retry only)", n)
			}
			for _, s := range []string{ae.Error(), b.logs.String()} {
				if strings.Contains(s, "access_token=T") || strings.Contains(s, "T"+sends[2].Token) {
					t.Errorf("credential leaked: %s", s)
				}
			}
		})
	}
}

// TestStableTokenForceRefresh: when the stable-token endpoint hands back
// the very token WeChat just refused, it is asked again with force_refresh.
func TestStableTokenForceRefresh(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	ctx := context.Background()
	if err := send(b.a, ctx, "o-force", text("一")); err != nil {
		t.Fatal(err)
	}
	fake.failNext("custom_send", 40001) // refused, yet still the current stable token
	if err := send(b.a, ctx, "o-force", text("二")); err != nil {
		t.Fatal(err)
	}
	var forced int
	for _, c := range fake.callsOf("stable_token") {
		if strings.Contains(string(c.Body), `"force_refresh":true`) {
			forced++
		}
	}
	if forced != 1 {
		t.Errorf("%d forced refreshes, want 1 (%v)", forced, fake.summary())
	}
}

// TestWindowClosed: 45015 switches to the fallback template, its fields
// filled from the undelivered text; without a fallback template the error
// says why.
func TestWindowClosed(t *testing.T) {
	b := setup(t, setupOpts{deps: func(d *Deps) {
		d.Now = func() time.Time { return time.Date(2025, 3, 1, 9, 30, 0, 0, time.Local) }
	}})
	fake.reset()
	ctx := context.Background()
	fake.failNext("custom_send", 45015)
	err := send(b.a, ctx, "o-win", []dialogs.Outbound{{Text: "审核通过"}, {Text: "请缴费", Choices: []dialogs.Choice{{ID: "ok", Label: "好"}}}})
	if err != nil {
		t.Fatalf("send with closed window: %v", err)
	}
	tpl := fake.okCalls("template_send")
	if len(tpl) != 1 {
		t.Fatalf("template sends %v", fake.summary())
	}
	var msg struct {
		ToUser     string `json:"touser"`
		TemplateID string `json:"template_id"`
		URL        string `json:"url"`
		Data       map[string]struct {
			Value string `json:"value"`
		} `json:"data"`
	}
	if err := json.Unmarshal(tpl[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.ToUser != "o-win" || msg.TemplateID != "TPL-FALLBACK" || msg.URL != "https://example.com/open" {
		t.Errorf("template message %+v", msg)
	}
	if got := msg.Data["thing1"].Value; got != "审核通过\n\n请缴费\n1. 好" && got != cut("审核通过\n\n请缴费\n1. 好", 20) {
		t.Errorf("thing1 %q", got)
	}
	if got := msg.Data["time2"].Value; got != "2025-03-01 09:30" {
		t.Errorf("time2 %q", got)
	}
	if got := counterValue(t, b.a.metrics.sent.WithLabelValues("template")); got != 1 {
		t.Errorf("sent{template} = %v", got)
	}

	b2 := setup(t, setupOpts{cfg: func(c *Config) { c.Templates = nil }})
	fake.failNext("custom_send", 45015)
	err = send(b2.a, ctx, "o-win", text("审核通过"))
	if !errors.Is(err, bot.ErrWindowClosed) {
		t.Errorf("without a fallback template: err %v, want bot.ErrWindowClosed", err)
	}
}

// TestTransientNotRetriedInside: Deliver tries each message once and
// leaves retries to notify: errcode -1 (system busy) comes back as a
// transient error; 43004 (unsubscribed) as bot.ErrUnreachable, before the
// image is uploaded.
func TestTransientNotRetriedInside(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	ctx := context.Background()
	fake.failNext("custom_send", -1)
	err := send(b.a, ctx, "o-busy", text("你好"))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != -1 || errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrUnreachable) {
		t.Errorf("send: %v, want the transient -1", err)
	}
	if n := len(fake.callsOf("custom_send")); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	fake.failNext("custom_send", 43004) // unsubscribed: nothing more can reach them
	err = send(b.a, ctx, "o-busy", []dialogs.Outbound{{Text: "一"}, {Image: &dialogs.OutImage{Name: "a.png", Data: []byte("png")}}})
	if !errors.Is(err, bot.ErrUnreachable) || !strings.Contains(err.Error(), "43004") {
		t.Errorf("err %v, want bot.ErrUnreachable with 43004", err)
	}
	if n := len(fake.callsOf("media_upload")); n != 0 {
		t.Errorf("image uploaded for an unreachable candidate")
	}
}

// TestSharedTokenFetch: two instances on one Redis with a cold cache and
// many concurrent sends fetch exactly one classic token between them, and
// every send uses it (a second fetch would have invalidated the first).
func TestSharedTokenFetch(t *testing.T) {
	rdb, prefix := testRedis(t)
	shared := func(d *Deps) { d.Redis, d.KeyPrefix = rdb, prefix }
	classic := func(c *Config) { c.ClassicToken = true }
	b1 := setup(t, setupOpts{cfg: classic, deps: shared})
	b2 := setup(t, setupOpts{cfg: classic, deps: shared})
	fake.reset()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		a := b1.a
		if i%2 == 1 {
			a = b2.a
		}
		wg.Go(func() { errs <- send(a, context.Background(), fmt.Sprintf("o-share-%d", i), text("hi")) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(fake.callsOf("token")); n != 1 {
		t.Errorf("%d token fetches, want 1", n)
	}
	if n := len(fake.okCalls("custom_send")); n != 20 {
		t.Errorf("%d sends ok, want 20 (%v)", n, fake.summary())
	}
}

// TestPushMenu: the configured menu goes out in WeChat's menu/create
// format.
func TestPushMenu(t *testing.T) {
	fake.reset()
	if err := PushMenu(context.Background(), testConfig()); err != nil {
		t.Fatal(err)
	}
	calls := fake.okCalls("menu_create")
	if len(calls) != 1 {
		t.Fatalf("menu pushes %v", fake.summary())
	}
	var got struct {
		Button []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Key       string `json:"key"`
			URL       string `json:"url"`
			SubButton []struct {
				Type string `json:"type"`
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"sub_button"`
		} `json:"button"`
	}
	if err := json.Unmarshal(calls[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Button) != 3 || got.Button[0].Name != "报名" || len(got.Button[0].SubButton) != 2 ||
		got.Button[0].SubButton[1].Type != "click" || got.Button[0].SubButton[1].Key != "PROGRESS" ||
		got.Button[1].Type != "click" || got.Button[1].Key != "HUMAN" ||
		got.Button[2].Type != "view" || got.Button[2].URL != "https://example.com/exam" {
		t.Errorf("menu %s", calls[0].Body)
	}

	cfg := testConfig()
	cfg.Menu = nil
	if err := PushMenu(context.Background(), cfg); err == nil {
		t.Error("empty menu pushed")
	}
}

// TestAtMostFiveCustomerMessages: a turn that would need many messages is
// combined into at most five.
func TestAtMostFiveCustomerMessages(t *testing.T) {
	b := setup(t, setupOpts{cfg: func(c *Config) { c.ReplyBudget = 50 * time.Millisecond }})
	fake.reset()
	img := func(n string) *dialogs.OutImage { return &dialogs.OutImage{Name: n, Data: []byte(n)} }
	b.h.delay = 200 * time.Millisecond
	b.h.reply = func(dialogs.Inbound) (dialogs.Result, error) {
		var msgs []dialogs.Outbound
		for i := range 4 {
			msgs = append(msgs,
				dialogs.Outbound{Text: fmt.Sprintf("材料 %d 的说明", i), Image: img(fmt.Sprintf("m%d.png", i))},
				dialogs.Outbound{Text: "收到了吗？", Choices: []dialogs.Choice{{ID: "y", Label: "收到"}}})
		}
		return dialogs.Result{Messages: msgs}, nil
	}
	if _, body := b.post(t, request{xml: textXML("o-five", 131, "材料")}); body != "success" {
		t.Fatalf("answer %q", body)
	}
	fake.waitOK(t, "custom_send", 5, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := len(fake.callsOf("custom_send")); n != 5 {
		t.Errorf("%d customer messages for one candidate message, want 5", n)
	}
}

func TestCustomerParts(t *testing.T) {
	t.Parallel()
	img := &dialogs.OutImage{Name: "qr.png", Data: []byte("png")}
	yes := []dialogs.Choice{{ID: "y", Label: "是"}, {ID: "n", Label: "否"}}
	tests := []struct {
		name    string
		msgs    []dialogs.Outbound
		want    []string // kind:text per part
		dropped int
	}{
		{"texts join", []dialogs.Outbound{{Text: "a"}, {Text: "b"}, {Text: "c"}}, []string{"text:a\n\nb\n\nc"}, 0},
		{"text heads a question", []dialogs.Outbound{{Text: "a"}, {Text: "q?", Choices: yes}}, []string{"menu:a\n\nq?|是,否|"}, 0},
		{"text tails a question", []dialogs.Outbound{{Text: "q?", Choices: yes}, {Text: "z"}}, []string{"menu:q?|是,否|z"}, 0},
		{"image splits", []dialogs.Outbound{{Text: "a", Image: img}, {Text: "b"}}, []string{"text:a", "image:", "text:b"}, 0},
		{"link as text", []dialogs.Outbound{{Text: "下载模板", Link: &dialogs.Link{Label: "模板包", URL: "https://example.com/t.zip"}}},
			[]string{"text:下载模板\n模板包：https://example.com/t.zip"}, 0},
		{"beyond five: an image goes, then menus flatten", []dialogs.Outbound{
			{Text: "1", Choices: yes}, {Image: img}, {Text: "2", Choices: yes}, {Image: img}, {Text: "3", Choices: yes}, {Image: img}, {Text: "4", Choices: yes},
		}, []string{"menu:1|是,否|", "image:", "menu:2|是,否|", "image:", "text:3\n1. 是\n2. 否\n\n4\n1. 是\n2. 否"}, 1},
		{"long text split", []dialogs.Outbound{{Text: strings.Repeat("一二三四五六七八九十\n", 100)}}, nil, 0},
		{"images dropped last", []dialogs.Outbound{{Image: img}, {Image: img}, {Image: img}, {Image: img}, {Image: img}, {Image: img}, {Image: img}},
			[]string{"image:", "image:", "image:", "image:", "image:"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, dropped := customerParts(tt.msgs)
			var got []string
			for _, p := range parts {
				switch p.kind {
				case partText:
					got = append(got, "text:"+p.text)
				case partMenu:
					var labels []string
					for _, c := range p.choices {
						labels = append(labels, c.Label)
					}
					got = append(got, "menu:"+p.text+"|"+strings.Join(labels, ",")+"|"+p.tail)
				case partImage:
					got = append(got, "image:")
				}
			}
			if tt.want == nil {
				// Only the limits are checked.
				for _, p := range parts {
					if len(p.text) > maxTextBytes {
						t.Errorf("part of %d bytes", len(p.text))
					}
				}
				if len(parts) < 2 {
					t.Errorf("%d parts, want the text split", len(parts))
				}
			} else if strings.Join(got, "¶") != strings.Join(tt.want, "¶") || dropped != tt.dropped {
				t.Errorf("parts %q dropped %d\nwant  %q dropped %d", got, dropped, tt.want, tt.dropped)
			}
			if len(parts) > maxCustomerMessages {
				t.Errorf("%d parts", len(parts))
			}
		})
	}
}

func TestSplitPassive(t *testing.T) {
	t.Parallel()
	img := &dialogs.OutImage{Name: "x.png", Data: []byte("x")}
	reply, rest, ok := splitPassive([]dialogs.Outbound{{Text: "看图", Image: img}, {Text: "下一步"}}, true)
	if !ok || reply != "看图" || len(rest) != 2 || rest[0].Image != img || rest[1].Text != "下一步" {
		t.Errorf("split: %q %+v %v", reply, rest, ok)
	}
	if _, rest, ok := splitPassive([]dialogs.Outbound{{Image: img}}, true); ok || len(rest) != 1 {
		t.Errorf("an image-only first message has no passive text")
	}

	// Texts after the first join the passive reply while they fit, choices
	// as numbered lines; an image ends it, and goes with what follows it.
	yesNo := []dialogs.Choice{{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}}
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: "请回复“是”或“否”。"}, {Text: "您参加过培训吗？", Choices: yesNo}}, true)
	if !ok || reply != "请回复“是”或“否”。\n\n您参加过培训吗？\n1. 是\n2. 否" || len(rest) != 0 {
		t.Errorf("two texts: %q %+v", reply, rest)
	}
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: "一"}, {Text: "二", Image: img}, {Text: "三"}}, true)
	if !ok || reply != "一\n\n二" || len(rest) != 2 || rest[0].Image != img || rest[0].Text != "" || rest[1].Text != "三" {
		t.Errorf("text, text with image, text: %q %+v", reply, rest)
	}
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: "一"}, {Image: img}, {Text: "三"}}, true)
	if !ok || reply != "一" || len(rest) != 2 || rest[0].Image != img || rest[1].Text != "三" {
		t.Errorf("text, image, text: %q %+v", reply, rest)
	}
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: "一"}, {Text: "二"}}, false)
	if !ok || reply != "一" || len(rest) != 1 || rest[0].Text != "二" {
		t.Errorf("join_replies false: %q %+v, want the first message alone", reply, rest)
	}
	big := strings.Repeat("长", 600) // 1,800 bytes
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: big}, {Text: "短"}, {Text: big}}, true)
	if !ok || reply != big+"\n\n短" || len(rest) != 1 || rest[0].Text != big {
		t.Errorf("a text that does not fit: reply %d bytes, rest %d", len(reply), len(rest))
	}

	// A text over WeChat's limit is cut at a line break; the rest follows.
	line := strings.Repeat("材", 200) // 600 bytes
	long := strings.Join([]string{line, line, line, line, line}, "\n")
	reply, rest, ok = splitPassive([]dialogs.Outbound{{Text: long, Choices: []dialogs.Choice{{ID: "a", Label: "好"}}}, {Text: "下一步"}}, true)
	if !ok || reply != strings.Join([]string{line, line, line}, "\n") || len(rest) != 2 ||
		rest[0].Text != line+"\n"+line+"\n1. 好" || rest[1].Text != "下一步" {
		t.Errorf("long split: reply %d bytes, rest %+v", len(reply), rest)
	}
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "短", strings.Repeat("长", 1000), strings.Repeat("a\n", 1500), strings.Repeat("条目一二三\n", 300)} {
		chunks := splitText(s, maxTextBytes)
		for _, c := range chunks {
			if len(c) > maxTextBytes || !utf8.ValidString(c) {
				t.Errorf("chunk of %d bytes (valid UTF-8: %v)", len(c), utf8.ValidString(c))
			}
		}
		if got := strings.ReplaceAll(strings.Join(chunks, ""), "\n", ""); got != strings.ReplaceAll(s, "\n", "") {
			t.Errorf("split lost text: %d chunks", len(chunks))
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	in := `http get error : uri=https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3CRET , statusCode=500; Get "http://mmbiz.qpic.cn/mmbiz_jpg/abc/0": timeout; access_token=TOKEN`
	got := redact(in)
	for _, leak := range []string{"S3CRET", "TOKEN", "mmbiz_jpg", "abc/0"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact left %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, "api.weixin.qq.com") || !strings.Contains(got, "statusCode=500") {
		t.Errorf("redact removed too much: %s", got)
	}
}
