package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"regbot/bot"
	"regbot/dialogs"
)

// Bot API limits, in UTF-16 code units as Telegram counts them.
const (
	maxTextUnits    = 4096
	maxCaptionUnits = 1024
	// maxCallbackData is the longest callback_data, in bytes.
	maxCallbackData = 64
)

// Retry policy for 429 answers.
const (
	maxAttempts  = 4
	maxRetryWait = 30 * time.Second
)

// labelDataPrefix marks the callback_data of a choice whose id is longer
// than Telegram allows: the button's label then stands for the choice.
const labelDataPrefix = "#label:"

// inlineKeyboard is the reply_markup of a message with buttons. The
// library's InlineKeyboardButton always carries an empty copy_text, which
// Telegram rejects; these carry only what is set.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// SplitFor returns how a turn's messages split between the HTTP answer and
// the outbox on the channel cfg configures (bot.WithSplit): all go through
// the outbox, where notify delivers them durably and in order with Deliver,
// except in webhook mode with webhook_reply (the default). There a reply of
// text messages that join into one message (see joinRuns) leaves as the
// webhook's response, which nothing sent earlier can be overtaken by; a
// reply that joins into up to maxWebhookMessages text messages (an earlier
// one has buttons, a link or a question of its own) stays with the
// webhook too: the adapter sends all but the last by the API, in order,
// before it answers with the last (see Adapter.process). Telegram delivers
// an update again until it gets an answer, and the redelivery is answered
// with the recorded reply, so these need no outbox row to survive a crash.
// Images always go by the outbox.
func SplitFor(cfg Config) func(msgs []dialogs.Outbound) (inline, rest []dialogs.Outbound) {
	cfg = cfg.WithDefaults()
	reply := cfg.webhookReply()
	return func(msgs []dialogs.Outbound) ([]dialogs.Outbound, []dialogs.Outbound) {
		if reply {
			if joined := joinRuns(msgs); webhookMessages(joined) {
				return joined, nil
			}
		}
		return nil, msgs
	}
}

// maxWebhookMessages bounds the messages a webhook update is answered with
// (all but the last sent by the API while Telegram waits for the answer).
const maxWebhookMessages = 4

// webhookMessages reports whether msgs can be a webhook update's answer
// without the outbox: a few messages without images, the last fitting
// the webhook's response (one message with room for an upload hint).
func webhookMessages(msgs []dialogs.Outbound) bool {
	if len(msgs) == 0 || len(msgs) > maxWebhookMessages {
		return false
	}
	for _, m := range msgs {
		if m.Image != nil {
			return false
		}
	}
	return fitsAnswer(msgs[len(msgs)-1])
}

// joinRuns joins each text message that has no buttons, link, question
// or image of its own into the message after it, the texts a blank line
// apart, as long as the joined text fits one message with room for an
// upload hint (fitsAnswer): what it joins into keeps its buttons, link and
// question, which belong below all of it. A reply of such texts becomes one
// message, and the eligibility result with the materials and their link
// after it one message instead of two, a Bot API call fewer while
// Telegram waits for the webhook's answer. A message with buttons, a link,
// a question or an image ends a run.
func joinRuns(msgs []dialogs.Outbound) []dialogs.Outbound {
	out := make([]dialogs.Outbound, 0, len(msgs))
	var held *dialogs.Outbound // a plain message waiting for the next
	for i := range msgs {
		m := msgs[i]
		if held != nil {
			j := m
			j.Text = joinText(held.Text, m.Text)
			if m.Image == nil && fitsAnswer(j) {
				m = j
			} else {
				out = append(out, *held)
			}
			held = nil
		}
		if i < len(msgs)-1 && m.Image == nil && len(m.Choices) == 0 && m.Link == nil && m.Ask == nil {
			held = &m
			continue
		}
		out = append(out, m)
	}
	return out
}

