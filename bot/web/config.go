package web

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Defaults of Config, filled in by WithDefaults.
const (
	DefaultPath            = "/chat"
	DefaultMaxUploadBytes  = 20 << 20
	DefaultMaxTextRunes    = 2000
	DefaultRatePerMinute   = 60
	DefaultHistoryMessages = 200
	DefaultHistoryUsers    = 10000
	DefaultHistoryBytes    = 64 << 20
)

// minSecretBytes is the shortest cookie secret accepted (HMAC-SHA256 key).
const minSecretBytes = 32

// Config is the web chat's section of the regbot config (`web:`).
type Config struct {
	// Disabled turns the web chat off; it is on by default.
	Disabled bool `yaml:"disabled"`
	// Path is where the page lives (default "/chat"); the API and static
	// files live under it.
	Path string `yaml:"path"`
	// CookieSecret is the base64 key (at least 32 bytes) that signs the
	// visitor cookie and the CSRF token. Empty: a random key is generated at
	// start, with a warning, and visitors lose their conversation on restart.
	// Every instance behind a load balancer needs the same key.
	CookieSecret string `yaml:"cookie_secret"`
	// MaxUploadBytes is the largest image accepted (default 20 MiB).
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// MaxTextRunes is the longest text message accepted, in characters
	// (default 2000).
	MaxTextRunes int `yaml:"max_text_runes"`
	// RatePerMinute is how many API requests one client IP may make per
	// minute, with bursts up to the same number (default 60).
	RatePerMinute int `yaml:"rate_per_minute"`
	// BehindProxy says a reverse proxy sits in front: the client IP is the
	// last X-Forwarded-For address and X-Forwarded-Proto: https marks the
	// request as TLS (for the cookie's Secure flag). Leave false when
	// clients connect directly, or anyone can choose their rate-limit IP.
	// The proxy must pass the Host header through: the cross-origin check
	// compares it with the browser's Origin.
	BehindProxy bool `yaml:"behind_proxy"`
	// HistoryMessages is how many messages per visitor the page can show
	// again after a reload (default 200).
	HistoryMessages int `yaml:"history_messages"`
	// HistoryUsers bounds how many visitors' histories are kept in memory;
	// the least recently active are dropped first (default 10000).
	HistoryUsers int `yaml:"history_users"`
	// HistoryBytes bounds the memory the kept histories use, images the bot
	// sent included (default 64 MiB).
	HistoryBytes int64 `yaml:"history_bytes"`
}

// WithDefaults returns c with every zero setting replaced by its default.
func (c Config) WithDefaults() Config {
	c.Path = cmp.Or(c.Path, DefaultPath)
	c.MaxUploadBytes = cmp.Or(c.MaxUploadBytes, DefaultMaxUploadBytes)
	c.MaxTextRunes = cmp.Or(c.MaxTextRunes, DefaultMaxTextRunes)
	c.RatePerMinute = cmp.Or(c.RatePerMinute, DefaultRatePerMinute)
	c.HistoryMessages = cmp.Or(c.HistoryMessages, DefaultHistoryMessages)
	c.HistoryUsers = cmp.Or(c.HistoryUsers, DefaultHistoryUsers)
	c.HistoryBytes = cmp.Or(c.HistoryBytes, DefaultHistoryBytes)
	return c
}

// Validate reports every problem of c (after WithDefaults) at once; a
// disabled chat has none.
func (c Config) Validate() error {
	if c.Disabled {
		return nil
	}
	var errs []error
	if !strings.HasPrefix(c.Path, "/") || strings.HasSuffix(c.Path, "/") || strings.ContainsAny(c.Path, " {}?#") {
		errs = append(errs, fmt.Errorf("web.path %q: must start with / and not end with /", c.Path))
	}
	if c.CookieSecret != "" {
		if _, err := decodeSecret(c.CookieSecret); err != nil {
			errs = append(errs, fmt.Errorf("web.cookie_secret: %w", err))
		}
	}
	if c.MaxUploadBytes < 1024 {
		errs = append(errs, fmt.Errorf("web.max_upload_bytes %d: must be at least 1024", c.MaxUploadBytes))
	}
	if c.MaxTextRunes < 1 {
		errs = append(errs, fmt.Errorf("web.max_text_runes %d: must be positive", c.MaxTextRunes))
	}
	if c.RatePerMinute < 1 {
		errs = append(errs, fmt.Errorf("web.rate_per_minute %d: must be positive", c.RatePerMinute))
	}
	if c.HistoryMessages < 1 {
		errs = append(errs, fmt.Errorf("web.history_messages %d: must be positive", c.HistoryMessages))
	}
	if c.HistoryUsers < 1 {
		errs = append(errs, fmt.Errorf("web.history_users %d: must be positive", c.HistoryUsers))
	}
	if c.HistoryBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("web.history_bytes %d: must be at least 1 MiB", c.HistoryBytes))
	}
	return errors.Join(errs...)
}

// decodeSecret decodes a base64 (standard or URL alphabet, padded or not)
// secret of at least minSecretBytes bytes.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) < minSecretBytes {
			return nil, fmt.Errorf("%d bytes, need at least %d (openssl rand -base64 32)", len(b), minSecretBytes)
		}
		return b, nil
	}
	return nil, errors.New("not base64 (openssl rand -base64 32)")
}
