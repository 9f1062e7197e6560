package telegram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	tgbot "github.com/go-telegram/bot"

	"regbot/dialogs"
)

// secretHeader carries the webhook's secret_token on every Telegram post.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBytes bounds a webhook body; updates are a few KB.
const maxUpdateBytes = 1 << 20

// ServeHTTP is the webhook (mount it at Config.WebhookPath). It answers 401
// unless the secret header matches, drops updates it has seen, handles the
// update in its chat's turn (the reply is sent before it answers) and
// answers 200, or 503 when the turn failed (after the adapter's own retries)
// so that Telegram delivers the update again. An update it cannot read is logged and answered 200 too:
// Telegram would otherwise redeliver it, and hold the chat's next updates
// back, for hours. Outside webhook mode it answers 404.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Mode != ModeWebhook {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !a.secretOK(r.Header.Get(secretHeader)) {
		a.log.Warn("telegram webhook: wrong secret token")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var upd slimUpdate
	if err := json.Unmarshal(body, &upd); err != nil {
		a.log.Warn("telegram webhook: unreadable update", "err", err, "bytes", len(body))
		w.WriteHeader(http.StatusOK)
		return
	}
	if inc, ok := a.accept(&upd); ok {
		// A turn under way finishes even if Telegram hangs up.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), turnTimeout)
		if a.cfg.webhookReply() {
			inc.reply = &webhookReply{}
		}
		handled := a.process(ctx, inc, a.queue.join(inc.chatKey()))
		cancel()
		if !handled {
			// Telegram delivers the update again later.
			a.seen.forget(upd.ID)
			http.Error(w, "update not handled, deliver again", http.StatusServiceUnavailable)
			return
		}
		if inc.reply != nil && inc.reply.params != nil {
			body, err := json.Marshal(struct {
				Method string `json:"method"`
				*tgbot.SendMessageParams
			}{"sendMessage", inc.reply.params})
			if err == nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(body)
				return
			}
			// Not expected: the message goes by the API after all.
			a.sendLogged(context.WithoutCancel(r.Context()), inc.chatID, a.log, inc.reply.msg)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// webhookReply is the message a webhook update is answered with
// (Config.WebhookReply): params, set by process, is its sendMessage.
type webhookReply struct {
	params *tgbot.SendMessageParams
	msg    dialogs.Outbound
}

// secretOK compares the header with the configured secret in constant time
// (hashing first, so not even the length shows).
func (a *Adapter) secretOK(got string) bool {
	want := sha256.Sum256([]byte(a.cfg.WebhookSecret))
	have := sha256.Sum256([]byte(got))
	return got != "" && subtle.ConstantTimeCompare(want[:], have[:]) == 1
}
