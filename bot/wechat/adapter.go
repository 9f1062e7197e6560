package wechat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// Channel is the Inbound.Channel of WeChat candidates; their UserID is the
// OpenID.
const Channel = "wechat"

// DefaultKeyPrefix prefixes the adapter's Redis keys.
const DefaultKeyPrefix = "regbot:wechat:"

// Handler runs one inbound message; bot.Router satisfies it. It returns
// bot.ErrDuplicate for a message id already handled. A Result with messages
// together with an error means the turn happened and something after it
// failed: the messages are sent and the error is logged.
type Handler interface {
	Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error)
}

// Deps are what an Adapter shares with the rest of the process.
type Deps struct {
	// Redis shares the access token and its fetch lock
	// between instances. Nil keeps them in the process: the embedded mode,
	// right for exactly one instance.
	Redis redis.UniversalClient
	// KeyPrefix prefixes every Redis key (default "regbot:wechat:").
	KeyPrefix string
	// Registerer receives the metrics (nil: a private registry).
	Registerer prometheus.Registerer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Texts are the plan's texts (TextKeys); nil: the embedded default
	// plan's.
	Texts map[string]string
	// Later queues messages the webhook could not put in its HTTP response
	// (the turn ran past the reply budget, the passive reply failed, or the
	// adapter's own "image not received" and "busy" notices) in the outbox,
	// for notify to deliver by customer-service message, not before
	// notBefore (the adapter passes zero: at once). Nil sends them once, at
	// once, without retries (tests, tools).
	Later func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error
	// Unreachable is called when a candidate unfollows the official account
	// (the unsubscribe event): WeChat delivers nothing to them any more, so
	// the outbox skips their messages and broadcasts leave them out until
	// they write (or follow) again, which the record clears the mark with.
	// Nil ignores the event.
	Unreachable func(ctx context.Context, id store.Identity) error
}

// Adapter is the WeChat official-account channel: the webhook (ServeHTTP or
// Routes, between Start and Stop) and the sending side notify delivers the
// outbox with (Deliver, SendTemplate).
type Adapter struct {
	// texts are the plan's sentences the adapter says itself (TextKeys).
	texts   map[string]string
	cfg     Config
	h       Handler
	log     *slog.Logger
	now     func() time.Time
	oa      *officialaccount.OfficialAccount
	api     *api
	kv      kv
	prefix  string
	metrics *metrics
	later   func(ctx context.Context, userID string, msgs []dialogs.Outbound, notBefore time.Time) error
	// unreachable marks a candidate who unfollowed (Deps.Unreachable).
	unreachable func(ctx context.Context, id store.Identity) error
	// retryHold is DefaultRetryHold (shorter in tests).
	retryHold time.Duration

	// turns counts turns still running after their webhook answered.
	turns    sync.WaitGroup
	started  atomic.Bool
	stopping atomic.Bool
}

// New builds an Adapter from cfg (defaults filled in, then validated). It
// does no network I/O; call Start before serving.
func New(cfg Config, h Handler, deps Deps, log *slog.Logger) (*Adapter, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("wechat config: %w", err)
	}
	if h == nil {
		return nil, errors.New("wechat: nil handler")
	}
	if log == nil {
		log = slog.Default()
	}
	texts, err := loadTexts(deps.Texts)
	if err != nil {
		return nil, err
	}
	a := &Adapter{texts: texts, cfg: cfg, h: h, log: log, now: deps.Now, prefix: deps.KeyPrefix, later: deps.Later,
		unreachable: deps.Unreachable, retryHold: DefaultRetryHold}
	if a.now == nil {
		a.now = time.Now
	}
	if a.prefix == "" {
		a.prefix = DefaultKeyPrefix
	}
	if deps.Redis != nil {
		a.kv = &redisKV{rdb: deps.Redis}
	} else {
		a.kv = newMemoryKV(a.now)
	}
	a.metrics = newMetrics(deps.Registerer)
	tokens := newTokenSource(cfg, a.kv, a.prefix, a.metrics, log)
	a.oa = officialaccount.NewOfficialAccount(&oaconfig.Config{
		AppID: cfg.AppID, AppSecret: cfg.AppSecret, Token: cfg.Token,
		EncodingAESKey: cfg.EncodingAESKey, Cache: a.kv,
	})
	a.oa.SetAccessTokenHandle(tokens)
	// The SDK's getters create their client lazily and race on first use:
	// create them all here, once.
	a.api = &api{
		tokens:   tokens,
		customer: a.oa.GetCustomerMessageManager(),
		template: a.oa.GetTemplate(),
		material: a.oa.GetMaterial(),
		menu:     a.oa.GetMenu(),
		metrics:  a.metrics,
	}
	if util.DefaultHTTPClient == http.DefaultClient {
		log.Warn("the WeChat API client has no timeout: call wechat.UseHTTPClient at start-up", "channel", Channel)
	}
	return a, nil
}

