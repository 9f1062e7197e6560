package main

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gopkg.in/yaml.v3"

	"regbot/admin"
	"regbot/bot/telegram"
	"regbot/bot/web"
	"regbot/bot/wechat"
	"regbot/broadcasts"
	"regbot/notify"
	"regbot/store/blob"
	"regbot/store/redis"
	"regbot/store/seal"
)

// Config is regbot's configuration: one YAML file (config.example.yaml
// documents every key), then environment variables for secrets, then
// defaults. Each part is handed to the piece it configures; nothing reads a
// global configuration.
type Config struct {
	HTTP     HTTPConfig     `yaml:"http"`
	Database DatabaseConfig `yaml:"database"`
	Redis    RedisConfig    `yaml:"redis"`
	Turns    TurnsConfig    `yaml:"turns"`
	Plan     PlanConfig     `yaml:"plan"`
	// DataDir is where regbot keeps files (default "data").
	DataDir string     `yaml:"data_dir"`
	Blob    BlobConfig `yaml:"blob"`
	Log     LogConfig  `yaml:"log"`
	// Privacy is how personal data is protected at rest in the record.
	Privacy PrivacyConfig `yaml:"privacy"`

	// Channel adapters add their sections below, each typed by its own
	// package and validated by it (wechat.Config, telegram.Config,
	// web.Config), e.g.
	//
	//	WeChat wechat.Config `yaml:"wechat"`
	//
	// plus their secrets in envOverrides and their Validate in Validate.

	// Web is the web chat at /chat (bot/web).
	Web web.Config `yaml:"web"`

	// Telegram is the Telegram bot (bot/telegram); off while it has no
	// token.
	Telegram telegram.Config `yaml:"telegram"`

	// WeChat is the official account (bot/wechat); off while it has no
	// app_id.
	WeChat wechat.Config `yaml:"wechat"`

	// Admin is the staff side: the material package endpoint and the
	// candidates' package links (admin).
	Admin admin.Config `yaml:"admin"`

	// Notify tunes the outbox's delivery (package notify, docs/notify.md).
	Notify notify.Config `yaml:"notify"`

	// Broadcasts paces broadcasts per channel (package broadcasts).
	Broadcasts broadcasts.Config `yaml:"broadcasts"`
}

