package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

func TestConversation(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)

		b.deliver(textUpdate(1, testChat, "/start"))
		sent := b.waitSent(1)
		if got := textOf(sent[0]); got != "欢迎！请选择：" {
			t.Fatalf("welcome = %q", got)
		}
		if raw := sent[0].Fields["reply_markup"]; strings.Contains(raw, "copy_text") {
			t.Errorf("inline keyboard carries copy_text: %s", raw)
		}
		kb := keyboardOf(t, sent[0])
		want := [][]inlineButton{{{Text: "1. 甲", CallbackData: "a"}, {Text: "2. 乙", CallbackData: "b"}}}
		if !jsonEqual(kb.InlineKeyboard, want) {
			t.Errorf("keyboard = %+v, want %+v", kb.InlineKeyboard, want)
		}

		b.deliver(callbackUpdate(2, testChat, "b", 1, "欢迎！请选择：", want))
		sent = b.waitSent(2)
		if got := textOf(sent[1]); got != "你选了 b" {
			t.Errorf("after the button: %q", got)
		}
		answers := b.api.callsOf("answerCallbackQuery")
		if len(answers) != 1 || answers[0].Fields["callback_query_id"] != "cb-2" {
			t.Errorf("answerCallbackQuery calls = %+v", answers)
		}
		edits := b.api.callsOf("editMessageText")
		if len(edits) != 1 || edits[0].Fields["message_id"] != "1" || !strings.HasSuffix(edits[0].Fields["text"], "✅ 乙") ||
			edits[0].Fields["reply_markup"] != `{"inline_keyboard":[]}` {
			t.Errorf("the pressed button is not marked: %+v", edits)
		}

		b.deliver(textUpdate(3, testChat, "你好"))
		b.deliver(textUpdate(4, testChat, "/help@regbot_bot"))
		b.deliver(textUpdate(5, testChat, "/status"))
		b.deliver(textUpdate(6, testChat, "/human"))
		sent = b.waitSent(6)
		if got := textOf(sent[2]); got != "你说：你好" {
			t.Errorf("echo = %q", got)
		}

		got := b.h.inbounds()
		wantIn := []dialogs.Inbound{
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:1", Event: "subscribe"},
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:2", Choice: "b"},
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:3", Text: "你好"},
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:4", Text: "帮助"},
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:5", Text: "进度"},
			{Channel: "telegram", UserID: "42", MsgID: "tg-update:6", Text: "转人工"},
		}
		if !jsonEqual(got, wantIn) {
			t.Errorf("inbounds =\n%+v\nwant\n%+v", got, wantIn)
		}
	})
}

func TestPhotoUpload(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		photo := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 20000)
		b.api.addFile("big", "photos/file_7.jpg", photo, 0)

		b.deliver(message(1, testChat, map[string]any{"photo": []map[string]any{
			{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 120, "file_size": 2000},
			{"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 427, "file_size": 20000},
			{"file_id": "big", "file_unique_id": "b", "width": 960, "height": 1280, "file_size": len(photo)},
		}}))
		sent := b.waitSent(1)
		if got := textOf(sent[0]); got != "收到图片 file_7.jpg 80000 字节 document=false" {
			t.Errorf("reply = %q", got)
		}
		in := b.h.inbounds()
		if len(in) != 1 || in[0].Image == nil || !bytes.Equal(in[0].Image.Data, photo) || in[0].Image.Document {
			t.Fatalf("the photo's bytes did not arrive: %+v", in)
		}
		gets := b.api.callsOf("getFile")
		if len(gets) != 1 || gets[0].Fields["file_id"] != "big" {
			t.Errorf("getFile calls = %+v, want one for the largest size", gets)
		}
	})
}

func TestDocumentImage(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 60000)...)
		b.api.addFile("doc1", "documents/file_3.png", png, 0)

		b.deliver(message(1, testChat, map[string]any{"document": map[string]any{
			"file_id": "doc1", "file_unique_id": "d1", "file_name": "证件照.png", "mime_type": "image/png", "file_size": len(png),
		}}))
		b.deliver(message(2, testChat, map[string]any{"document": map[string]any{
			"file_id": "pdf1", "file_unique_id": "p1", "file_name": "简历.pdf", "mime_type": "application/pdf", "file_size": 1000,
		}}))
		sent := b.waitSent(2)
		if got := textOf(sent[0]); got != "收到图片 证件照.png 60008 字节 document=true" {
			t.Errorf("reply = %q", got)
		}
		if got := textOf(sent[1]); got != "暂不支持：file" {
			t.Errorf("a PDF is not an image: reply = %q", got)
		}
		in := b.h.inbounds()
		if len(in) != 2 || in[0].Image == nil || !bytes.Equal(in[0].Image.Data, png) || !in[0].Image.Document {
			t.Fatalf("the document's bytes did not arrive: %+v", in)
		}
		if gets := b.api.callsOf("getFile"); len(gets) != 1 {
			t.Errorf("getFile calls = %d, want 1 (the PDF is not downloaded)", len(gets))
		}
	})
}

