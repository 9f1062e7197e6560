package telegram

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// TestDeliverClassifiesFailures: each Bot API answer becomes the error
// notify acts on, with the count of calls that went out before it; a
// message refused for itself (ErrPermanent) is skipped and the messages
// after it still go.
func TestDeliverClassifiesFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fail    apiError
		check   func(error) bool
		reason  string
		comment string
		// rest: the message is refused for itself, so the one after it
		// still goes.
		rest bool
	}{
		{"rate limited", apiError{Code: 429, Description: "Too Many Requests: retry after 7", RetryAfter: 7}, func(err error) bool {
			rl, ok := errors.AsType[*bot.RateLimitedError](err)
			return ok && rl.RetryAfter == 7*time.Second
		}, "rate_limited", "a RateLimitedError of 7s", false},
		{"blocked", apiError{Code: 403, Description: "Forbidden: bot was blocked by the user"}, func(err error) bool {
			return errors.Is(err, bot.ErrUnreachable)
		}, "forbidden", "ErrUnreachable", false},
		{"chat not found", apiError{Code: 400, Description: "Bad Request: chat not found"}, func(err error) bool {
			return errors.Is(err, bot.ErrUnreachable)
		}, "forbidden", "ErrUnreachable", false},
		{"bad request", apiError{Code: 400, Description: "Bad Request: can't parse entities"}, func(err error) bool {
			return errors.Is(err, bot.ErrPermanent)
		}, "bad_request", "ErrPermanent", true},
		{"server error", apiError{Code: 502, Description: "Bad Gateway"}, func(err error) bool {
			_, rl := errors.AsType[*bot.RateLimitedError](err)
			return err != nil && !rl && !errors.Is(err, bot.ErrUnreachable) && !errors.Is(err, bot.ErrPermanent)
		}, "other", "a transient error", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ModeWebhook, nil)
			// The second message fails: the first went out.
			b.api.setFail(func(c apiCall) *apiError {
				if c.Method == "sendMessage" && c.Fields["text"] == "二" {
					f := tc.fail
					return &f
				}
				return nil
			})
			start := time.Now()
			done, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "42", Kind: store.OutNotification,
				Messages: []dialogs.Outbound{{Text: "一"}, {Text: "二"}, {Text: "三"}}})
			if !tc.check(err) {
				t.Fatalf("Deliver = %v, want %s", err, tc.comment)
			}
			// After a refusal the third message still goes; anything else
			// stops at the second.
			wantDone, wantSent := 1, []string{"一", "二"}
			if tc.rest {
				wantDone, wantSent = 3, []string{"一", "二", "三"}
			}
			if done != wantDone {
				t.Errorf("done = %d, want %d", done, wantDone)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("Deliver waited %s: it must leave waiting to notify", time.Since(start))
			}
			var sent []string
			for _, c := range b.api.callsOf("sendMessage") {
				sent = append(sent, c.Fields["text"])
			}
			if !slices.Equal(sent, wantSent) {
				t.Errorf("sendMessage calls %q, want %q (no retry inside Deliver)", sent, wantSent)
			}
			if n := b.failures("sendMessage", tc.reason); n != 1 {
				t.Errorf("failures{%s} = %v, want 1", tc.reason, n)
			}
			if len(b.unreachableIDs()) != 0 {
				t.Error("Deliver marked the user unreachable itself: notify records it")
			}
		})
	}
}

// TestDeliverResumes: a delivery that failed after some calls resumes after
// them: the photo of the first message is not sent twice.
func TestDeliverResumes(t *testing.T) {
	t.Parallel()
	b := setup(t, ModeWebhook, nil)
	msgs := []dialogs.Outbound{
		{Text: "请扫码缴费", Image: &dialogs.OutImage{Name: "qr.png", Data: []byte("\x89PNG\r\n\x1a\nQR")}},
		{Text: "缴费后请回复“已缴费”", Choices: []dialogs.Choice{{ID: "paid", Label: "已缴费"}}},
	}
	fail := true
	b.api.setFail(func(c apiCall) *apiError {
		if c.Method == "sendMessage" && fail {
			fail = false
			return &apiError{Code: 500, Description: "Internal Server Error"}
		}
		return nil
	})
	d := bot.Delivery{UserID: "42", Kind: store.OutNotification, Messages: msgs}
	done, err := b.a.Deliver(context.Background(), d)
	if err == nil || done != 1 {
		t.Fatalf("first attempt: done %d, err %v; want 1 and an error", done, err)
	}
	d.Done = done
	if done, err = b.a.Deliver(context.Background(), d); err != nil || done != 2 {
		t.Fatalf("second attempt: done %d, err %v; want 2, nil", done, err)
	}
	if n := len(b.api.callsOf("sendPhoto")); n != 1 {
		t.Errorf("%d photos sent, want 1", n)
	}
	last := b.api.callsOf("sendMessage")
	if kb := keyboardOf(t, last[len(last)-1]); len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0].CallbackData != "paid" {
		t.Errorf("keyboard %+v", kb)
	}
	if _, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "not-a-chat", Messages: msgs}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("Deliver to a malformed chat id = %v, want ErrPermanent", err)
	}
}

