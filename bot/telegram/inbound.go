package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"regbot/bot"
	"regbot/dialogs"
)

// imageExts are the file name extensions taken as images when a document
// comes without an image MIME type.
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".webp": true, ".gif": true,
	".bmp": true, ".heic": true, ".heif": true, ".tif": true, ".tiff": true,
}

// incoming is one update the adapter handles, parsed without I/O.
type incoming struct {
	updateID int64
	chatID   int64
	// in is the message for the Handler, all but the image bytes.
	in dialogs.Inbound
	// file is an image to download into in.Image.
	file *fileRef
	// tooLarge is an image over MaxFileBytes, refused before download.
	tooLarge bool
	// callback is the button press this update is.
	callback *callbackRef
	// stale is a press of a button whose choice cannot be recovered.
	stale bool
	// blocked says the user blocked the bot.
	blocked bool
	// reply, in webhook mode with Config.WebhookReply, takes the turn's
	// last message for the webhook's response.
	reply *webhookReply
}

// fileRef is an image on Telegram's servers.
type fileRef struct {
	id       string
	size     int64
	name     string
	document bool
}

// callbackRef is what the adapter needs to answer a button press and mark
// the choice on the message that carried the button.
type callbackRef struct {
	id        string
	messageID int
	// text is the message's text (or caption), label the pressed button's.
	text    string
	caption bool
	label   string
	// number is the pressed choice's number (from 1; 0 when not known):
	// its button says it with the label (texts.button).
	number int
}

func (inc incoming) chatKey() string { return strconv.FormatInt(inc.chatID, 10) }

// parseUpdate turns an update into what the adapter does with it; ok is
// false for updates it ignores (groups, channels, edits, unknown kinds).
func parseUpdate(upd *slimUpdate) (inc incoming, ok bool) {
	inc.updateID = upd.ID
	switch {
	case upd.MyChatMember != nil:
		m := upd.MyChatMember
		if m.Chat.Type != models.ChatTypePrivate || m.Chat.ID == 0 || m.NewChatMember.Type != models.ChatMemberTypeBanned {
			return inc, false
		}
		inc.chatID, inc.blocked = m.Chat.ID, true
		return inc, true
	case upd.CallbackQuery != nil:
		return parseCallback(inc, upd.CallbackQuery)
	case upd.Message != nil:
		return parseMessage(inc, upd.Message)
	}
	return inc, false
}

func (inc *incoming) setInbound() {
	inc.in.Channel = Channel
	inc.in.UserID = inc.chatKey()
	inc.in.MsgID = msgID(inc.updateID)
}

func parseCallback(inc incoming, cq *slimCallbackQuery) (incoming, bool) {
	inc.chatID = cq.From.ID
	ref := &callbackRef{id: cq.ID}
	var keyboard *models.InlineKeyboardMarkup
	switch msg := cq.Message; {
	case msg.Message != nil:
		if msg.Message.Chat.Type != models.ChatTypePrivate {
			return inc, false
		}
		inc.chatID = msg.Message.Chat.ID
		ref.messageID = msg.Message.ID
		ref.text = msg.Message.Text
		if ref.text == "" {
			ref.text, ref.caption = msg.Message.Caption, true
		}
		keyboard = msg.Message.ReplyMarkup
	case msg.InaccessibleMessage != nil:
		if msg.InaccessibleMessage.Chat.Type != "" && msg.InaccessibleMessage.Chat.Type != models.ChatTypePrivate {
			return inc, false
		}
		if msg.InaccessibleMessage.Chat.ID != 0 {
			inc.chatID = msg.InaccessibleMessage.Chat.ID
		}
	}
	if inc.chatID == 0 {
		return inc, false
	}
	inc.callback = ref
	inc.setInbound()
	if keyboard != nil {
		n := 0 // the choice's number: buttons with callback data, in order
		for _, row := range keyboard.InlineKeyboard {
			for _, b := range row {
				if b.CallbackData == "" {
					continue
				}
				n++
				if b.CallbackData == cq.Data {
					ref.label, ref.number = b.Text, n
				}
			}
		}
	}
	switch {
	case cq.Data == "":
		inc.stale = true
	case strings.HasPrefix(cq.Data, labelDataPrefix):
		// A choice whose id is too long for callback_data: the button's
		// label stands for it, and the engine takes labels as answers.
		if ref.label == "" {
			inc.stale = true
		}
		inc.in.Text = ref.label
	default:
		inc.in.Choice = cq.Data
	}
	return inc, true
}