// fitsAnswer reports whether m's text fits one message with room for an
// upload hint, as the webhook's answer must.
func fitsAnswer(m dialogs.Outbound) bool {
	return utf16Len(m.Text)+maxHintUnits <= maxTextUnits
}

// maxHintUnits is room left for the upload hint a message may get (the
// plan's telegram_hint_* texts are a sentence or two).
const maxHintUnits = 512

// sendLogged sends msgs and logs a failure: the candidate's turn is over
// whatever happens to the replies.
func (a *Adapter) sendLogged(ctx context.Context, chatID int64, log *slog.Logger, msgs ...dialogs.Outbound) {
	if _, err := a.send(ctx, chatID, log, msgs, maxAttempts); err != nil && !errors.Is(err, bot.ErrUnreachable) {
		log.Error("telegram reply not delivered", "err", err)
	}
}

// send renders msgs in order and makes their calls, each with at most
// attempts tries for a 429 (see callWith). A message Telegram refuses (a
// 400) is logged and skipped, like the outbox's permanent failure, and the
// messages after it still go; any other failure stops it. It reports how
// many of msgs it is done with (sent or refused). A 403 marks the user
// unreachable.
func (a *Adapter) send(ctx context.Context, chatID int64, log *slog.Logger, msgs []dialogs.Outbound, attempts int) (int, error) {
	for i, m := range msgs {
		for _, s := range a.sends(chatID, m) {
			err := a.callWith(ctx, s.method, s.do, attempts)
			if errors.Is(err, tgbot.ErrorBadRequest) {
				log.Error("telegram message refused", "err", err)
				break
			}
			if errors.Is(err, bot.ErrUnreachable) {
				log.Info("telegram user blocked the bot")
				a.markUnreachable(ctx, chatID, log)
			}
			if err != nil {
				return i, err
			}
		}
	}
	return len(msgs), nil
}

// apiSend is one Bot API call of a rendered message.
type apiSend struct {
	method string
	do     func(ctx context.Context) error
}

// sends renders one message as Bot API calls: an image (with the text as
// its caption when it fits), then the text in as many messages as
// Telegram's length limit needs; the buttons go on the last one. The same
// message always renders as the same calls, so a delivery that failed
// half-way resumes after the calls that went out.
func (a *Adapter) sends(chatID int64, m dialogs.Outbound) []apiSend {
	text := joinText(m.Text, a.uploadHint(m.Ask))
	link := m.Link
	if link != nil && !isWebURL(link.URL) {
		text = joinText(text, linkLine(link))
		link = nil
	}
	kb := keyboard(m.Choices, link, a.texts)
	var out []apiSend
	if m.Image != nil {
		caption := ""
		if utf16Len(text) <= maxCaptionUnits {
			caption, text = text, ""
		}
		name := m.Image.Name
		if name == "" {
			name = "image.png"
		}
		photo := &tgbot.SendPhotoParams{ChatID: chatID, Caption: caption}
		if text == "" && kb != nil {
			photo.ReplyMarkup = kb
		}
		data := m.Image.Data
		out = append(out, apiSend{"sendPhoto", func(ctx context.Context) error {
			p := *photo
			p.Photo = &models.InputFileUpload{Filename: name, Data: bytes.NewReader(data)}
			_, err := a.api.SendPhoto(ctx, &p)
			return err
		}})
		if text == "" {
			return out
		}
	}
	chunks := splitText(text, maxTextUnits)
	if len(chunks) == 0 {
		if kb == nil {
			return out
		}
		chunks = []string{a.texts.text("telegram_choose")}
	}
	for i, c := range chunks {
		p := &tgbot.SendMessageParams{ChatID: chatID, Text: c}
		if i == len(chunks)-1 && kb != nil {
			p.ReplyMarkup = kb
		}
		out = append(out, apiSend{"sendMessage", func(ctx context.Context) error {
			_, err := a.api.SendMessage(ctx, p)
			return err
		}})
	}
	return out
}

