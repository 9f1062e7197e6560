package telegram

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The modes an Adapter receives updates in.
const (
	// ModePolling asks Telegram for updates (getUpdates long polling): no
	// public URL needed, but only one process may poll one bot.
	ModePolling = "polling"
	// ModeWebhook has Telegram post updates to ServeHTTP.
	ModeWebhook = "webhook"
)

// Defaults of Config, filled in by WithDefaults.
const (
	DefaultMode        = ModePolling
	DefaultWebhookPath = "/telegram"
	DefaultPollTimeout = 50 * time.Second
	DefaultServerURL   = "https://api.telegram.org"
)

// Bounds of the settings.
const (
	minPollTimeout   = 2 * time.Second
	maxPollTimeout   = 5 * time.Minute
	minWebhookSecret = 16
)

var (
	// tokenPattern is the shape of a bot token from @BotFather.
	tokenPattern = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	// secretPattern is what Telegram allows in a webhook secret_token.
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Config is the Telegram channel's section of the regbot config
// (`telegram:`). The channel is off while Token is empty.
type Config struct {
	// Token is the bot token from @BotFather. Keep it out of the file: set
	// it through the environment. Empty turns the channel off.
	Token string `yaml:"token"`
	// Mode is "polling" (default: works without a public URL; one process
	// per bot) or "webhook" (Telegram posts to WebhookPath; any number of
	// instances behind a load balancer).
	Mode string `yaml:"mode"`
	// WebhookPath is where `regbot serve` mounts the webhook (default
	// "/telegram").
	WebhookPath string `yaml:"webhook_path"`
	// WebhookSecret is the secret_token Telegram sends in the
	// X-Telegram-Bot-Api-Secret-Token header; required in webhook mode, at
	// least 16 characters of A-Z, a-z, 0-9, _ and -.
	WebhookSecret string `yaml:"webhook_secret"`
	// WebhookURL is the public https URL of the webhook. When set, Start
	// registers it with Telegram (setWebhook); leave empty to register it
	// yourself.
	WebhookURL string `yaml:"webhook_url"`
	// PollTimeout is how long one getUpdates long poll waits (default 50s).
	PollTimeout time.Duration `yaml:"poll_timeout"`
	// ServerURL is the Bot API server (default https://api.telegram.org);
	// tests and self-hosted Bot API servers change it.
	ServerURL string `yaml:"server_url"`
	// WebhookReply, in webhook mode, answers an update with the turn's
	// reply as the webhook's response (a sendMessage Telegram runs when it
	// gets the answer; with the Router's SplitFor, the turn's texts joined
	// into one message) instead of Bot API calls: no outbox row, no
	// settlement and one call less per turn. On by default in webhook mode
	// (nil); false sends every reply by the API. Telegram does not report a
	// failure of it (a blocked user is found on the next send instead);
	// a few texts that do not join go by the API before the webhook
	// answers with the last (SplitFor), messages with images always go by
	// the outbox, and a redelivered update of a recorded turn is answered
	// with its recorded reply again.
	WebhookReply *bool `yaml:"webhook_reply"`
}

// Enabled reports whether the channel is configured (it has a token).
func (c Config) Enabled() bool { return c.Token != "" }

// WithDefaults returns c with every zero setting replaced by its default.
func (c Config) WithDefaults() Config {
	c.Token = strings.TrimSpace(c.Token)
	c.Mode = cmp.Or(strings.ToLower(strings.TrimSpace(c.Mode)), DefaultMode)
	c.WebhookPath = cmp.Or(c.WebhookPath, DefaultWebhookPath)
	c.PollTimeout = cmp.Or(c.PollTimeout, DefaultPollTimeout)
	c.ServerURL = strings.TrimRight(cmp.Or(c.ServerURL, DefaultServerURL), "/")
	return c
}

// webhookReply reports whether updates are answered with the turn's reply
// (Config.WebhookReply; on by default in webhook mode).
func (c Config) webhookReply() bool {
	return c.Mode == ModeWebhook && (c.WebhookReply == nil || *c.WebhookReply)
}

// Validate reports every problem of c (after WithDefaults) at once. A
// disabled channel (no token) is valid whatever else is set.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if !tokenPattern.MatchString(c.Token) {
		// Never echo the token.
		errs = append(errs, errors.New("telegram.token: not a bot token (digits, a colon, then letters, digits, _ or -)"))
	}
	switch c.Mode {
	case ModePolling:
		if c.PollTimeout < minPollTimeout || c.PollTimeout > maxPollTimeout {
			errs = append(errs, fmt.Errorf("telegram.poll_timeout %s: must be between %s and %s", c.PollTimeout, minPollTimeout, maxPollTimeout))
		}
	case ModeWebhook:
		if len(c.WebhookSecret) < minWebhookSecret || !secretPattern.MatchString(c.WebhookSecret) {
			errs = append(errs, fmt.Errorf("telegram.webhook_secret: required in webhook mode, %d to 256 characters of A-Z, a-z, 0-9, _ and - (openssl rand -hex 32)", minWebhookSecret))
		}
		if !strings.HasPrefix(c.WebhookPath, "/") || strings.HasSuffix(c.WebhookPath, "/") || strings.ContainsAny(c.WebhookPath, " {}?#") {
			errs = append(errs, fmt.Errorf("telegram.webhook_path %q: must start with / and not end with /", c.WebhookPath))
		}
		if c.WebhookURL != "" {
			if u, err := url.Parse(c.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
				errs = append(errs, fmt.Errorf("telegram.webhook_url %q: must be an https URL", c.WebhookURL))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("telegram.mode %q: must be %q or %q", c.Mode, ModePolling, ModeWebhook))
	}
	if u, err := url.Parse(c.ServerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("telegram.server_url %q: must be an http(s) URL", c.ServerURL))
	}
	return errors.Join(errs...)
}