// HTTPConfig is the HTTP server's section.
type HTTPConfig struct {
	// Listen is the address to listen on (default 127.0.0.1:8080; put a
	// TLS-terminating proxy in front for the platforms' webhooks).
	Listen string `yaml:"listen"`
	// ShutdownTimeout bounds how long a SIGTERM waits for in-flight
	// requests (default 20s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// DatabaseConfig is the PostgreSQL record's section.
type DatabaseConfig struct {
	// URL is the PostgreSQL connection URL (secret: REGBOT_DATABASE_URL).
	// Empty runs on the embedded memory store: nothing survives exit.
	URL string `yaml:"url"`
	// MaxConns is the connection pool's size (default 16).
	MaxConns int32 `yaml:"max_conns"`
}

// RedisConfig is the fast path's section (sessions, de-duplication, locks).
type RedisConfig struct {
	// URL is the Redis URL (secret: REGBOT_REDIS_URL): redis://,
	// rediss://, ?master_name= for Sentinel, redis+cluster:// for Cluster.
	// Empty with a database keeps the fast path in memory: one instance only.
	URL string `yaml:"url"`
	// Prefix starts every key (default "regbot:").
	Prefix string `yaml:"prefix"`
	// SessionTTL is how long an idle session stays in Redis (default 720h);
	// after that it is rebuilt from the record.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// AutoPipeline sends the scripts of turns running at the same time to
	// Redis together, as one pipeline (go-redis's autopipeliner, which
	// go-redis marks experimental; docs/turns.md). On by default (nil);
	// false gives every script a round trip of its own.
	AutoPipeline *bool `yaml:"auto_pipeline"`
}

// AutoPipelineOn reports whether the turn's scripts go through the
// autopipeliner (RedisConfig.AutoPipeline; on by default).
func (c RedisConfig) AutoPipelineOn() bool { return c.AutoPipeline == nil || *c.AutoPipeline }

// TurnsConfig is how candidates' turns run (docs/turns.md).
type TurnsConfig struct {
	// Instance names this process among the instances sharing one Redis
	// (default: host name and http.listen). It must be stable across
	// restarts and unique among the instances running at once: a
	// restarted instance then takes over at once the turns it held when it
	// stopped.
	Instance string `yaml:"instance"`
	// Lease is how long a crashed instance keeps a candidate's turn (and a
	// message it was handling) before another takes it over (default 2s).
	Lease time.Duration `yaml:"lease"`
	// UserRatePerMinute is each candidate's sustained message rate on every
	// channel (default 60; 0 turns the limit off; env
	// REGBOT_TURNS_USER_RATE_PER_MINUTE); UserBurst the messages they may
	// send at once (default 30; env REGBOT_TURNS_USER_BURST). A message over
	// the limit is recorded and not answered, but for one "slow down"
	// sentence.
	UserRatePerMinute *float64 `yaml:"user_rate_per_minute"`
	UserBurst         int      `yaml:"user_burst"`
}

// PlanConfig selects the certification plan.
type PlanConfig struct {
	// Path is a plan file; empty uses the embedded default plan.
	Path string `yaml:"path"`
}

// BlobConfig is the uploaded files' section.
type BlobConfig struct {
	// Dir is where uploads are kept (default <data_dir>/blobs).
	Dir string `yaml:"dir"`
	// EncryptionKey is the base64 of 32 random bytes that encrypt ID cards
	// and photos at rest (secret: REGBOT_BLOB_ENCRYPTION_KEY). Keep it: the
	// files cannot be read without it.
	EncryptionKey string `yaml:"encryption_key"`
	// InsecureNoEncryption stores sensitive uploads unencrypted; only for
	// development.
	InsecureNoEncryption bool `yaml:"insecure_no_encryption"`
}

// PrivacyConfig is how personal data is protected at rest in PostgreSQL
// (docs/privacy.md): the sensitive answers, the session snapshot and what
// candidates said are sealed with AES-256-GCM, and ID numbers and mobiles
// are found by a blind index (HMAC-SHA-256), under keys derived from the
// record key.
type PrivacyConfig struct {
	// RecordKey is the base64 of 32 random bytes (secret:
	// REGBOT_RECORD_KEY). Required with a database unless
	// insecure_no_encryption. Keep it: the record cannot be read without
	// it.
	RecordKey string `yaml:"record_key"`
	// OldRecordKeys are earlier record keys, comma-separated (secret:
	// REGBOT_OLD_RECORD_KEYS): they still open what they sealed while
	// `regbot migrate --reseal-all` moves it to the record key.
	OldRecordKeys string `yaml:"old_record_keys"`
	// InsecureNoEncryption keeps personal data in the record unencrypted;
	// only for development.
	InsecureNoEncryption bool `yaml:"insecure_no_encryption"`
}

// LogConfig is the logging section.
type LogConfig struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json or text (default json).
	Format string `yaml:"format"`
}

// Defaults of Config, filled in by withDefaults.
const (
	defaultListen            = "127.0.0.1:8080"
	defaultShutdownTimeout   = 20 * time.Second
	defaultMaxConns          = 16
	defaultDataDir           = "data"
	defaultLogLevel          = "info"
	defaultLogFormat         = "json"
	defaultUserRatePerMinute = 60
	defaultUserBurst         = 30
)

// envOverrides are the environment variables that replace a setting, for
// secrets that do not belong in a file.
func envOverrides(c *Config) map[string]*string {
	return map[string]*string{
		"REGBOT_DATABASE_URL":        &c.Database.URL,
		"REGBOT_REDIS_URL":           &c.Redis.URL,
		"REGBOT_BLOB_ENCRYPTION_KEY": &c.Blob.EncryptionKey,
		"REGBOT_RECORD_KEY":          &c.Privacy.RecordKey,
		"REGBOT_OLD_RECORD_KEYS":     &c.Privacy.OldRecordKeys,
		"REGBOT_WEB_COOKIE_SECRET":   &c.Web.CookieSecret,
		// Telegram (bot/telegram).
		"REGBOT_TELEGRAM_TOKEN":          &c.Telegram.Token,
		"REGBOT_TELEGRAM_WEBHOOK_SECRET": &c.Telegram.WebhookSecret,
		// WeChat (bot/wechat).
		"REGBOT_WECHAT_APP_SECRET":       &c.WeChat.AppSecret,
		"REGBOT_WECHAT_TOKEN":            &c.WeChat.Token,
		"REGBOT_WECHAT_ENCODING_AES_KEY": &c.WeChat.EncodingAESKey,
		// Admin.
		"REGBOT_ADMIN_TOKEN": &c.Admin.Token,
		"REGBOT_LINK_SECRET": &c.Admin.LinkSecret,
		// The console's admin on the embedded store.
		"REGBOT_CONSOLE_ADMIN_PASSWORD": &c.Admin.Console.EmbeddedAdminPassword,
	}
}