func TestLargeFileRefused(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		// The size is in the update: refused before any Bot API call.
		b.deliver(message(1, testChat, map[string]any{"document": map[string]any{
			"file_id": "huge", "file_unique_id": "h", "file_name": "scan.jpg", "mime_type": "image/jpeg", "file_size": 30 << 20,
		}}))
		sent := b.waitSent(1)
		if got := textOf(sent[0]); got != planText("telegram_too_large", "max", "20 MB") {
			t.Errorf("reply = %q", got)
		}
		if gets := b.api.callsOf("getFile"); len(gets) != 0 {
			t.Errorf("a 30 MB file was asked for: %+v", gets)
		}
		// Size unknown in the update: getFile refuses it ("file is too big").
		b.api.addFile("huge2", "documents/file_9.jpg", []byte("x"), 30<<20)
		b.deliver(message(2, testChat, map[string]any{"document": map[string]any{
			"file_id": "huge2", "file_unique_id": "h2", "file_name": "scan2.jpg", "mime_type": "image/jpeg",
		}}))
		sent = b.waitSent(2)
		if got := textOf(sent[1]); got != planText("telegram_too_large", "max", "20 MB") {
			t.Errorf("reply = %q", got)
		}
		if in := b.h.inbounds(); len(in) != 0 {
			t.Errorf("the handler got a refused file: %+v", in)
		}
	})
}

func TestDuplicateUpdate(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		b.deliver(textUpdate(7, testChat, "第一次"))
		b.deliver(textUpdate(7, testChat, "第一次"))
		b.deliver(textUpdate(8, testChat, "之后"))
		sent := b.waitSent(2)
		if len(b.h.inbounds()) != 2 {
			t.Errorf("handled %d messages, want 2 (the redelivery dropped): %+v", len(b.h.inbounds()), b.h.inbounds())
		}

		// Another instance (no memory of update 7; with its own poller in
		// polling mode) hands the redelivery to the handler, which knows the
		// message id: nothing is sent.
		other := setup(t, mode, &setupOpts{handler: b.h})
		other.deliver(textUpdate(7, testChat, "第一次"))
		other.deliver(textUpdate(9, testChat, "标记"))
		otherSent := other.waitSent(1)
		if b.h.duplicates() != 1 {
			t.Errorf("handler saw %d duplicates, want 1", b.h.duplicates())
		}
		var texts []string
		for _, c := range append(sent, otherSent...) {
			texts = append(texts, textOf(c))
		}
		if want := []string{"你说：第一次", "你说：之后", "你说：标记"}; !slices.Equal(texts, want) {
			t.Errorf("sent %q, want %q", texts, want)
		}
	})
}

