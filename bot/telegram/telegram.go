// Package telegram is the Telegram channel, on github.com/go-telegram/bot.
//
// An Adapter turns Bot API updates into dialogs.Inbound messages for a
// Handler (the bot.Router) and renders the dialogs.Outbound replies: text,
// choices as an inline keyboard, images uploaded from bytes, links as URL
// buttons. Updates arrive either by long polling (Start) or through the
// webhook (ServeHTTP, the adapter's own handler: it checks the secret header
// in constant time and answers 401 on a wrong one). Either way each chat's
// updates are handled one at a time in arrival order, and the update_id is
// the message id the Router de-duplicates on.
//
// Photos and images sent as files are downloaded (up to the Bot API's 20 MB
// limit; larger files are refused with a message before any download).
//
// A turn's replies go through the outbox (Split): notify delivers them with
// Deliver, which makes each Bot API call once and classifies its failure (a
// 429 with its retry_after, a 403 as unreachable) for notify to wait, retry
// or record. The few messages the adapter sends itself (a file too large, a
// failed download) wait out a 429 inline; a 403 (the user blocked the bot)
// marks the identity unreachable.
package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// Channel is the Inbound.Channel (and store.Identity.Channel) of Telegram
// users; their UserID is the private chat id in decimal.
const Channel = "telegram"

// MaxFileBytes is the largest file a bot may download from Telegram.
const MaxFileBytes = 20 << 20

const (
	// turnTimeout bounds the handling of one update: download, turn,
	// replies (429 waits included).
	turnTimeout = 2 * time.Minute
	// maxInFlight bounds the turns running at once.
	maxInFlight = 64
	// recentUpdates is how many update ids the adapter remembers to drop a
	// redelivery before downloading anything; the Router is the real guard.
	recentUpdates = 4096
)

// Handler runs one inbound message; bot.Router satisfies it. It returns
// bot.ErrDuplicate for a message id already handled. A Result with messages
// together with an error means the turn happened and something after it
// failed: the messages are sent and the error is logged.
type Handler interface {
	Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error)
}

// Deps are the adapter's optional collaborators.
type Deps struct {
	// Unreachable is called when a user has blocked the bot (a 403 answer,
	// or a my_chat_member update saying so), so that notifications stop
	// going to them. May be nil.
	Unreachable func(ctx context.Context, id store.Identity) error
	// SizeMatters says whether a material has a file size rule; the
	// question asking for it then tells the candidate to send the image as a
	// file (Telegram re-compresses photos). Nil: the hint goes with every
	// upload question. SizeMattersIn(plan) builds it from a plan.
	SizeMatters func(material string) bool
	// Registerer registers the adapter's metrics. May be nil.
	Registerer prometheus.Registerer
	// Texts are the plan's texts (TextKeys) and Commands its command words
	// (the menu's commands stand for them); nil: the embedded default
	// plan's.
	Texts    map[string]string
	Commands map[string][]string
	// Later queues messages in the outbox (notify delivers them in order,
	// paced, with retries). The webhook hands it the rest of a reply it
	// could not send while Telegram waited for its answer (a 429, the Bot
	// API unreachable), not before a 429's retry_after has passed. Nil: the
	// update is answered 503 instead, and Telegram's redelivery sends the
	// recorded reply again.
	Later func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error
	// HTTPClient talks to the Bot API and downloads files; its Timeout, if
	// any, must exceed Config.PollTimeout. Default: a client with a timeout
	// 15 s over it that keeps up to 64 connections open for reuse.
	HTTPClient *http.Client
}

