package wechat

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults of Config, filled in by Defaults.
const (
	DefaultPath         = "/wechat"
	DefaultReplyBudget  = 3 * time.Second
	DefaultMaxClockSkew = 5 * time.Minute
	DefaultTurnTimeout  = 2 * time.Minute
	DefaultAPITimeout   = 10 * time.Second
)

// FallbackTemplate names the template that replaces customer-service
// messages WeChat refuses because the 48-hour window is closed (45015).
const FallbackTemplate = "fallback"

// Platform limits of the custom menu (WeChat's menu/create rules).
const (
	maxTopButtons     = 3
	maxSubButtons     = 5
	maxTopNameBytes   = 16
	maxSubNameBytes   = 60
	maxButtonKeyBytes = 128
)

// Config is the WeChat official account's section of the regbot config
// (`wechat:`). Secrets (app_secret, token, encoding_aes_key) are best given
// by environment overrides rather than in the file.
type Config struct {
	// AppID is the official account's AppID (开发者ID).
	AppID string `yaml:"app_id"`
	// AppSecret is the AppSecret (开发者密码), used to fetch access tokens.
	AppSecret string `yaml:"app_secret"`
	// Token is the server-configuration token (令牌) that signs every
	// webhook request: 3 to 32 letters or digits.
	Token string `yaml:"token"`
	// EncodingAESKey is the 43-character message key (消息加解密密钥),
	// required in compatible and safe mode; empty for plaintext mode.
	EncodingAESKey string `yaml:"encoding_aes_key"`
	// Path is where the webhook is served (default "/wechat").
	Path string `yaml:"path"`
	// ReplyBudget is how long the webhook waits for a turn before it answers
	// "success" and lets the reply go out by customer-service message
	// (default 3s; WeChat gives up and retries after 5s).
	ReplyBudget time.Duration `yaml:"reply_budget"`
	// JoinReplies (default true) joins the texts of a turn's reply, up to
	// its first image and within WeChat's size limit, into the one passive
	// reply (choices as numbered lines): no customer-service message, no
	// outbox row for most turns. False makes only the first message the
	// passive reply and sends the others by customer-service message
	// (questions as clickable menus), one API call more per such turn.
	JoinReplies *bool `yaml:"join_replies"`
	// MaxClockSkew refuses requests whose timestamp is further than this from
	// the server clock, so a captured request cannot be replayed later
	// (default 5m).
	MaxClockSkew time.Duration `yaml:"max_clock_skew"`
	// TurnTimeout bounds one turn including a media download, after the
	// webhook has answered (default 2m).
	TurnTimeout time.Duration `yaml:"turn_timeout"`
	// APIBase replaces https://api.weixin.qq.com for every API call (an
	// egress proxy, or a local fake in end-to-end tests); empty keeps
	// WeChat's. It is process-wide: see UseAPIBase.
	APIBase string `yaml:"api_base"`
	// APITimeout bounds each call to the WeChat API (default 10s); see
	// UseHTTPClient.
	APITimeout time.Duration `yaml:"api_timeout"`
	// ClassicToken fetches access tokens from /cgi-bin/token instead of the
	// stable-token endpoint (default: stable). Every fetch of a classic token
	// invalidates the previous one, so only use it where stable tokens are
	// unavailable; the shared cache and fetch lock keep instances in step.
	ClassicToken bool `yaml:"classic_token"`
	// Menu is the custom menu `regbot wechat menu` pushes.
	Menu []MenuButton `yaml:"menu"`
	// MenuCommands maps a CLICK button's key to the text the dialog engine
	// receives, e.g. START: 开始报名, PROGRESS: 进度, HUMAN: 转人工.
	MenuCommands map[string]string `yaml:"menu_commands"`
	// Templates are the template messages by name. Outside the 48-hour
	// window (WeChat refuses customer-service messages with 45015 or 45047)
	// an outbox message goes as the template named like its kind
	// (notification, reminder, staff, broadcast, reply) or else as
	// "fallback"; with neither it is skipped.
	Templates map[string]TemplateConfig `yaml:"templates"`
}

// MenuButton is one button of the custom menu: a CLICK button (Key), a link
// (URL) or a group of up to five sub-buttons.
type MenuButton struct {
	Name       string       `yaml:"name"`
	Key        string       `yaml:"key,omitempty"`
	URL        string       `yaml:"url,omitempty"`
	SubButtons []MenuButton `yaml:"sub_buttons,omitempty"`
}

// TemplateConfig is one template message: its ID in the account's template
// library and how its fields are filled.
type TemplateConfig struct {
	// ID is the template_id.
	ID string `yaml:"id"`
	// URL is opened when the candidate taps the message (optional).
	URL string `yaml:"url"`
	// Fields maps each template field (keyword1, thing2, time3…) to a
	// pattern; {name} is replaced by the notification's value of name.
	// Always available: {text} (the message text) and {time} (now,
	// "2006-01-02 15:04").
	Fields map[string]string `yaml:"fields"`
	// MaxFieldRunes cuts longer field values with "…" (default 20, the
	// limit of WeChat's "thing" fields).
	MaxFieldRunes int `yaml:"max_field_runes"`
}

// joinReplies reports whether a turn's texts are joined into its passive
// reply (Config.JoinReplies, default true).
func (c Config) joinReplies() bool { return c.JoinReplies == nil || *c.JoinReplies }

