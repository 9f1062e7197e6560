package main

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gopkg.in/yaml.v3"

	"regbot/store/postgres"
	"regbot/store/seal"
)

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes

// testRecordKey is the privacy.record_key of the tests' configs with a
// database.
const testRecordKey = "cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg="

// testRecord is the record as the tests' configs open it (sealed under
// testRecordKey).
func testRecord(t testing.TB, pool *pgxpool.Pool) *postgres.Store {
	t.Helper()
	raw, err := seal.ParseKey(testRecordKey)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.New(raw)
	if err != nil {
		t.Fatal(err)
	}
	return postgres.New(pool, postgres.WithKeys(keys))
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr []string // substrings, all on one line
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "defaults",
			yaml: "blob:\n  encryption_key: " + testKey + "\n",
			check: func(t *testing.T, c *Config) {
				if c.HTTP.Listen != "127.0.0.1:8080" || c.HTTP.ShutdownTimeout != 20*time.Second ||
					c.Database.URL != "" || c.Database.MaxConns != 16 || c.Redis.Prefix != "regbot:" ||
					c.Redis.SessionTTL != 720*time.Hour || c.DataDir != "data" || c.Blob.Dir != "data/blobs" ||
					c.Log.Level != "info" || c.Log.Format != "json" {
					t.Fatalf("defaults: %+v", c)
				}
				if len(c.blobKey()) != 32 {
					t.Fatalf("blob key is %d bytes", len(c.blobKey()))
				}
			},
		},
		{
			name: "rate limit default",
			yaml: "blob:\n  insecure_no_encryption: true\n",
			check: func(t *testing.T, c *Config) {
				if *c.Turns.UserRatePerMinute != 60 || c.Turns.UserBurst != 30 {
					t.Fatalf("default rate limit: %v/min, burst %d", *c.Turns.UserRatePerMinute, c.Turns.UserBurst)
				}
			},
		},
		{
			name: "rate limit off in the file",
			yaml: "turns:\n  user_rate_per_minute: 0\nblob:\n  insecure_no_encryption: true\n",
			check: func(t *testing.T, c *Config) {
				if *c.Turns.UserRatePerMinute != 0 {
					t.Fatalf("rate limit not off: %v/min", *c.Turns.UserRatePerMinute)
				}
			},
		},
		{
			name: "rate limit from the environment",
			yaml: "turns:\n  user_rate_per_minute: 30\n  user_burst: 5\nblob:\n  insecure_no_encryption: true\n",
			env:  map[string]string{"REGBOT_TURNS_USER_RATE_PER_MINUTE": "0"},
			check: func(t *testing.T, c *Config) {
				if *c.Turns.UserRatePerMinute != 0 {
					t.Fatalf("rate limit not off: %v/min", *c.Turns.UserRatePerMinute)
				}
			},
		},
		{
			name:    "rate limit: a bad environment value",
			yaml:    "blob:\n  insecure_no_encryption: true\n",
			env:     map[string]string{"REGBOT_TURNS_USER_RATE_PER_MINUTE": "fast", "REGBOT_TURNS_USER_BURST": "x"},
			wantErr: []string{`REGBOT_TURNS_USER_RATE_PER_MINUTE "fast": want a number`},
		},
		{
			name:    "rate limit: negative",
			yaml:    "turns:\n  user_rate_per_minute: -1\nblob:\n  insecure_no_encryption: true\n",
			wantErr: []string{"turns.user_rate_per_minute -1", "must be 0 (off) or positive"},
		},
		{
			name: "environment overrides the file's secrets",
			yaml: "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: postgres://file@127.0.0.1/x\nblob:\n  insecure_no_encryption: true\n",
			env: map[string]string{
				"REGBOT_DATABASE_URL": "postgres://env@127.0.0.1/y",
				"REGBOT_REDIS_URL":    "redis://127.0.0.1:6379/1",
			},
			check: func(t *testing.T, c *Config) {
				if c.Database.URL != "postgres://env@127.0.0.1/y" || c.Redis.URL != "redis://127.0.0.1:6379/1" {
					t.Fatalf("overrides not applied: %+v", c)
				}
			},
		},
		{
			name: "redis autopipeline: on by default",
			yaml: "blob:\n  insecure_no_encryption: true\n",
			check: func(t *testing.T, c *Config) {
				if !c.Redis.AutoPipelineOn() {
					t.Fatal("redis.auto_pipeline unset: off, want on")
				}
			},
		},
		{
			name: "redis autopipeline: off",
			yaml: "redis:\n  auto_pipeline: false\nblob:\n  insecure_no_encryption: true\n",
			check: func(t *testing.T, c *Config) {
				if c.Redis.AutoPipelineOn() {
					t.Fatal("redis.auto_pipeline false: on, want off")
				}
			},
		},
		{
			name: "durations and data dir",
			yaml: "http:\n  shutdown_timeout: 45s\ndata_dir: /var/lib/regbot\nredis:\n  session_ttl: 48h\nblob:\n  insecure_no_encryption: true\n",
			check: func(t *testing.T, c *Config) {
				if c.HTTP.ShutdownTimeout != 45*time.Second || c.Redis.SessionTTL != 48*time.Hour || c.Blob.Dir != "/var/lib/regbot/blobs" {
					t.Fatalf("%+v", c)
				}
			},
		},
		{
			name:    "unknown key named by its path",
			yaml:    "http:\n  listne: 127.0.0.1:9000\nblob:\n  insecure_no_encryption: true\n",
			wantErr: []string{`line 2: unknown key "http.listne"`},
		},
		{
			name:    "unknown top-level key",
			yaml:    "databse:\n  url: x\n",
			wantErr: []string{`unknown key "databse"`},
		},
		{
			name: "record key problems",
			yaml: "database:\n  url: postgres://x@127.0.0.1/db\nblob:\n  insecure_no_encryption: true\n" +
				"privacy:\n  record_key: c2hvcnQ=\n",
			wantErr: []string{"privacy.record_key: want the base64 of 32 random bytes"},
		},
		{
			name: "old record keys without a record key",
			yaml: "database:\n  url: postgres://x@127.0.0.1/db\nblob:\n  insecure_no_encryption: true\n" +
				"privacy:\n  insecure_no_encryption: true\n  old_record_keys: " + testKey + "\n",
			wantErr: []string{"privacy.old_record_keys without privacy.record_key"},
		},
		{
			name:    "malformed YAML",
			yaml:    "http: [\n",
			wantErr: []string{"not valid YAML", "line 1"},
		},
		{
			name: "every problem at once",
			yaml: "http:\n  listen: nowhere\nlog:\n  level: loud\n  format: xml\nblob:\n  encryption_key: c2hvcnQ=\n" +
				"redis:\n  url: redis://127.0.0.1:6379\n  prefix: 'a{b}'\n",
			wantErr: []string{`http.listen "nowhere"`, `log.level "loud"`, `log.format "xml"`, "blob.encryption_key: want the base64 of 32",
				"redis.url is set but database.url is empty", `redis.prefix "a{b}"`},
		},
		{
			name:    "no blob key and no explicit opt-out",
			yaml:    "",
			wantErr: []string{"blob.encryption_key is required"},
		},
		{
			name:    "a malformed database url is refused without repeating it",
			yaml:    "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: 'postgres://u:s3cret@[::1'\nblob:\n  insecure_no_encryption: true\n",
			wantErr: []string{"database.url: cannot be parsed"},
		},
		{
			name: "published example secrets are refused by key, from the file or the environment",
			yaml: "blob:\n  insecure_no_encryption: true\nwechat:\n  app_id: wx0123456789abcdef\n  app_secret: s3cret\n" +
				"  token: regbotToken2025\n  templates:\n    fallback:\n      id: TEMPLATE_ID_FROM_THE_TEMPLATE_LIBRARY\n      fields: {thing1: '{text}'}\n",
			env: map[string]string{"REGBOT_WECHAT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
			wantErr: []string{"wechat.token: is an example value", "wechat.encoding_aes_key: is an example value",
				"wechat.templates.fallback.id: is the example placeholder"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig([]byte(tt.yaml), env(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("accepted: %+v", c)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") {
					t.Errorf("error spans several lines: %q", msg)
				}
				if strings.Contains(msg, "s3cret") {
					t.Errorf("error repeats a secret: %q", msg)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not mention %q", msg, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestExampleConfigIsComplete: config.example.yaml parses with known keys
// only, and sets every key of Config (with its default).
func TestExampleConfigIsComplete(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = parseConfig(data, func(string) string { return "" })
	// The example leaves the blob key empty on purpose: that is the only
	// problem it may have.
	var p problems
	if !errors.As(err, &p) || len(p) != 1 || !strings.Contains(p[0].Error(), "blob.encryption_key is required") {
		t.Fatalf("example config: %v", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for k, v := range raw {
		if sub, ok := v.(map[string]any); ok {
			for kk := range sub {
				documented = append(documented, k+"."+kk)
			}
			continue
		}
		documented = append(documented, k)
	}
	var keys []string
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		name := f.Tag.Get("yaml")
		if f.Type.Kind() != reflect.Struct {
			keys = append(keys, name)
			continue
		}
		for j := range f.Type.NumField() {
			keys = append(keys, name+"."+f.Type.Field(j).Tag.Get("yaml"))
		}
	}
	slices.Sort(documented)
	slices.Sort(keys)
	if !slices.Equal(documented, keys) {
		t.Fatalf("config.example.yaml sets %v,\nConfig has %v", documented, keys)
	}
}