func TestWebhookSecret(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	body, _ := json.Marshal(textUpdate(1, testChat, "你好"))
	for name, secret := range map[string]string{"wrong": "not-the-secret-at-all-12345", "missing": "", "prefix": testSecret[:10]} {
		if resp := b.post(body, secret); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s secret: status %d, want 401", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, b.hook.URL, nil)
	req.Header.Set(secretHeader, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", resp.StatusCode)
	}
	if in := b.h.inbounds(); len(in) != 0 {
		t.Errorf("handler called without the secret: %+v", in)
	}
	if sent := b.api.sent(); len(sent) != 0 {
		t.Errorf("messages sent: %+v", sent)
	}
	// An unreadable update with the right secret is acknowledged (or
	// Telegram would redeliver it for hours) and handled as nothing.
	if resp := b.post([]byte(`{"update_id":`), testSecret); resp.StatusCode != http.StatusOK {
		t.Errorf("unreadable update: status %d, want 200", resp.StatusCode)
	}
	if resp := b.post(body, testSecret); resp.StatusCode != http.StatusOK {
		t.Errorf("right secret: status %d", resp.StatusCode)
	}
	if in := b.h.inbounds(); len(in) != 1 {
		t.Errorf("handled %d messages with the right secret, want 1", len(in))
	}

	polling := setup(t, ModePolling, &setupOpts{noStart: true})
	rec := httptest.NewRecorder()
	polling.a.ServeHTTP(rec, mustRequest(t, body))
	if rec.Code != http.StatusNotFound {
		t.Errorf("webhook in polling mode: status %d, want 404", rec.Code)
	}
}

func TestRetryAfter429(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		tries := 0
		b.api.setFail(func(c apiCall) *apiError {
			if c.Method != "sendMessage" {
				return nil
			}
			tries++
			if tries == 1 {
				return &apiError{Code: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1}
			}
			return nil
		})
		b.deliver(textUpdate(1, testChat, "你好"))
		calls := b.api.callsOf("sendMessage")
		b.api.waitFor("the retried sendMessage", func() bool {
			calls = b.api.callsOf("sendMessage")
			return len(calls) == 2
		})
		if gap := calls[1].At.Sub(calls[0].At); gap < 950*time.Millisecond {
			t.Errorf("retried after %s, want retry_after (1s)", gap)
		}
		if calls[1].Fields["text"] != "你说：你好" {
			t.Errorf("retried text = %q", calls[1].Fields["text"])
		}
		if n := b.failures("sendMessage", "rate_limited"); n != 0 {
			t.Errorf("a retried 429 counted as a failure: %v", n)
		}
	})
}

func TestRateLimitGivesUp(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	b.api.setFail(func(c apiCall) *apiError {
		return &apiError{Code: 429, Description: "Too Many Requests: retry after 60", RetryAfter: 60}
	})
	start := time.Now()
	_, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "42", Messages: []dialogs.Outbound{{Text: "通知"}}})
	var rl *bot.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Fatalf("Deliver = %v, want a RateLimitedError of 1m", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Deliver waited %s for a 60 s retry_after instead of returning", time.Since(start))
	}
	if n := len(b.api.callsOf("sendMessage")); n != 1 {
		t.Errorf("sendMessage tried %d times, want 1", n)
	}
	if n := b.failures("sendMessage", "rate_limited"); n != 1 {
		t.Errorf("rate_limited failures = %v, want 1", n)
	}
}

func TestBlockedUser(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
			return dialogs.Result{Messages: []dialogs.Outbound{{Text: "一"}, {Text: "二"}}}, nil
		}
		b.api.setFail(func(c apiCall) *apiError {
			if c.Method == "sendMessage" && c.Fields["chat_id"] == "42" {
				return &apiError{Code: 403, Description: "Forbidden: bot was blocked by the user"}
			}
			return nil
		})
		b.deliver(textUpdate(1, testChat, "你好"))
		b.deliver(textUpdate(2, 43, "标记"))
		b.api.waitFor("the other chat's replies", func() bool { return len(b.api.callsOf("sendMessage")) == 3 })
		var to42 int
		for _, c := range b.api.callsOf("sendMessage") {
			if c.Fields["chat_id"] == "42" {
				to42++
			}
		}
		if to42 != 1 {
			t.Errorf("%d sendMessage calls to the blocked user, want 1 (no retry, no second message)", to42)
		}
		b.api.waitFor("unreachable", func() bool { return len(b.unreachableIDs()) > 0 })
		if got := b.unreachableIDs(); len(got) != 1 || got[0] != (store.Identity{Channel: "telegram", UserID: "42"}) {
			t.Errorf("unreachable = %+v", got)
		}
		if n := b.failures("sendMessage", "forbidden"); n != 1 {
			t.Errorf("forbidden failures = %v, want 1", n)
		}
		_, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "42", Messages: []dialogs.Outbound{{Text: "通知"}}})
		if !errors.Is(err, bot.ErrUnreachable) {
			t.Errorf("Deliver to a blocked user = %v, want bot.ErrUnreachable", err)
		}
	})
}

func TestBlockedByChatMemberUpdate(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		b := setup(t, mode, nil)
		member := func(status string) map[string]any {
			return map[string]any{"status": status, "user": map[string]any{"id": 1, "is_bot": true, "first_name": "regbot"}}
		}
		b.deliver(map[string]any{"update_id": 1, "my_chat_member": map[string]any{
			"chat": map[string]any{"id": testChat, "type": "private"}, "from": map[string]any{"id": testChat, "is_bot": false, "first_name": "小王"},
			"date": 1767225600, "old_chat_member": member("member"), "new_chat_member": member("kicked"),
		}})
		b.api.waitFor("unreachable", func() bool { return len(b.unreachableIDs()) > 0 })
		if got := b.unreachableIDs(); got[0] != (store.Identity{Channel: "telegram", UserID: "42"}) {
			t.Errorf("unreachable = %+v", got)
		}
		if in := b.h.inbounds(); len(in) != 0 {
			t.Errorf("handler called for a block: %+v", in)
		}
	})
}