// Defaults returns c with every zero setting replaced by its default.
func (c Config) Defaults() Config {
	c.Path = cmp.Or(c.Path, DefaultPath)
	c.ReplyBudget = cmp.Or(c.ReplyBudget, DefaultReplyBudget)
	c.MaxClockSkew = cmp.Or(c.MaxClockSkew, DefaultMaxClockSkew)
	c.TurnTimeout = cmp.Or(c.TurnTimeout, DefaultTurnTimeout)
	c.APITimeout = cmp.Or(c.APITimeout, DefaultAPITimeout)
	if len(c.Templates) > 0 {
		t := make(map[string]TemplateConfig, len(c.Templates))
		for name, tc := range c.Templates {
			tc.MaxFieldRunes = cmp.Or(tc.MaxFieldRunes, 20)
			t[name] = tc
		}
		c.Templates = t
	}
	return c
}

var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)

// Validate reports every problem of c (after Defaults) at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.AppID == "" {
		add("wechat.app_id: required")
	}
	if c.AppSecret == "" {
		add("wechat.app_secret: required")
	}
	if !tokenPattern.MatchString(c.Token) {
		add("wechat.token: must be 3 to 32 letters or digits")
	}
	if c.EncodingAESKey != "" {
		if err := checkAESKey(c.EncodingAESKey); err != nil {
			add("wechat.encoding_aes_key: %w", err)
		}
	}
	if !strings.HasPrefix(c.Path, "/") || (len(c.Path) > 1 && strings.HasSuffix(c.Path, "/")) || strings.ContainsAny(c.Path, " {}?#") {
		add("wechat.path %q: must start with / and not end with /", c.Path)
	}
	if c.ReplyBudget <= 0 || c.ReplyBudget > 4500*time.Millisecond {
		add("wechat.reply_budget %s: must be between 0 and 4.5s (WeChat retries after 5s)", c.ReplyBudget)
	}
	if c.MaxClockSkew < time.Second {
		add("wechat.max_clock_skew %s: must be at least 1s", c.MaxClockSkew)
	}
	if c.TurnTimeout < c.ReplyBudget {
		add("wechat.turn_timeout %s: must be at least reply_budget", c.TurnTimeout)
	}
	if c.APIBase != "" {
		if u, err := url.Parse(c.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			add("wechat.api_base %q: want scheme://host[:port] with no path", c.APIBase)
		}
	}
	if c.APITimeout < time.Second {
		add("wechat.api_timeout %s: must be at least 1s", c.APITimeout)
	}
	errs = append(errs, c.validateMenu()...)
	for key, text := range c.MenuCommands {
		if strings.TrimSpace(text) == "" {
			add("wechat.menu_commands.%s: empty command text", key)
		}
	}
	for name, t := range c.Templates {
		if t.ID == "" {
			add("wechat.templates.%s.id: required", name)
		}
		if len(t.Fields) == 0 {
			add("wechat.templates.%s.fields: at least one field", name)
		}
		if t.MaxFieldRunes < 1 {
			add("wechat.templates.%s.max_field_runes: must be positive", name)
		}
	}
	return errors.Join(errs...)
}

func (c Config) validateMenu() []error {
	var errs []error
	if len(c.Menu) > maxTopButtons {
		errs = append(errs, fmt.Errorf("wechat.menu: %d buttons, at most %d", len(c.Menu), maxTopButtons))
	}
	var check func(path string, b MenuButton, top bool)
	check = func(path string, b MenuButton, top bool) {
		limit := maxSubNameBytes
		if top {
			limit = maxTopNameBytes
		}
		if b.Name == "" || len(b.Name) > limit {
			errs = append(errs, fmt.Errorf("%s.name %q: 1 to %d bytes (a Chinese character is 3)", path, b.Name, limit))
		}
		kinds := 0
		for _, set := range []bool{b.Key != "", b.URL != "", len(b.SubButtons) > 0} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			errs = append(errs, fmt.Errorf("%s: exactly one of key, url or sub_buttons", path))
		}
		if b.Key != "" {
			if len(b.Key) > maxButtonKeyBytes {
				errs = append(errs, fmt.Errorf("%s.key: at most %d bytes", path, maxButtonKeyBytes))
			}
			if _, ok := c.MenuCommands[b.Key]; !ok {
				errs = append(errs, fmt.Errorf("%s.key %q: no entry in wechat.menu_commands", path, b.Key))
			}
		}
		if b.URL != "" && !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") {
			errs = append(errs, fmt.Errorf("%s.url: must be an http(s) URL", path))
		}
		if len(b.SubButtons) > 0 {
			if !top {
				errs = append(errs, fmt.Errorf("%s: sub-buttons cannot have sub-buttons", path))
			}
			if len(b.SubButtons) > maxSubButtons {
				errs = append(errs, fmt.Errorf("%s: %d sub-buttons, at most %d", path, len(b.SubButtons), maxSubButtons))
			}
			for i, s := range b.SubButtons {
				check(fmt.Sprintf("%s.sub_buttons[%d]", path, i), s, false)
			}
		}
	}
	for i, b := range c.Menu {
		check(fmt.Sprintf("wechat.menu[%d]", i), b, true)
	}
	return errs
}

// checkAESKey checks an EncodingAESKey: 43 base64 characters encoding 32
// bytes.
func checkAESKey(k string) error {
	if utf8.RuneCountInString(k) != 43 {
		return errors.New("must be 43 characters")
	}
	b, err := base64.StdEncoding.DecodeString(k + "=")
	if err != nil || len(b) != 32 {
		return errors.New("not a valid key (43 base64 characters)")
	}
	return nil
}

// Enabled reports whether the section configures an official account (it
// has an app_id); without one regbot serves no WeChat webhook.
func (c Config) Enabled() bool { return c.AppID != "" }
