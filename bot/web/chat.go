// Package web is the web chat channel: a small page at /chat where a person
// chats with the same dialog engine as on WeChat and Telegram, in a browser.
//
// The page is server-rendered HTML plus one embedded script and one
// stylesheet (no build step). It talks JSON to an API under the same path.
// Each visitor is a random id in an HMAC-signed, HttpOnly cookie; the
// conversation so far is kept in a History so a reload shows it.
//
// Protection: every POST must carry the CSRF token of the visitor's identity
// (signed double submit: a readable cookie echoed in the X-CSRF-Token header,
// both equal to HMAC(secret, identity)); Go's http.CrossOriginProtection
// rejects cross-origin browser requests on top. API requests are rate
// limited per client IP with a token bucket. The page's Content-Security-
// Policy allows only its own script, and the script inserts every text with
// textContent, so HTML in a message is shown, never run.
package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"regbot/dialogs"
)

// Channel is the Inbound.Channel of web visitors.
const Channel = "web"

// turnTimeout bounds one turn of the engine for a web request.
const turnTimeout = 30 * time.Second

// Handler runs one inbound message; bot.Router satisfies it. It returns
// bot.ErrDuplicate for a message id already handled. A Result with messages
// together with an error means the turn happened and something after it
// failed: the messages are shown and the error is logged.
type Handler interface {
	Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error)
}

// Chat is the web chat channel. Build it with New, mount it with Routes.
type Chat struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	secret  []byte
	history History
	limiter RateLimiter
	cop     *http.CrossOriginProtection
	page    *template.Template
	// version is a hash of the static files, appended to their URLs so a
	// new release is never served from a stale browser cache.
	version string
	now     func() time.Time
	// texts are the plan's sentences the chat says itself.
	texts texts
	given map[string]string
}

// Option configures a Chat.
type Option func(*Chat)

// WithHistory sets where conversations are kept for reloads (default a
// MemoryHistory bounded by the config's history settings).
func WithHistory(h History) Option { return func(c *Chat) { c.history = h } }

// WithRateLimiter sets the token buckets of the per-IP limit (default in
// process). Pass the Redis store so that instances behind a load balancer
// share one limit. When the limiter fails, requests are let through and the
// error is logged: the chat stays up when Redis blinks.
func WithRateLimiter(l RateLimiter) Option { return func(c *Chat) { c.limiter = l } }

// WithTexts sets the plan texts the chat says itself (TextKeys); without
// it the embedded default plan's are used.
func WithTexts(texts map[string]string) Option { return func(c *Chat) { c.given = texts } }

// WithClock sets the clock used for rate limiting and timestamps (tests).
func WithClock(now func() time.Time) Option { return func(c *Chat) { c.now = now } }

// New returns the web chat for cfg, handing messages to h. With no
// cfg.CookieSecret it generates one and warns: visitors then lose their
// identity, and so their conversation, when the process restarts.
func New(cfg Config, h Handler, log *slog.Logger, opts ...Option) (*Chat, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("web chat config: %w", err)
	}
	if h == nil {
		return nil, errors.New("web chat: nil handler")
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Chat{cfg: cfg, h: h, log: log.With("channel", Channel), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	texts, err := loadTexts(c.given)
	if err != nil {
		return nil, err
	}
	c.texts = texts
	if cfg.CookieSecret == "" {
		c.secret = make([]byte, minSecretBytes)
		rand.Read(c.secret)
		c.log.Warn("web.cookie_secret is empty: using a random key, so web visitors lose their conversation when regbot restarts (set it to the output of `openssl rand -base64 32`)")
	} else {
		secret, err := decodeSecret(cfg.CookieSecret)
		if err != nil {
			return nil, fmt.Errorf("web.cookie_secret: %w", err)
		}
		c.secret = secret
	}
	if c.history == nil {
		c.history = NewMemoryHistory(cfg.HistoryMessages, cfg.HistoryUsers, cfg.HistoryBytes)
	}
	if c.limiter == nil {
		c.limiter = newLimiter(c.now)
	}
	c.cop = http.NewCrossOriginProtection()
	c.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusForbidden, c.texts.say("web_forbidden"))
	}))
	page, version, err := parsePage()
	if err != nil {
		return nil, err
	}
	c.page, c.version = page, version
	return c, nil
}

// Routes registers the chat's routes on mux, under cfg.Path ("/chat").
func (c *Chat) Routes(mux *http.ServeMux) {
	p := c.cfg.Path
	mux.HandleFunc("GET "+p, c.servePage)
	mux.HandleFunc("GET "+p+"/{$}", c.redirectToPage)
	mux.Handle("GET "+p+"/static/", c.serveStatic())
	mux.Handle("GET "+p+"/api/history", c.api(c.serveHistory))
	mux.Handle("GET "+p+"/api/image/{id}", c.api(c.serveImage))
	mux.Handle("POST "+p+"/api/message", c.post(c.serveMessage))
	mux.Handle("POST "+p+"/api/upload", c.post(c.serveUpload))
}

// apiFunc is an API handler that knows the request's visitor.
type apiFunc func(w http.ResponseWriter, r *http.Request, v visitor)

// api wraps an API handler: security headers, the per-IP rate limit, then
// the visitor's identity.
func (c *Chat) api(h apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		ok, wait, err := c.limiter.Allow(r.Context(), rateKey(c.clientKey(r)), float64(c.cfg.RatePerMinute)/60, c.cfg.RatePerMinute)
		if err != nil {
			c.log.Warn("web rate limit unavailable; request let through", "err", err)
			ok = true
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, wait.Round(time.Second)/time.Second))))
			writeError(w, http.StatusTooManyRequests, c.texts.say("web_too_many"))
			return
		}
		h(w, r, c.visitor(w, r))
	})
}

// rateKey names the rate-limit bucket of a client.
func rateKey(client string) string { return "web:ip:" + client }

// post wraps a state-changing API handler: api, cross-origin protection and
// the CSRF token check.
func (c *Chat) post(h apiFunc) http.Handler {
	return c.cop.Handler(c.api(func(w http.ResponseWriter, r *http.Request, v visitor) {
		if !c.checkCSRF(r, v) {
			writeError(w, http.StatusForbidden, c.texts.say("web_forbidden"))
			return
		}
		h(w, r, v)
	}))
}

// setSecurityHeaders sets the headers every chat response carries.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}