func TestRender(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	qr := []byte("\x89PNG\r\n\x1a\nQR")
	long := strings.Repeat("长", 5000)
	longID := strings.Repeat("专业名称很长", 5) // 90 bytes, over callback_data's 64
	done, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "42", Messages: []dialogs.Outbound{
		{Text: "请扫码缴费", Image: &dialogs.OutImage{Name: "qr.png", Data: qr}},
		{Text: "报名入口", Link: &dialogs.Link{Label: "打开报名网站", URL: "https://example.org/apply"}},
		{Text: long, Choices: []dialogs.Choice{{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}}},
		{Text: "请选择专业", Choices: []dialogs.Choice{{ID: longID, Label: "市场营销（很长的名称）"}, {ID: "none", Label: "以上都不是"}}},
		{Text: "请上传证件照", Ask: &dialogs.Ask{Slot: "photo", Type: "image"}},
		{Text: "模板", Link: &dialogs.Link{Label: "模板", URL: "ftp://example.org/x"}},
	}})
	if err != nil || done != 7 {
		t.Fatalf("Deliver = %d, %v; want 7 calls", done, err)
	}
	sent := b.api.sent()
	if len(sent) != 7 {
		t.Fatalf("sent %d messages, want 7: %v", len(sent), b.api.methods())
	}
	if c := sent[0]; c.Method != "sendPhoto" || !bytes.Equal(c.Files["photo"].Data, qr) || c.Files["photo"].Name != "qr.png" || c.Fields["caption"] != "请扫码缴费" {
		t.Errorf("photo = %s %+v %q", c.Method, c.Files, c.Fields["caption"])
	}
	if kb := keyboardOf(t, sent[1]); !jsonEqual(kb.InlineKeyboard, [][]inlineButton{{{Text: "打开报名网站", URL: "https://example.org/apply"}}}) {
		t.Errorf("link button = %+v", kb)
	}
	if a, c := textOf(sent[2]), textOf(sent[3]); utf16Len(a) > 4096 || a+c != long {
		t.Errorf("long text split into %d + %d characters, not the whole text", len([]rune(a)), len([]rune(c)))
	}
	if _, ok := sent[2].Fields["reply_markup"]; ok {
		t.Errorf("buttons on the first part of a split message")
	}
	if kb := keyboardOf(t, sent[3]); len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 2 {
		t.Errorf("yes/no buttons = %+v", kb)
	}
	kb := keyboardOf(t, sent[4])
	if len(kb.InlineKeyboard) != 2 || kb.InlineKeyboard[0][0].CallbackData != "#label:0" || kb.InlineKeyboard[1][0].CallbackData != "none" {
		t.Errorf("long choice id keyboard = %+v", kb)
	}
	if !strings.Contains(textOf(sent[5]), "「文件」") {
		t.Errorf("no send-as-file hint on an upload question: %q", textOf(sent[5]))
	}
	if got := textOf(sent[6]); !strings.Contains(got, "模板：ftp://example.org/x") {
		t.Errorf("non-web link not shown as text: %q", got)
	}
	for _, c := range sent {
		if strings.Contains(c.Fields["reply_markup"], "copy_text") {
			t.Errorf("copy_text in %s", c.Fields["reply_markup"])
		}
	}

	// Pressing the long-id button answers with its label.
	b.deliver(callbackUpdate(1, testChat, "#label:0", 5, "请选择专业", kb.InlineKeyboard))
	in := b.h.inbounds()
	if len(in) != 1 || in[0].Text != "市场营销（很长的名称）" || in[0].Choice != "" {
		t.Errorf("long-id button press = %+v", in)
	}
	// A label button that no longer exists is answered as stale.
	b.deliver(callbackUpdate(2, testChat, "#label:3", 5, "请选择专业", nil))
	answers := b.api.callsOf("answerCallbackQuery")
	if len(answers) != 2 || answers[1].Fields["text"] != planText("telegram_stale_button") {
		t.Errorf("stale button answers = %+v", answers)
	}
	if len(b.h.inbounds()) != 1 {
		t.Errorf("stale button reached the handler")
	}
}

