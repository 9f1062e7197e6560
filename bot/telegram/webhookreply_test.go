package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/bot"
	"regbot/bot/bottest"
	"regbot/dialogs"
	"regbot/store"
)

// TestWebhookReply: in webhook mode by default (webhook_reply unset) the
// turn's last message is the webhook's response (a sendMessage Telegram
// runs), the earlier ones go by the API before it; an image goes by the API.
func TestWebhookReply(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, &setupOpts{cfg: func(c *Config) { c.WebhookReply = nil }})
	post := func(update map[string]any) map[string]any { return postHook(t, b.hook.URL, update) }
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

// postHook posts update to the webhook at url and returns its answer (nil
// when it has none); an answer other than 200 fails the test.
func postHook(t *testing.T, url string, update map[string]any) map[string]any {
	t.Helper()
	status, out := postHookStatus(t, url, update)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	return out
}

// TestWebhookReplyRedelivered: an update whose turn was recorded but whose
// answer Telegram did not get (the process died after recording) comes
// again, to another process: it is answered with the recorded reply, the
// turn does not run twice and nothing goes by the API.
func TestWebhookReplyRedelivered(t *testing.T) {
	t.Parallel()
	st := bottest.New(t)
	router := bot.NewRouter(st.Engine, bot.Deps{Fast: st.Mem, Record: st.Mem}, slog.New(slog.DiscardHandler),
		bot.WithSplit(Channel, SplitFor(Config{Mode: ModeWebhook})))
	cfg := func(c *Config) { c.WebhookReply = nil }
	first := setup(t, ModeWebhook, &setupOpts{handler: router, cfg: cfg})
	second := setup(t, ModeWebhook, &setupOpts{handler: router, cfg: cfg})
	id := store.Identity{Channel: Channel, UserID: strconv.FormatInt(testChat, 10)}

	postHook(t, first.hook.URL, textUpdate(1, testChat, "/start"))
	answer := postHook(t, first.hook.URL, textUpdate(2, testChat, "是"))
	if answer["method"] != "sendMessage" || answer["text"] == "" {
		t.Fatalf("answer %v, want the reply as a sendMessage", answer)
	}
	again := postHook(t, second.hook.URL, textUpdate(2, testChat, "是"))
	if !reflect.DeepEqual(again, answer) {
		t.Fatalf("redelivered update answered %v, want the recorded reply %v", again, answer)
	}
	msgs, err := st.Mem.InboundMessages(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages recorded, want 2 (the redelivery is not a turn)", len(msgs))
	}
	if n := len(first.api.callsOf("sendMessage")) + len(second.api.callsOf("sendMessage")); n != 0 {
		t.Fatalf("%d sendMessage calls, want 0 (every reply was a webhook answer)", n)
	}
}

