package telegram

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"regbot/dialogs"
)

// TestWebhookReply: with webhook_reply the turn's last message is the
// webhook's response (a sendMessage Telegram runs), the earlier ones go by
// the API before it; an image goes by the API.
func TestWebhookReply(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, &setupOpts{cfg: func(c *Config) { c.WebhookReply = true }})
	post := func(update map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(update)
		req, _ := http.NewRequest(http.MethodPost, b.hook.URL, bytes.NewReader(body))
		req.Header.Set(secretHeader, testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if len(raw) == 0 {
			return nil
		}
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("response %q: %v", raw, err)
		}
		return out
	}
	got := post(textUpdate(1, testChat, "你好"))
	if got["method"] != "sendMessage" || got["text"] != "你说：你好" || got["chat_id"] != float64(testChat) {
		t.Fatalf("response %v, want the reply as a sendMessage", got)
	}
	if n := len(b.api.callsOf("sendMessage")); n != 0 {
		t.Fatalf("%d sendMessage calls for a one-message turn, want 0", n)
	}
	got = post(textUpdate(2, testChat, "/start"))
	if kb, _ := got["reply_markup"].(map[string]any); got["text"] != "欢迎！请选择：" || kb["inline_keyboard"] == nil {
		t.Fatalf("response %v, want the welcome with its buttons", got)
	}

	b.h.reply = func(dialogs.Inbound) (dialogs.Result, error) {
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "第一条"}, {Text: "第二条"}}}, nil
	}
	got = post(textUpdate(3, testChat, "x"))
	if got["text"] != "第二条" {
		t.Fatalf("response %v, want the last message", got)
	}
	if sent := b.api.callsOf("sendMessage"); len(sent) != 1 || textOf(sent[0]) != "第一条" {
		t.Fatalf("API sends %v, want the first message only", sent)
	}
	b.h.reply = func(dialogs.Inbound) (dialogs.Result, error) {
		return dialogs.Result{Messages: []dialogs.Outbound{{Text: "照片", Image: &dialogs.OutImage{Name: "a.png", Data: []byte("png")}}}}, nil
	}
	if got = post(textUpdate(4, testChat, "y")); got != nil {
		t.Fatalf("response %v for an image, want none (the API sends it)", got)
	}
	if n := len(b.api.callsOf("sendPhoto")); n != 1 {
		t.Fatalf("%d sendPhoto calls, want 1", n)
	}
}