func TestHandlerError(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	calls := map[string]int{}
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		calls[in.Text]++
		switch {
		case in.Text == "坏":
			return dialogs.Result{}, errors.New("record turn: connection refused")
		case in.Text == "偶尔" && calls[in.Text] < 3:
			return dialogs.Result{}, errors.New("lock user: i/o timeout")
		case in.Text == "偶尔":
			return dialogs.Result{Messages: []dialogs.Outbound{{Text: "第三次成功"}}}, nil
		}
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "好的"}}}, errors.New("save session: conflict")
	}
	body, _ := json.Marshal(textUpdate(1, testChat, "坏"))
	// A turn that keeps failing: tried three times, the candidate is told,
	// and Telegram is asked to deliver the update again.
	if resp := b.post(body, testSecret); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("failed turn: status %d, want 503", resp.StatusCode)
	}
	if calls["坏"] != 3 {
		t.Errorf("failed turn tried %d times, want 3", calls["坏"])
	}
	// Telegram's redelivery is handled, not dropped as a duplicate.
	if resp := b.post(body, testSecret); resp.StatusCode != http.StatusServiceUnavailable || calls["坏"] != 6 {
		t.Errorf("redelivery: status %d, %d tries", resp.StatusCode, calls["坏"])
	}
	b.deliver(textUpdate(2, testChat, "偶尔"))
	b.deliver(textUpdate(3, testChat, "好"))
	var texts []string
	for _, c := range b.api.sent() {
		texts = append(texts, textOf(c))
	}
	if want := []string{planText("telegram_busy"), planText("telegram_busy"), "第三次成功", "好的"}; !slices.Equal(texts, want) {
		t.Errorf("sent %q, want %q", texts, want)
	}
	if logs := b.logs.String(); !strings.Contains(logs, "connection refused") || !strings.Contains(logs, `"msg_id":"tg-update:1"`) {
		t.Errorf("turn failure not logged with its message id:\n%s", logs)
	}
	if strings.Contains(b.logs.String(), `"user":"42"`) {
		t.Errorf("the chat id is logged in clear")
	}
}

func TestTurnRetriedInPolling(t *testing.T) {
	t.Parallel()
	b := setup(t, ModePolling, nil)
	var tries atomic.Int64
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		if tries.Add(1) < 3 {
			return dialogs.Result{}, errors.New("record turn: connection reset")
		}
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到"}}}, nil
	}
	b.deliver(textUpdate(1, testChat, "你好"))
	sent := b.waitSent(1)
	if textOf(sent[0]) != "收到" || tries.Load() != 3 {
		t.Errorf("sent %q after %d tries", textOf(sent[0]), tries.Load())
	}
}

// TestRefusedMessageSkippedInPolling: a reply message Telegram refuses (a
// 400) is logged and skipped; the messages after it still go.
func TestRefusedMessageSkippedInPolling(t *testing.T) {
	t.Parallel()
	b := setup(t, ModePolling, nil)
	b.h.reply = func(in dialogs.Inbound) (dialogs.Result, error) {
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "一"}, {Text: "二"}, {Text: "三"}}}, nil
	}
	b.api.setFail(func(c apiCall) *apiError {
		if c.Method == "sendMessage" && c.Fields["text"] == "一" {
			return &apiError{Code: 400, Description: "Bad Request: can't parse entities"}
		}
		return nil
	})
	b.deliver(textUpdate(1, testChat, "你好"))
	sent := b.waitSent(3)
	if len(sent) != 3 || textOf(sent[0]) != "一" || textOf(sent[1]) != "二" || textOf(sent[2]) != "三" {
		t.Fatalf("sent %+v, want the refused first message, then the second and the third", sent)
	}
	if !strings.Contains(b.logs.String(), "telegram message refused") {
		t.Errorf("the refusal is not logged:\n%s", b.logs.String())
	}
}

func TestDownloadFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	// getFile knows the file, the file server does not have it.
	b.api.mu.Lock()
	b.api.files["gone"] = fakeFile{path: "photos/gone.jpg", size: 1000, gone: true}
	b.api.mu.Unlock()
	b.deliver(message(1, testChat, map[string]any{"photo": []map[string]any{
		{"file_id": "missing-id", "file_unique_id": "x", "width": 90, "height": 90},
	}}))
	b.deliver(message(2, testChat, map[string]any{"photo": []map[string]any{
		{"file_id": "gone", "file_unique_id": "g", "width": 90, "height": 90},
	}}))
	sent := b.api.sent()
	if len(sent) != 2 || textOf(sent[0]) != planText("telegram_download_failed") || textOf(sent[1]) != planText("telegram_download_failed") {
		t.Errorf("sent %+v", sent)
	}
	if !strings.Contains(b.logs.String(), "status 404") {
		t.Errorf("download failure not logged:\n%s", b.logs.String())
	}
	// setup's cleanup checks that the token is nowhere in the logs.
}