// replyParams is m as the single sendMessage a webhook response can carry:
// ok is false for a message with an image or one that needs several
// messages.
func (a *Adapter) replyParams(chatID int64, m dialogs.Outbound) (*tgbot.SendMessageParams, bool) {
	if m.Image != nil {
		return nil, false
	}
	text := joinText(m.Text, a.uploadHint(m.Ask))
	link := m.Link
	if link != nil && !isWebURL(link.URL) {
		text = joinText(text, linkLine(link))
		link = nil
	}
	kb := keyboard(m.Choices, link, a.texts)
	if text == "" && kb != nil {
		text = a.texts.text("telegram_choose")
	}
	if text == "" || utf16Len(text) > maxTextUnits {
		return nil, false
	}
	p := &tgbot.SendMessageParams{ChatID: chatID, Text: text}
	if kb != nil {
		p.ReplyMarkup = kb
	}
	return p, true
}

// keyboard lays choices out as buttons, each with its number (texts'
// telegram_choice), a link as a URL button; nil when there are none. Short
// labels share a row, long ones get their own.
func keyboard(choices []dialogs.Choice, link *dialogs.Link, t texts) *inlineKeyboard {
	if len(choices) == 0 && link == nil {
		return nil
	}
	kb := &inlineKeyboard{InlineKeyboard: [][]inlineButton{}}
	short := len(choices) <= 3
	for _, c := range choices {
		if len([]rune(c.Label)) > 6 {
			short = false
		}
	}
	var row []inlineButton
	for i, c := range choices {
		label := c.Label
		if label == "" {
			label = c.ID
		}
		data := c.ID
		if len(data) > maxCallbackData {
			data = labelDataPrefix + strconv.Itoa(i)
		}
		b := inlineButton{Text: t.button(i+1, label), CallbackData: data}
		if short {
			row = append(row, b)
			continue
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, []inlineButton{b})
	}
	if len(row) > 0 {
		kb.InlineKeyboard = append(kb.InlineKeyboard, row)
	}
	if link != nil {
		label := link.Label
		if label == "" {
			label = t.text("telegram_open_link")
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, []inlineButton{{Text: label, URL: link.URL}})
	}
	return kb
}

// isWebURL reports whether s can be a URL button (Telegram takes http(s)
// and tg: links; anything else is shown as text).
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func linkLine(l *dialogs.Link) string {
	if l.Label == "" {
		return l.URL
	}
	return l.Label + "：" + l.URL
}

func joinText(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n\n" + b
}

// uploadHint is the send-as-file hint for a message asking for an image of
// a material: for every upload when Deps.SizeMatters is nil, else only for
// materials with a file size rule.
func (a *Adapter) uploadHint(ask *dialogs.Ask) string {
	switch {
	case ask == nil || ask.Type != "image":
		return ""
	case a.deps.SizeMatters == nil:
		return a.texts.text("telegram_hint_document")
	case a.deps.SizeMatters(ask.Slot):
		return a.texts.text("telegram_hint_size")
	}
	return ""
}

// SizeMattersIn reports, for Deps.SizeMatters, which of plan's materials
// have a rule Telegram's photo compression can break: a minimum or a tight
// maximum file size, or a minimum side over the 1280 pixels Telegram scales
// photos down to.
func SizeMattersIn(plan *dialogs.Plan) func(material string) bool {
	return func(material string) bool {
		m, ok := plan.Material(material)
		if !ok {
			return false
		}
		c := m.Checks
		return c.MinBytes > 0 || (c.MaxBytes > 0 && c.MaxBytes < MaxFileBytes) ||
			c.MinWidth > telegramPhotoSide || c.MinHeight > telegramPhotoSide
	}
}

// telegramPhotoSide is the longest side Telegram scales photos down to.
const telegramPhotoSide = 1280