func parseMessage(inc incoming, msg *slimMessage) (incoming, bool) {
	if msg.Chat.Type != models.ChatTypePrivate || msg.Chat.ID == 0 || msg.From == nil || msg.From.IsBot {
		return inc, false
	}
	inc.chatID = msg.Chat.ID
	inc.setInbound()
	switch {
	case len(msg.Photo) > 0:
		p := largestPhoto(msg.Photo)
		inc.file = &fileRef{id: p.FileID, size: int64(p.FileSize)}
	case msg.Document != nil:
		d := msg.Document
		if !isImageDocument(d) {
			inc.in.Other = "file"
			break
		}
		inc.file = &fileRef{id: d.FileID, size: d.FileSize, name: d.FileName, document: true}
	case msg.Text != "":
		parseText(&inc, msg.Text)
	case msg.Contact != nil:
		// The candidate's own contact card answers a mobile question.
		if msg.Contact.UserID == msg.From.ID {
			inc.in.Text = contactMobile(msg.Contact.PhoneNumber)
		} else {
			inc.in.Other = "contact"
		}
	case msg.Voice != nil, msg.Audio != nil:
		inc.in.Other = "voice"
	case msg.Video != nil, msg.VideoNote != nil, msg.Animation != nil:
		inc.in.Other = "video"
	case msg.Sticker != nil, msg.Dice != nil:
		inc.in.Other = "sticker"
	case msg.Location != nil, msg.Venue != nil:
		inc.in.Other = "location"
	case msg.Poll != nil:
		inc.in.Other = "poll"
	default:
		// Service messages (a new wallpaper, a pinned message…) need no
		// answer.
		return inc, false
	}
	if inc.file != nil && inc.file.size > MaxFileBytes {
		inc.file, inc.tooLarge = nil, true
	}
	return inc, true
}

// parseText reads a menu command as "/name" (the adapter then says it
// with the plan's word for it, see texts.commandWord) and keeps any other
// text as typed. /start is the "subscribe" event: a welcome for a new
// candidate, a welcome back for a known one.
func parseText(inc *incoming, text string) {
	if cmd, ok := strings.CutPrefix(text, "/"); ok {
		name, _, _ := strings.Cut(cmd, " ")
		name, _, _ = strings.Cut(name, "@") // "/help@regbot" in a chat with several bots
		name = strings.ToLower(name)
		if name == "start" {
			inc.in.Event = "subscribe"
			return
		}
		for _, c := range menuCommands {
			if c.name == name {
				inc.in.Text = "/" + name
				return
			}
		}
	}
	inc.in.Text = text
}

// largestPhoto is the biggest of the sizes Telegram offers of a photo.
func largestPhoto(sizes []models.PhotoSize) models.PhotoSize {
	best := sizes[len(sizes)-1]
	for _, p := range sizes {
		if p.Width*p.Height > best.Width*best.Height {
			best = p
		}
	}
	return best
}

// isImageDocument reports whether a file sent as a document is an image,
// by MIME type or, when Telegram does not know it, by extension.
func isImageDocument(d *models.Document) bool {
	mime := strings.ToLower(d.MimeType)
	if strings.HasPrefix(mime, "image/") {
		return true
	}
	if mime != "" && mime != "application/octet-stream" {
		return false
	}
	return imageExts[strings.ToLower(path.Ext(d.FileName))]
}

// contactMobile turns a contact card's number into the form candidates type:
// digits only, without China's +86.
func contactMobile(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	if len(digits) == 13 && strings.HasPrefix(digits, "861") {
		return digits[2:]
	}
	return digits
}