func TestOrderPerChat(t *testing.T) {
	t.Parallel()
	b := setup(t, ModePolling, nil)
	b.h.delay = func(in dialogs.Inbound) time.Duration {
		if in.Text == "一" {
			return 300 * time.Millisecond
		}
		return 0
	}
	b.deliver(textUpdate(1, testChat, "一"))
	b.deliver(textUpdate(2, testChat, "二"))
	b.deliver(textUpdate(3, 43, "别人"))
	b.deliver(textUpdate(4, testChat, "三"))
	b.waitSent(4)
	var mine []string
	other := -1
	for i, in := range b.h.inbounds() {
		if in.UserID == "43" {
			other = i
			continue
		}
		mine = append(mine, in.Text)
	}
	if want := []string{"一", "二", "三"}; !slices.Equal(mine, want) {
		t.Errorf("chat 42 handled in order %q, want %q", mine, want)
	}
	// Chat 43 did not wait for chat 42's slow message.
	if other < 0 || other > 1 {
		t.Errorf("chat 43's message handled at position %d, want before chat 42's second", other)
	}
	b.api.waitFor("the chat queue to empty", func() bool { return b.a.queue.len() == 0 })
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ModePolling, &setupOpts{noStart: true})
		b.a.Stop() // before Start: no-op
		ctx, cancel := context.WithCancel(context.Background())
		if err := b.a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.a.Start(ctx); err == nil {
			t.Error("second Start succeeded")
		}
		if got := b.api.methods(); !slices.Contains(got, "deleteWebhook") || !slices.Contains(got, "setMyCommands") {
			t.Errorf("Start calls = %v", got)
		}
		b.deliver(textUpdate(1, testChat, "你好"))
		b.waitSent(1)
		cancel() // the context ends polling
		done := make(chan struct{})
		go func() {
			b.a.Stop()
			b.a.Stop()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Stop did not return")
		}
		b.deliver(textUpdate(2, testChat, "还在吗"))
		time.Sleep(400 * time.Millisecond)
		if len(b.h.inbounds()) != 1 {
			t.Errorf("an update was handled after Stop")
		}
	})
	t.Run("webhook", func(t *testing.T) {
		t.Parallel()
		b := setup(t, ModeWebhook, &setupOpts{noStart: true, cfg: func(c *Config) { c.WebhookURL = "https://bot.example.org/telegram" }})
		if err := b.a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.a.Stop()
		b.a.Stop()
		hooks := b.api.callsOf("setWebhook")
		if len(hooks) != 1 || hooks[0].Fields["url"] != "https://bot.example.org/telegram" || hooks[0].Fields["secret_token"] != testSecret ||
			hooks[0].Fields["allowed_updates"] != `["message","callback_query","my_chat_member"]` {
			t.Errorf("setWebhook = %+v", hooks)
		}
	})
	t.Run("rejected token", func(t *testing.T) {
		t.Parallel()
		api := newFakeAPI(t)
		b := setup(t, ModePolling, &setupOpts{noStart: true, api: api, cfg: func(c *Config) { c.Token = "999:wrong-token" }})
		err := b.a.Start(context.Background())
		if err == nil || strings.Contains(err.Error(), "wrong-token") {
			t.Errorf("Start with a rejected token = %v", err)
		}
	})
}

func TestGroupsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	upd := textUpdate(1, -100, "大家好")
	upd["message"].(map[string]any)["chat"] = map[string]any{"id": -100, "type": "supergroup", "title": "考生群"}
	b.deliver(upd)
	b.deliver(map[string]any{"update_id": 2, "edited_message": textUpdate(2, testChat, "改过")["message"]})
	if in := b.h.inbounds(); len(in) != 0 {
		t.Errorf("handled %+v", in)
	}
	if sent := b.api.sent(); len(sent) != 0 {
		t.Errorf("sent %+v", sent)
	}
}

// jsonEqual compares two values by their JSON forms.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func mustRequest(t *testing.T, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "/telegram", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(secretHeader, testSecret)
	return req
}