// numericEnvOverrides applies the environment variables that replace a
// number: the per-candidate rate limit, which a load test or an office's
// deployment tooling sets without editing the file.
func numericEnvOverrides(c *Config, getenv func(string) string) error {
	if v := getenv("REGBOT_TURNS_USER_RATE_PER_MINUTE"); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("REGBOT_TURNS_USER_RATE_PER_MINUTE %q: want a number of messages a minute (0 turns the limit off)", v)
		}
		c.Turns.UserRatePerMinute = &rate
	}
	if v := getenv("REGBOT_TURNS_USER_BURST"); v != "" {
		burst, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("REGBOT_TURNS_USER_BURST %q: want a whole number of messages", v)
		}
		c.Turns.UserBurst = burst
	}
	return nil
}

// loadConfig reads the config file at path, applies the environment
// overrides and the defaults, and validates the result. Its errors are one
// line each, naming the file and every problem.
func loadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := parseConfig(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig is loadConfig on the file's bytes.
func parseConfig(data []byte, getenv func(string) string) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	for name, field := range envOverrides(&cfg) {
		if v := getenv(name); v != "" {
			*field = v
		}
	}
	if err := numericEnvOverrides(&cfg, getenv); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// withDefaults returns c with every unset setting at its default.
func (c Config) withDefaults() Config {
	c.HTTP.Listen = cmp.Or(c.HTTP.Listen, defaultListen)
	c.HTTP.ShutdownTimeout = cmp.Or(c.HTTP.ShutdownTimeout, defaultShutdownTimeout)
	c.Database.MaxConns = cmp.Or(c.Database.MaxConns, defaultMaxConns)
	c.Redis.Prefix = cmp.Or(c.Redis.Prefix, redis.DefaultPrefix)
	c.Redis.SessionTTL = cmp.Or(c.Redis.SessionTTL, redis.DefaultSessionTTL)
	if c.Turns.Instance == "" {
		host, _ := os.Hostname()
		c.Turns.Instance = host + "@" + c.HTTP.Listen
	}
	c.Turns.Lease = cmp.Or(c.Turns.Lease, redis.DefaultLockLease)
	if c.Turns.UserRatePerMinute == nil {
		rate := float64(defaultUserRatePerMinute)
		c.Turns.UserRatePerMinute = &rate
	}
	if *c.Turns.UserRatePerMinute > 0 && c.Turns.UserBurst == 0 {
		c.Turns.UserBurst = defaultUserBurst
	}
	c.DataDir = cmp.Or(c.DataDir, defaultDataDir)
	c.Blob.Dir = cmp.Or(c.Blob.Dir, filepath.Join(c.DataDir, "blobs"))
	c.Log.Level = cmp.Or(c.Log.Level, defaultLogLevel)
	c.Log.Format = cmp.Or(c.Log.Format, defaultLogFormat)
	c.Web = c.Web.WithDefaults()
	c.Telegram = c.Telegram.WithDefaults()
	if c.WeChat.Enabled() {
		c.WeChat = c.WeChat.Defaults()
	}
	c.Admin = c.Admin.WithDefaults()
	c.Notify = c.Notify.WithDefaults()
	c.Broadcasts = c.Broadcasts.WithDefaults()
	return c
}

// Validate reports every problem of c (after withDefaults) at once, each
// naming its key; secrets are never repeated in a message.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || port == "" {
		bad("http.listen %q: want host:port", c.HTTP.Listen)
	}
	if c.HTTP.ShutdownTimeout < 0 {
		bad("http.shutdown_timeout %v: must be positive", c.HTTP.ShutdownTimeout)
	}
	if c.Database.URL != "" {
		if _, err := pgxpool.ParseConfig(c.Database.URL); err != nil {
			bad("database.url: cannot be parsed (want postgres://user@host:port/db?options)")
		}
	}
	if c.Database.MaxConns < 1 {
		bad("database.max_conns %d: must be at least 1", c.Database.MaxConns)
	}
	if c.Redis.URL != "" {
		if c.Database.URL == "" {
			bad("redis.url is set but database.url is empty: sessions would outlive the in-memory record they are rebuilt from; set database.url too")
		}
		if rdb, err := redis.NewClient(c.Redis.URL); err != nil {
			bad("redis.url: cannot be parsed (want redis://[user:password@]host:port[/db])")
		} else {
			rdb.Close()
		}
	}
	if strings.ContainsAny(c.Redis.Prefix, "{}") {
		bad("redis.prefix %q: must not contain { or }", c.Redis.Prefix)
	}
	if c.Redis.SessionTTL < time.Minute {
		bad("redis.session_ttl %v: must be at least 1m", c.Redis.SessionTTL)
	}
	if c.Turns.Lease < 100*time.Millisecond {
		bad("turns.lease %v: must be at least 100ms", c.Turns.Lease)
	}
	if rate := *c.Turns.UserRatePerMinute; rate < 0 || c.Turns.UserBurst < 0 {
		bad("turns.user_rate_per_minute %v, turns.user_burst %d: the rate must be 0 (off) or positive, the burst 0 (the default, %d) or positive",
			rate, c.Turns.UserBurst, defaultUserBurst)
	}
	switch {
	case c.Blob.EncryptionKey != "" && c.Blob.InsecureNoEncryption:
		bad("blob: encryption_key and insecure_no_encryption are both set; choose one")
	case c.Blob.EncryptionKey != "":
		if key, err := base64.StdEncoding.DecodeString(c.Blob.EncryptionKey); err != nil || len(key) != blob.KeySize {
			bad("blob.encryption_key: want the base64 of %d random bytes (e.g. `openssl rand -base64 32`)", blob.KeySize)
		}
	case !c.Blob.InsecureNoEncryption:
		bad("blob.encryption_key is required to store ID cards and photos encrypted (e.g. `openssl rand -base64 32`, or REGBOT_BLOB_ENCRYPTION_KEY); set blob.insecure_no_encryption: true only for development")
	}
	if _, err := c.configuredRecordKeys(); err != nil {
		bad("%v", err)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format %q: want json or text", c.Log.Format)
	}
	if err := c.Web.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Telegram.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.WeChat.Enabled() {
		if err := c.WeChat.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Admin.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Notify.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Broadcasts.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Admin.Console.EmbeddedAdminPassword != "" && c.Database.URL != "" {
		bad("admin.console.embedded_admin_password is only for the embedded store: with database.url, create accounts with `regbot user add`")
	}
	errs = append(errs, c.publishedSecrets()...)
	return joinProblems(errs)
}