// TestWebhookReplySeveralMessages: the eligibility result is three
// messages: the result, the materials with the official site's URL button,
// the question for the name. The result joins the materials (joinRuns); the
// question has its own message. In webhook mode they make no outbox row:
// the joined message goes by the API, with the URL button, before the
// webhook answers with the question. When a send fails the webhook answers 503, and
// Telegram's redelivery of the update sends the recorded reply again
// without running the turn twice.
func TestWebhookReplySeveralMessages(t *testing.T) {
	t.Parallel()
	st, b, upd := untilResult(t, nil)
	id := store.Identity{Channel: Channel, UserID: strconv.FormatInt(testChat, 10)}
	before := len(b.api.callsOf("sendMessage"))
	upd++
	result := textUpdate(upd, testChat, "1") // graduated: eligible by condition 4

	b.api.setFail(func(c apiCall) *apiError {
		if c.Method == "sendMessage" {
			return &apiError{Code: 502, Description: "Bad Gateway"}
		}
		return nil
	})
	if status, _ := postHookStatus(t, b.hook.URL, result); status != http.StatusServiceUnavailable {
		t.Fatalf("status %d with the Bot API failing, want 503 (deliver the update again)", status)
	}
	b.api.setFail(nil)
	failed := len(b.api.callsOf("sendMessage"))

	status, answer := postHookStatus(t, b.hook.URL, result)
	if status != http.StatusOK || answer["method"] != "sendMessage" || !strings.Contains(answer["text"].(string), "姓名") {
		t.Fatalf("redelivery answered %d %v, want the question for the name as a sendMessage", status, answer)
	}
	sent := b.api.callsOf("sendMessage")[failed:]
	if len(sent) != 1 || !strings.Contains(textOf(sent[0]), "符合报考条件") || !strings.Contains(textOf(sent[0]), "材料") ||
		strings.Index(textOf(sent[0]), "符合报考条件") > strings.Index(textOf(sent[0]), "材料") {
		t.Fatalf("API sends %v, want one: the result and then the materials", sent)
	}
	if kb := keyboardOf(t, sent[0]); len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0].URL == "" {
		t.Errorf("materials keyboard %+v, want the official site's URL button", kb)
	}
	if failed-before != 1 {
		t.Errorf("%d sends tried while the API failed, want 1 (the first, then 503)", failed-before)
	}

	msgs, err := st.Mem.InboundMessages(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != int(upd) {
		t.Fatalf("%d messages recorded, want %d (the redelivery is not a turn)", len(msgs), upd)
	}
	cached, err := st.Mem.Resume(context.Background(), id, st.Plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := st.Mem.Deliveries(context.Background(), cached.CandidateID, 100); err != nil || len(rows) != 0 {
		t.Fatalf("outbox rows %v (%v), want none: the whole dialog answers by the webhook", rows, err)
	}
}

// untilResult answers the dialog through the Router with SplitFor, in
// webhook mode with the webhook reply, up to the question whose answer "1"
// (graduated) gives the eligibility result; it returns the stack, the
// adapter and the last update id posted.
func untilResult(t *testing.T, later func(context.Context, string, []dialogs.Outbound, time.Time) error) (*bottest.Stack, *testBundle, int64) {
	t.Helper()
	st := bottest.New(t)
	router := bot.NewRouter(st.Engine, bot.Deps{Fast: st.Mem, Record: st.Mem}, slog.New(slog.DiscardHandler),
		bot.WithSplit(Channel, SplitFor(Config{Mode: ModeWebhook})))
	b := setup(t, ModeWebhook, &setupOpts{handler: router, later: later, cfg: func(c *Config) { c.WebhookReply = nil }})
	start := bottest.Today.AddDate(0, -30, 0).Format("2006-01")
	var upd int64
	for _, text := range []string{"是", "某某公司", "电子商务师", start, "至今", "否", "否", "2", "电子商务"} {
		upd++
		postHook(t, b.hook.URL, textUpdate(upd, testChat, text))
	}
	return st, b, upd
}

// TestWebhookReplyRestToOutbox: when a send fails while Telegram waits for
// the webhook's answer (here a 429 on the result with the materials), the
// 429 is not waited out and the rest of the reply, the last message too,
// goes to the outbox (Deps.Later) in order, to be sent once the 429's
// retry_after has passed; the webhook answers 200 without a message, so
// nothing can overtake what the outbox still holds.
func TestWebhookReplyRestToOutbox(t *testing.T) {
	t.Parallel()
	var queued []dialogs.Outbound
	var queuedFor string
	var notBefore time.Time
	_, b, upd := untilResult(t, func(_ context.Context, userID string, msgs []dialogs.Outbound, after time.Time) error {
		queuedFor, queued, notBefore = userID, append(queued, msgs...), after
		return nil
	})
	before := len(b.api.callsOf("sendMessage"))
	b.api.setFail(func(c apiCall) *apiError {
		if c.Method != "sendMessage" {
			return nil
		}
		return &apiError{Code: 429, Description: "Too Many Requests: retry after 5", RetryAfter: 5}
	})
	status, answer := postHookStatus(t, b.hook.URL, textUpdate(upd+1, testChat, "1"))
	if status != http.StatusOK || answer != nil {
		t.Fatalf("answered %d %v, want 200 and no message (the rest went to the outbox)", status, answer)
	}
	if sent := b.api.callsOf("sendMessage")[before:]; len(sent) != 1 {
		t.Fatalf("API calls %v, want one try of the result with the materials (a 429 is not waited out)", sent)
	}
	if queuedFor != strconv.FormatInt(testChat, 10) || len(queued) != 2 || !strings.Contains(queued[0].Text, "符合报考条件") ||
		!strings.Contains(queued[0].Text, "材料") || queued[0].Link == nil || !strings.Contains(queued[1].Text, "姓名") {
		t.Fatalf("queued for %q: %+v, want the result with the materials and their link, then the question for the name", queuedFor, queued)
	}
	// Not before the 429's retry_after (5 s) has passed.
	if wait := time.Until(notBefore); wait < 4*time.Second || wait > 5*time.Second {
		t.Errorf("queued to go in %v, want after the 429's retry_after of 5s", wait)
	}
}

// fixedReply is a Handler whose every turn answers with the same messages.
type fixedReply []dialogs.Outbound

func (f fixedReply) Handle(context.Context, dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{Messages: f}, nil
}

// TestWebhookReplyRefusedSkipped: a message Telegram refuses (400) while
// the webhook waits is skipped alone; the messages after it still go, by
// the API and as the webhook's answer, and nothing goes to the outbox.
func TestWebhookReplyRefusedSkipped(t *testing.T) {
	t.Parallel()
	var queued []dialogs.Outbound
	choices := []dialogs.Choice{{ID: "a", Label: "甲"}}
	reply := fixedReply{{Text: "一", Choices: choices}, {Text: "二", Choices: choices}, {Text: "三"}}
	b := setup(t, ModeWebhook, &setupOpts{handler: reply, cfg: func(c *Config) { c.WebhookReply = nil },
		later: func(_ context.Context, _ string, msgs []dialogs.Outbound, _ time.Time) error {
			queued = append(queued, msgs...)
			return nil
		}})
	b.api.setFail(func(c apiCall) *apiError {
		if c.Method == "sendMessage" && c.Fields["text"] == "一" {
			return &apiError{Code: 400, Description: "Bad Request: can't parse entities"}
		}
		return nil
	})
	status, answer := postHookStatus(t, b.hook.URL, textUpdate(1, testChat, "你好"))
	if status != http.StatusOK || answer == nil || answer["text"] != "三" {
		t.Fatalf("answered %d %v, want 200 with the last message", status, answer)
	}
	sent := b.api.callsOf("sendMessage")
	if len(sent) != 2 || textOf(sent[0]) != "一" || textOf(sent[1]) != "二" {
		t.Fatalf("API calls %v, want the refused first message, then the second", sent)
	}
	if len(queued) != 0 {
		t.Fatalf("queued %+v, want nothing in the outbox", queued)
	}
}

// postHookStatus posts update to the webhook at url and returns the status
// and its answer (nil when it has none).
func postHookStatus(t *testing.T, url string, update map[string]any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(update)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(secretHeader, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode == http.StatusOK && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("response %q: %v", raw, err)
		}
	}
	return resp.StatusCode, out
}