// markChosen shows the pressed button's label under the question and
// removes its buttons, so the chat reads like a conversation and an old
// question cannot be answered twice by accident. Best effort.
func (a *Adapter) markChosen(ctx context.Context, inc incoming, log *slog.Logger) {
	cb := inc.callback
	if cb.messageID == 0 {
		return
	}
	empty := &inlineKeyboard{InlineKeyboard: [][]inlineButton{}}
	text := cb.text
	if cb.label != "" && !cb.caption && text != "" {
		text += "\n\n✅ " + cb.label
	}
	var err error
	if text != cb.text && utf16Len(text) <= maxTextUnits {
		_, err = a.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{
			ChatID: inc.chatID, MessageID: cb.messageID, Text: text, ReplyMarkup: empty,
		})
	} else {
		_, err = a.api.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{
			ChatID: inc.chatID, MessageID: cb.messageID, ReplyMarkup: empty,
		})
	}
	if err != nil {
		log.Debug("telegram marking the chosen button failed", "err", err)
	}
}

// markUnreachable tells Deps.Unreachable that the user blocked the bot.
func (a *Adapter) markUnreachable(ctx context.Context, chatID int64, log *slog.Logger) {
	if a.deps.Unreachable == nil {
		return
	}
	if err := a.deps.Unreachable(ctx, identity(chatID)); err != nil {
		log.Error("telegram marking user unreachable failed", "err", err)
	}
}

// call runs one Bot API call of a message the adapter sends itself (not
// through the outbox): a 429 is retried after its retry_after (at most
// maxAttempts tries, never a wait over maxRetryWait, else a
// *bot.RateLimitedError); a 403 becomes bot.ErrUnreachable; failures for
// good are counted.
func (a *Adapter) call(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	return a.callWith(ctx, method, fn, maxAttempts)
}

// callWith is call with at most attempts tries for a 429 (1: a 429 is
// not waited out).
func (a *Adapter) callWith(ctx context.Context, method string, fn func(ctx context.Context) error, attempts int) error {
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var tooMany *tgbot.TooManyRequestsError
		switch {
		case errors.As(err, &tooMany):
			wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			if attempt >= attempts || wait > maxRetryWait {
				a.failures.WithLabelValues(method, "rate_limited").Inc()
				return &bot.RateLimitedError{RetryAfter: wait, Err: fmt.Errorf("telegram %s: %w", method, err)}
			}
			if err := a.sleep(ctx, wait); err != nil {
				a.failures.WithLabelValues(method, "rate_limited").Inc()
				return fmt.Errorf("telegram %s: waiting out a 429: %w", method, err)
			}
		case errors.Is(err, tgbot.ErrorForbidden):
			a.failures.WithLabelValues(method, "forbidden").Inc()
			return fmt.Errorf("telegram %s: %w: %w", method, bot.ErrUnreachable, err)
		case errors.Is(err, tgbot.ErrorBadRequest):
			a.failures.WithLabelValues(method, "bad_request").Inc()
			return fmt.Errorf("telegram %s: %w", method, err)
		default:
			a.failures.WithLabelValues(method, "other").Inc()
			return fmt.Errorf("telegram %s: %w", method, err)
		}
	}
}

// utf16Len is the length of s as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into pieces of at most limit UTF-16 units, at a line
// break when there is one in the second half of a piece.
func splitText(s string, limit int) []string {
	s = strings.TrimSpace(s)
	var out []string
	for s != "" {
		if utf16Len(s) <= limit {
			out = append(out, s)
			break
		}
		// Find the byte offset where limit units are used up.
		cut, units := 0, 0
		for i, r := range s {
			n := utf16.RuneLen(r)
			if units+n > limit {
				cut = i
				break
			}
			units += n
		}
		if nl := strings.LastIndexByte(s[:cut], '\n'); nl > cut/2 {
			cut = nl
		}
		out = append(out, strings.TrimRight(s[:cut], " \n"))
		s = strings.TrimLeft(s[cut:], " \n")
	}
	return out
}