// publishedSecretValues are secret values that have been printed in this
// repository's examples or in the platforms' documentation. Anyone can read
// them, so a server configured with one is refused.
var publishedSecretValues = map[string]bool{
	"regbotToken2025": true, // wechat.token of an earlier config.example.yaml
	"kRnE6vXbUfU1o2B0cE5Ng9Wl3pQ7sT4yZaHjDmCxLvA": true, // its encoding_aes_key
	"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG": true, // Tencent's sample EncodingAESKey
	"TEMPLATE_ID_FROM_THE_TEMPLATE_LIBRARY":       true, // the example's template id placeholder
}

// publishedSecrets reports each secret set to a published example value,
// by key, never repeating the value.
func (c Config) publishedSecrets() []error {
	var errs []error
	secrets := []struct{ key, value string }{
		{"wechat.token", c.WeChat.Token},
		{"wechat.encoding_aes_key", c.WeChat.EncodingAESKey},
		{"wechat.app_secret", c.WeChat.AppSecret},
		{"telegram.webhook_secret", c.Telegram.WebhookSecret},
		{"admin.token", c.Admin.Token},
		{"admin.link_secret", c.Admin.LinkSecret},
		{"web.cookie_secret", c.Web.CookieSecret},
	}
	for _, s := range secrets {
		if publishedSecretValues[s.value] {
			errs = append(errs, fmt.Errorf("%s: is an example value published in documentation; generate a secret of your own", s.key))
		}
	}
	if c.WeChat.Enabled() {
		for name, t := range c.WeChat.Templates {
			if publishedSecretValues[t.ID] {
				errs = append(errs, fmt.Errorf("wechat.templates.%s.id: is the example placeholder; set the template id from the WeChat console", name))
			}
		}
	}
	return errs
}