// Adapter is the Telegram channel. Build it with New; in polling mode run
// it with Start and Stop, in webhook mode mount it as an http.Handler.
type Adapter struct {
	texts  texts
	cfg    Config
	h      Handler
	deps   Deps
	log    *slog.Logger
	api    *tgbot.Bot
	client *http.Client
	queue  *chatQueue
	seen   *recentIDs
	// failures counts Bot API calls that failed for good, by method and
	// reason.
	failures *prometheus.CounterVec
	// sleep waits d or until ctx is done.
	sleep func(ctx context.Context, d time.Duration) error
	// turnRetries are the waits before running a failed turn again.
	turnRetries []time.Duration

	inflight chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// New returns the adapter for cfg, handing messages to h. It does not touch
// the network.
func New(cfg Config, h Handler, deps Deps, log *slog.Logger) (*Adapter, error) {
	cfg = cfg.WithDefaults()
	if !cfg.Enabled() {
		return nil, errors.New("telegram: no token configured")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telegram config: %w", err)
	}
	if h == nil {
		return nil, errors.New("telegram: nil handler")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("channel", Channel)
	client := deps.HTTPClient
	if client == nil {
		// Connections are kept for reuse: a burst of sends must not open a
		// TCP and TLS connection each. The library streams each call's form
		// through a pipe: buffered, a call is one write.
		client = &http.Client{Timeout: cfg.PollTimeout + 15*time.Second, Transport: bot.BufferBodies(bot.NewTransport(maxInFlight))}
	}
	texts, err := loadTexts(deps.Texts, deps.Commands)
	if err != nil {
		return nil, err
	}
	failures, err := registerFailures(deps.Registerer)
	if err != nil {
		return nil, err
	}
	a := &Adapter{
		texts:    texts,
		cfg:      cfg,
		h:        h,
		deps:     deps,
		log:      log,
		client:   client,
		queue:    newChatQueue(),
		seen:     newRecentIDs(recentUpdates),
		failures: failures,
		sleep:    sleepCtx,
		// Tests shorten these.
		turnRetries: defaultTurnRetries,
		inflight:    make(chan struct{}, maxInFlight),
	}
	api, err := tgbot.New(cfg.Token,
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(cfg.ServerURL),
		tgbot.WithHTTPClient(cfg.PollTimeout, client),
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithDefaultHandler(a.onPolledUpdate),
		tgbot.WithAllowedUpdates(allowedUpdates),
		tgbot.WithErrorsHandler(func(err error) { logPollingError(log, err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	a.api = api
	return a, nil
}

// allowedUpdates are the update kinds the adapter asks for.
var allowedUpdates = []string{
	models.AllowedUpdateMessage,
	models.AllowedUpdateCallbackQuery,
	models.AllowedUpdateMyChatMember,
}

// registerFailures builds the send-failure counter and registers it with
// reg (when not nil), reusing one registered before by another adapter.
func registerFailures(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "regbot_telegram_send_failures_total",
		Help: "Telegram Bot API calls that failed for good, by method and reason (rate_limited, forbidden, bad_request, other).",
	}, []string{"method", "reason"})
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("telegram metrics: %w", err)
	}
	return c, nil
}

// Config returns the adapter's configuration with defaults filled in.
func (a *Adapter) Config() Config { return a.cfg }

// Start prepares the bot and, in polling mode, starts polling for updates
// in the background until Stop or ctx ends. It publishes the command menu;
// in polling mode it removes any webhook (Telegram refuses getUpdates while
// one is set); in webhook mode with a WebhookURL it registers the webhook.
// Only a rejected token fails Start; other Bot API errors are logged. An
// Adapter starts once.
func (a *Adapter) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("telegram: already started")
	}
	if err := a.prepare(ctx); err != nil {
		return err
	}
	a.started = true
	if a.cfg.Mode != ModePolling {
		return nil
	}
	pollCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		a.api.Start(pollCtx)
	}()
	context.AfterFunc(ctx, a.Stop)
	a.log.Info("telegram polling started")
	return nil
}

// prepare makes the Bot API calls Start needs.
func (a *Adapter) prepare(ctx context.Context) error {
	if _, err := a.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: a.texts.botCommands()}); err != nil {
		if errors.Is(err, tgbot.ErrorUnauthorized) {
			return fmt.Errorf("telegram: the bot token was rejected: %w", err)
		}
		a.log.Warn("telegram setMyCommands failed", "err", err)
	}
	switch {
	case a.cfg.Mode == ModePolling:
		if _, err := a.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
			a.log.Warn("telegram deleteWebhook failed; polling will fail while a webhook is set", "err", err)
		}
	case a.cfg.WebhookURL != "":
		_, err := a.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            a.cfg.WebhookURL,
			SecretToken:    a.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
		})
		if err != nil {
			a.log.Warn("telegram setWebhook failed", "err", err)
		}
	}
	return nil
}