// TestSplitFor: replies go through the outbox; with webhook_reply (on by
// default in webhook mode) a reply of texts that join into one message that
// fits stays for the webhook's response, joined, and a few texts that do not
// join stay with the webhook as they are (the adapter sends the earlier ones
// by the API before it answers); images and longer replies go by the outbox.
func TestSplitFor(t *testing.T) {
	t.Parallel()
	text := dialogs.Outbound{Text: "请上传证件照", Ask: &dialogs.Ask{Slot: "photo", Type: "image"}}
	img := dialogs.Outbound{Text: "扫码", Image: &dialogs.OutImage{Name: "qr.png", Data: []byte("png")}}
	long := dialogs.Outbound{Text: strings.Repeat("长", maxTextUnits-10)}
	half := dialogs.Outbound{Text: strings.Repeat("长", (maxTextUnits-maxHintUnits)/2)}
	question := dialogs.Outbound{Text: "是否？", Choices: []dialogs.Choice{{ID: "yes", Label: "是"}}, Ask: &dialogs.Ask{Slot: "q", Type: "bool"}}
	cases := []struct {
		name   string
		cfg    Config
		msgs   []dialogs.Outbound
		inline int
	}{
		{"polling", Config{Mode: ModePolling, WebhookReply: new(true)}, []dialogs.Outbound{text}, 0},
		{"webhook, webhook_reply off", Config{Mode: ModeWebhook, WebhookReply: new(false)}, []dialogs.Outbound{text}, 0},
		{"webhook, default: one text", Config{Mode: ModeWebhook}, []dialogs.Outbound{text}, 1},
		{"webhook reply, one text", Config{Mode: ModeWebhook, WebhookReply: new(true)}, []dialogs.Outbound{text}, 1},
		{"webhook reply, two texts joined", Config{Mode: ModeWebhook}, []dialogs.Outbound{{Text: "已记下。"}, text}, 1},
		{"webhook reply, buttons before the last", Config{Mode: ModeWebhook}, []dialogs.Outbound{question, text}, 2},
		{"webhook reply, a link before the last", Config{Mode: ModeWebhook}, []dialogs.Outbound{{Text: "结果"}, {Text: "官网", Link: &dialogs.Link{Label: "官网", URL: "https://example.org/"}}, text}, 2},
		{"webhook reply, a text before a question", Config{Mode: ModeWebhook}, []dialogs.Outbound{{Text: "已记下。"}, question, text}, 2},
		{"webhook reply, a text before a long one", Config{Mode: ModeWebhook}, []dialogs.Outbound{{Text: "已记下。"}, long, text}, 3},
		{"webhook reply, two texts too long together", Config{Mode: ModeWebhook}, []dialogs.Outbound{half, half}, 2},
		{"webhook reply, a long text before the last", Config{Mode: ModeWebhook}, []dialogs.Outbound{question, long, text}, 3},
		{"webhook reply, more messages than the webhook carries", Config{Mode: ModeWebhook}, []dialogs.Outbound{question, question, question, question, text}, 0},
		{"webhook reply, off: buttons before the last", Config{Mode: ModeWebhook, WebhookReply: new(false)}, []dialogs.Outbound{question, text}, 0},
		{"webhook reply, image", Config{Mode: ModeWebhook}, []dialogs.Outbound{img}, 0},
		{"webhook reply, an image before a question", Config{Mode: ModeWebhook}, []dialogs.Outbound{img, question}, 0},
		{"webhook reply, too long with a hint", Config{Mode: ModeWebhook}, []dialogs.Outbound{long}, 0},
		{"webhook reply, the last too long with a hint", Config{Mode: ModeWebhook}, []dialogs.Outbound{question, long}, 0},
	}
	for _, tc := range cases {
		inline, rest := SplitFor(tc.cfg)(tc.msgs)
		if len(inline) != tc.inline || tc.inline == 0 && len(rest) != len(tc.msgs) || tc.inline > 0 && len(rest) != 0 {
			t.Errorf("%s: %d inline, %d by the outbox; want %d inline", tc.name, len(inline), len(rest), tc.inline)
		}
	}
	// Joined: the texts in order, with the last message's question.
	inline, _ := SplitFor(Config{Mode: ModeWebhook})([]dialogs.Outbound{{Text: "已记下。"}, text})
	if len(inline) != 1 || inline[0].Text != "已记下。\n\n请上传证件照" || inline[0].Ask != text.Ask {
		t.Errorf("joined %+v", inline)
	}
	// A text joins the message after it, which keeps its link; the message
	// with the link ends the run.
	link := &dialogs.Link{Label: "官网", URL: "https://example.org/"}
	inline, _ = SplitFor(Config{Mode: ModeWebhook})([]dialogs.Outbound{{Text: "结果"}, {Text: "材料", Link: link}, text})
	if len(inline) != 2 || inline[0].Text != "结果\n\n材料" || inline[0].Link != link || inline[1].Text != text.Text {
		t.Errorf("joined into the link %+v", inline)
	}
}