// process handles one accepted update in its chat's turn. It reports false
// when the update was not handled and a redelivery should be.
func (a *Adapter) process(ctx context.Context, inc incoming, t *ticket) bool {
	log := lazyWith(a.log, slog.Any("user", userKeyValue{a, inc.chatID}), slog.String("msg_id", msgID(inc.updateID)))
	if inc.callback != nil {
		// Answer at once: the candidate's button spins until we do.
		a.answerCallback(ctx, inc, log)
	}
	if err := t.wait(ctx); err != nil {
		t.abandon()
		log.Warn("telegram update dropped waiting for the chat's previous update", "err", err)
		return false
	}
	defer t.done()
	// Take a turn slot only now, so one chat's backlog does not hold slots
	// the other chats need.
	select {
	case a.inflight <- struct{}{}:
		defer func() { <-a.inflight }()
	case <-ctx.Done():
		log.Warn("telegram update dropped waiting for a turn slot", "err", ctx.Err())
		return false
	}

	switch {
	case inc.blocked:
		log.Info("telegram user blocked the bot")
		a.markUnreachable(ctx, inc.chatID, log)
		return true
	case inc.stale:
		return true
	case inc.tooLarge:
		a.sendLogged(ctx, inc.chatID, log, dialogs.Outbound{Text: a.texts.text("telegram_too_large", "max", strconv.Itoa(MaxFileBytes>>20)+" MB")})
		return true
	case inc.file != nil:
		img, err := a.download(ctx, inc.file)
		switch {
		case errors.Is(err, errTooLarge):
			a.sendLogged(ctx, inc.chatID, log, dialogs.Outbound{Text: a.texts.text("telegram_too_large", "max", strconv.Itoa(MaxFileBytes>>20)+" MB")})
			return true
		case err != nil:
			log.Error("telegram file download failed", "err", err)
			a.sendLogged(ctx, inc.chatID, log, dialogs.Outbound{Text: a.texts.text("telegram_download_failed")})
			return true
		}
		inc.in.Image = img
	}

	res, err := a.turn(ctx, inc.in, log)
	switch {
	case errors.Is(err, bot.ErrDuplicate):
		log.Debug("telegram update already handled")
		// Telegram delivers an update again only when it did not get the
		// answer: a recorded turn's webhook reply (its stored inline
		// messages) is sent again, the rest went by the outbox.
		if inc.reply != nil {
			return a.answer(ctx, inc, log, res.Messages)
		}
		return true
	case errors.Is(err, bot.ErrBadInput):
		// The same update would be refused again: not delivered again.
		log.Warn("telegram update refused", "err", err)
		return true
	case err != nil && len(res.Messages) == 0:
		// Nothing of the turn happened (the Router forgot the message id):
		// a redelivery may still run it.
		log.Error("telegram turn failed", "err", err)
		a.sendLogged(ctx, inc.chatID, log, dialogs.Outbound{Text: a.texts.text("telegram_busy")})
		return false
	case err != nil:
		log.Error("telegram turn done, but a later step failed", "err", err)
	}
	if inc.callback != nil {
		a.markChosen(ctx, inc, log)
	}
	return a.answer(ctx, inc, log, res.Messages)
}