// errStopped is returned by Start after Stop.
var errStopped = errors.New("wechat: adapter stopped")

// Start opens the webhook: until then it answers 503. ctx is not kept.
func (a *Adapter) Start(context.Context) error {
	if a.stopping.Load() {
		return errStopped
	}
	a.started.Store(true)
	return nil
}

// Stop makes the webhook answer 503 and waits for the turns still running
// in the background. Shut the HTTP server down first. It is safe to call
// twice.
func (a *Adapter) Stop() {
	a.stopping.Store(true)
	a.turns.Wait()
}

// SendTemplate sends the template message configured under name, its fields
// filled from vars ({text} and {time} are always available).
func (a *Adapter) SendTemplate(ctx context.Context, userID, name string, vars map[string]string) error {
	t, ok := a.cfg.Templates[name]
	if !ok {
		return fmt.Errorf("wechat: no template %q configured", name)
	}
	msg := &message.TemplateMessage{ToUser: userID, TemplateID: t.ID, URL: t.URL,
		Data: map[string]*message.TemplateDataItem{}}
	all := map[string]string{"time": a.now().Format("2006-01-02 15:04")}
	for k, v := range vars {
		all[k] = v
	}
	pairs := make([]string, 0, 2*len(all))
	for k, v := range all {
		pairs = append(pairs, "{"+k+"}", v)
	}
	fill := strings.NewReplacer(pairs...)
	for field, pattern := range t.Fields {
		msg.Data[field] = &message.TemplateDataItem{Value: cut(fill.Replace(pattern), t.MaxFieldRunes)}
	}
	if err := a.api.sendTemplate(ctx, msg); err != nil {
		return err
	}
	a.metrics.sent.WithLabelValues("template").Inc()
	return nil
}

// sendPart sends one customer-service message; an image is uploaded as
// temporary media first (once for the same bytes, see mediaID).
func (a *Adapter) sendPart(ctx context.Context, user string, p *part) error {
	if p.kind == partImage {
		if p.mediaID == "" {
			id, err := a.mediaID(ctx, p.image)
			if err != nil {
				return err
			}
			p.mediaID = id
		}
		if err := a.api.sendCustomer(ctx, message.NewCustomerImgMessage(user, p.mediaID)); err != nil {
			a.forgetMedia(ctx, p.image, err)
			return err
		}
		a.metrics.sent.WithLabelValues("image").Inc()
		return nil
	}
	if err := a.api.sendCustomer(ctx, p.customerMessage(user)); err != nil {
		return err
	}
	kind := "text"
	if p.kind == partMenu {
		kind = "menu"
	}
	a.metrics.sent.WithLabelValues(kind).Inc()
	return nil
}

// sendLater hands msgs, which the webhook could not answer with, to the
// outbox (Deps.Later), or else sends them once now.
func (a *Adapter) sendLater(ctx context.Context, user string, msgs []dialogs.Outbound) {
	if len(msgs) == 0 {
		return
	}
	if a.later != nil {
		err := a.later(ctx, user, msgs, time.Time{})
		if err == nil {
			return
		}
		a.log.Error("wechat reply not queued; sending it once now", "channel", Channel, "user", userHash(user), "err", err)
	}
	if _, err := a.Deliver(ctx, bot.Delivery{UserID: user, Kind: store.OutReply, Messages: msgs}); err != nil {
		a.log.Error("wechat reply not delivered", "channel", Channel, "user", userHash(user), "err", err)
	}
}

// userHash is the opaque form of an OpenID for logs.
func userHash(openID string) string {
	sum := sha256.Sum256([]byte("wechat:" + openID))
	return hex.EncodeToString(sum[:6])
}

// cut shortens s to at most n runes, ending with "…" when cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