// blobKey returns the decoded blob encryption key, nil without one.
func (c Config) blobKey() []byte {
	if c.Blob.EncryptionKey == "" {
		return nil
	}
	key, _ := base64.StdEncoding.DecodeString(c.Blob.EncryptionKey)
	return key
}

// configuredRecordKeys returns the record's keys from the configuration:
// nil without a record key (or in the insecure mode).
func (c Config) configuredRecordKeys() (*seal.Keys, error) {
	p := c.Privacy
	switch {
	case p.RecordKey != "" && p.InsecureNoEncryption:
		return nil, errors.New("privacy: record_key and insecure_no_encryption are both set; choose one")
	case p.RecordKey == "" && p.OldRecordKeys != "":
		return nil, errors.New("privacy.old_record_keys without privacy.record_key")
	case p.RecordKey == "":
		return nil, nil
	}
	current, err := seal.ParseKey(p.RecordKey)
	if err != nil {
		return nil, fmt.Errorf("privacy.record_key: %w", err)
	}
	var old [][]byte
	for _, s := range strings.Split(p.OldRecordKeys, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		k, err := seal.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("privacy.old_record_keys: %w", err)
		}
		old = append(old, k)
	}
	return seal.New(current, old...)
}

// recordKeyFile is where a record key is kept when the configuration
// names none: <data_dir>/record.key.
func (c Config) recordKeyFile() string { return filepath.Join(c.DataDir, "record.key") }

// recordKeys returns the record's keys: the configured ones; with a
// database and none configured (and not the insecure mode), the key in
// recordKeyFile, generated there on first use, and that file's path as
// generated so the caller can say so; nil in the insecure mode or without
// a database.
func (c Config) recordKeys() (keys *seal.Keys, generated string, err error) {
	keys, err = c.configuredRecordKeys()
	if err != nil || keys != nil || c.Database.URL == "" || c.Privacy.InsecureNoEncryption {
		return keys, "", err
	}
	path := c.recordKeyFile()
	raw, err := readOrCreateKey(path)
	if err != nil {
		return nil, "", fmt.Errorf("privacy.record_key is not set and %w; set privacy.record_key (REGBOT_RECORD_KEY, e.g. `openssl rand -base64 32`)", err)
	}
	keys, err = seal.New(raw)
	return keys, path, err
}

// readOrCreateKey reads the base64 key in path, or writes a new random one
// there (mode 0600) when the file does not exist.
func readOrCreateKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		raw, err := seal.ParseKey(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return raw, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("no randomness for a record key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readOrCreateKey(path) // another process wrote it first
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", path, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return raw, nil
}

// problems is several errors reported on one line.
type problems []error

func (p problems) Error() string {
	parts := make([]string, len(p))
	for i, e := range p {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (p problems) Unwrap() []error { return p }

func joinProblems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return problems(errs)
}

var unknownField = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)

// sectionOf maps the Go type of a config section to its YAML key, so an
// unknown key is named by its full path ("http.listne").
func sectionOf() map[string]string {
	out := map[string]string{reflect.TypeFor[Config]().String(): ""}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct {
			out[f.Type.String()] = strings.Split(f.Tag.Get("yaml"), ",")[0] + "."
		}
	}
	return out
}

// yamlError turns yaml.v3's errors into one line that names the key and the
// line, without Go type names.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	sections := sectionOf()
	for _, msg := range te.Errors {
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			errs = append(errs, fmt.Errorf("line %s: unknown key %q", m[1], sections[m[3]]+m[2]))
			continue
		}
		errs = append(errs, errors.New(msg))
	}
	return joinProblems(errs)
}