// answer sends a turn's inline messages (those the Router did not put in
// the outbox). In webhook-reply mode the last one that fits is the
// webhook's response and the earlier ones go by the API first, in order.
// When a send fails for now (a 429, the Bot API unreachable) the rest of
// the reply, the last message too, goes to the outbox (Deps.Later), which
// keeps its order; without one, or when queueing fails, answer reports
// false, so that Telegram delivers the update again and its redelivery
// sends the recorded reply again. Either way a message that went out
// before the failure may go twice; nothing is lost. A message Telegram
// refuses (400) is logged and skipped, as the outbox would fail it; a user
// who blocked the bot gets nothing more. Outside webhook-reply mode a
// failure is logged: the turn is over whatever happens to the replies.
func (a *Adapter) answer(ctx context.Context, inc incoming, log *slog.Logger, msgs []dialogs.Outbound) bool {
	if inc.reply == nil {
		a.sendLogged(ctx, inc.chatID, log, msgs...)
		return true
	}
	all := msgs
	var last *tgbot.SendMessageParams
	if len(msgs) > 0 {
		if p, ok := a.replyParams(inc.chatID, msgs[len(msgs)-1]); ok {
			last = p
			inc.reply.msg = msgs[len(msgs)-1]
			msgs = msgs[:len(msgs)-1]
		}
	}
	// Telegram waits for the answer: a 429 is not waited out.
	done, err := a.send(ctx, inc.chatID, log, msgs, 1)
	if errors.Is(err, bot.ErrUnreachable) {
		return true
	}
	if err == nil {
		inc.reply.params = last
		return true
	}
	if a.deps.Later != nil {
		// The outbox waits out a 429 before its first try: Telegram would
		// refuse a send sooner, and a client that keeps trying is limited
		// longer.
		var notBefore time.Time
		if limited, ok := errors.AsType[*bot.RateLimitedError](err); ok {
			notBefore = time.Now().Add(limited.RetryAfter)
		}
		qerr := a.deps.Later(ctx, strconv.FormatInt(inc.chatID, 10), all[done:], notBefore)
		if qerr == nil {
			log.Warn("telegram reply not sent while the webhook waited; the rest goes by the outbox", "err", err)
			return true
		}
		log.Error("telegram reply not queued", "err", qerr)
	}
	log.Error("telegram reply not delivered; the update is to come again", "err", err)
	return false
}

// defaultTurnRetries are the waits before running a failed turn again: a
// database hiccup should not cost the candidate their message.
var defaultTurnRetries = []time.Duration{time.Second, 2 * time.Second}

// turn runs the Handler, again after a failure in which nothing of the turn
// happened (an error and no messages).
func (a *Adapter) turn(ctx context.Context, in dialogs.Inbound, log *slog.Logger) (dialogs.Result, error) {
	for i := 0; ; i++ {
		res, err := a.h.Handle(ctx, in)
		if err == nil || len(res.Messages) > 0 || errors.Is(err, bot.ErrDuplicate) || errors.Is(err, bot.ErrBadInput) || i == len(a.turnRetries) {
			return res, err
		}
		log.Warn("telegram turn failed; trying again", "err", err)
		if a.sleep(ctx, a.turnRetries[i]) != nil {
			return res, err
		}
	}
}

// answerCallback stops the button's spinner; a stale button gets a notice.
func (a *Adapter) answerCallback(ctx context.Context, inc incoming, log *slog.Logger) {
	p := &tgbot.AnswerCallbackQueryParams{CallbackQueryID: inc.callback.id}
	if inc.stale {
		p.Text = a.texts.text("telegram_stale_button")
	}
	// No retries: an answer later than a few seconds is useless.
	if _, err := a.api.AnswerCallbackQuery(ctx, p); err != nil {
		log.Debug("telegram answerCallbackQuery failed", "err", err)
	}
}

// errTooLarge is a file over MaxFileBytes.
var errTooLarge = errors.New("file too large")

// download fetches an image from Telegram's file server.
func (a *Adapter) download(ctx context.Context, f *fileRef) (*dialogs.Image, error) {
	var file *models.File
	err := a.call(ctx, "getFile", func(ctx context.Context) error {
		var err error
		file, err = a.api.GetFile(ctx, &tgbot.GetFileParams{FileID: f.id})
		return err
	})
	if err != nil {
		if errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "file is too big") {
			return nil, errTooLarge
		}
		return nil, err
	}
	if file.FileSize > MaxFileBytes {
		return nil, errTooLarge
	}
	if file.FilePath == "" {
		return nil, errors.New("getFile: no file_path")
	}
	// The link holds the token: it never goes into an error or a log.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api.FileDownloadLink(file), nil)
	if err != nil {
		return nil, errors.New("download file: bad file path")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("download file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download file: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, errTooLarge
	}
	name := f.name
	if name == "" {
		name = path.Base(file.FilePath)
	}
	return &dialogs.Image{Data: data, Name: name, Document: f.document}, nil
}