// Stop ends polling and waits for the updates being handled. It is safe to
// call more than once, and before Start.
func (a *Adapter) Stop() {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.cancel = nil
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		a.log.Info("telegram polling stopped")
	}
	a.wg.Wait()
}

// onPolledUpdate is the library's handler in polling mode. The library calls
// it for one update at a time, in order (WithNotAsyncHandlers): it takes the
// chat's place in line here, then handles the update in the background, so
// chats do not wait for each other but each chat keeps its order.
func (a *Adapter) onPolledUpdate(ctx context.Context, _ *tgbot.Bot, upd *models.Update) {
	inc, ok := a.accept(slimOf(upd))
	if !ok {
		return
	}
	t := a.queue.join(inc.chatKey())
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		// A turn under way finishes even when polling stops.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), turnTimeout)
		defer cancel()
		a.process(tctx, inc, t)
	}()
}

// accept parses an update and drops what the adapter does not handle and
// redeliveries it has just seen.
func (a *Adapter) accept(upd *slimUpdate) (incoming, bool) {
	inc, ok := parseUpdate(upd)
	if cb := inc.callback; cb != nil && cb.number > 0 {
		// The button's text is its number and label; the label is what
		// was chosen (and what a long-id choice is answered with).
		label := a.texts.unnumbered(cb.number, cb.label)
		if inc.in.Text == cb.label {
			inc.in.Text = label
		}
		cb.label = label
	}
	inc.in.Text = a.texts.commandWord(inc.in.Text)
	if !ok {
		return inc, false
	}
	if !a.seen.add(upd.ID) {
		a.log.Debug("telegram update redelivered", "msg_id", msgID(upd.ID))
		return inc, false
	}
	return inc, true
}

// logPollingError logs an error of the library's polling loop. The library
// masks the token in URLs, but an undecodable getUpdates answer comes with
// its body: candidates' messages, which are not logged.
func logPollingError(log *slog.Logger, err error) {
	msg := err.Error()
	if i := strings.Index(msg, "error decode response body"); i >= 0 {
		log.Warn("telegram polling: unreadable getUpdates answer", "bytes", len(msg)-i)
		return
	}
	log.Warn("telegram polling", "err", err)
}

// userKey is the user as an opaque hash, for logs: an HMAC keyed with the
// bot token, so chat ids cannot be recovered by trying them all.
func (a *Adapter) userKey(chatID int64) string {
	m := hmac.New(sha256.New, []byte(a.cfg.Token))
	m.Write([]byte(strconv.FormatInt(chatID, 10)))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// userKeyValue logs as the chat's userKey, computed only when a record
// is written.
type userKeyValue struct {
	a      *Adapter
	chatID int64
}

func (v userKeyValue) LogValue() slog.Value { return slog.StringValue(v.a.userKey(v.chatID)) }

// lazyWith is log.With(attrs…) for a logger that most often writes
// nothing (a turn's): the handler formats the attributes (JSONHandler does
// at once, for every With) only for the first record written.
func lazyWith(log *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	return slog.New(&lazyHandler{parent: log.Handler(), attrs: attrs})
}

type lazyHandler struct {
	parent slog.Handler
	attrs  []slog.Attr
	once   sync.Once
	h      slog.Handler
}

func (l *lazyHandler) handler() slog.Handler {
	l.once.Do(func() { l.h = l.parent.WithAttrs(l.attrs) })
	return l.h
}

func (l *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.parent.Enabled(ctx, level)
}

func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.handler().Handle(ctx, r)
}

func (l *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler { return l.handler().WithAttrs(attrs) }

func (l *lazyHandler) WithGroup(name string) slog.Handler { return l.handler().WithGroup(name) }

// identity is the store identity of a private chat.
func identity(chatID int64) store.Identity {
	return store.Identity{Channel: Channel, UserID: strconv.FormatInt(chatID, 10)}
}

// msgID is the Inbound.MsgID of an update.
func msgID(updateID int64) string { return "tg-update:" + strconv.FormatInt(updateID, 10) }

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
