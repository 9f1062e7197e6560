package wechat

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Templates: map[string]TemplateConfig{"status": {ID: "T"}}}.Defaults()
	if c.Path != "/wechat" || c.ReplyBudget != 3*time.Second || c.MaxClockSkew != 5*time.Minute ||
		c.Templates["status"].MaxFieldRunes != 20 {
		t.Errorf("defaults %+v", c)
	}
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	src := `
app_id: wx0123456789abcdef
app_secret: s
token: tok123
encoding_aes_key: ` + testAESKey + `
reply_budget: 2500ms
max_clock_skew: 2m
menu:
  - name: 报名
    sub_buttons:
      - {name: 开始报名, key: START}
  - {name: 转人工, key: HUMAN}
menu_commands: {START: 开始报名, HUMAN: 转人工}
templates:
  fallback:
    id: TPL
    fields: {thing1: "{text}"}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c = c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ReplyBudget != 2500*time.Millisecond || c.MaxClockSkew != 2*time.Minute || c.Menu[0].SubButtons[0].Key != "START" {
		t.Errorf("decoded %+v", c)
	}
}

// TestExampleConfig keeps testdata/wechat.example.yaml (the section for
// config.example.yaml) valid, with unknown keys refused.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/wechat.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		WeChat Config `yaml:"wechat"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	c := doc.WeChat
	c.AppSecret = "from-the-environment"
	c = c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ReplyBudget != DefaultReplyBudget || len(c.Menu) != 3 || c.Templates[FallbackTemplate].ID == "" {
		t.Errorf("example %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Config)
		wants []string // substrings of the error; none: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"plaintext mode", func(c *Config) { c.EncodingAESKey = "" }, nil},
		{"missing credentials", func(c *Config) { c.AppID, c.AppSecret, c.Token = "", "", "" },
			[]string{"app_id", "app_secret", "wechat.token"}},
		{"bad aes key", func(c *Config) { c.EncodingAESKey = "short" }, []string{"encoding_aes_key"}},
		{"budget beyond the 5s rule", func(c *Config) { c.ReplyBudget = 5 * time.Second }, []string{"reply_budget"}},
		{"path", func(c *Config) { c.Path = "wechat/" }, []string{"wechat.path"}},
		{"too many buttons", func(c *Config) {
			c.Menu = append(c.Menu, MenuButton{Name: "四", Key: "START"})
		}, []string{"at most 3"}},
		{"unmapped click key", func(c *Config) { c.Menu[1].Key = "PAY" }, []string{`"PAY": no entry`}},
		{"button kinds", func(c *Config) { c.Menu[2].Key = "START" }, []string{"exactly one of"}},
		{"long top name", func(c *Config) { c.Menu[1].Name = "一二三四五六" }, []string{"1 to 16 bytes"}},
		{"template without id", func(c *Config) {
			c.Templates = map[string]TemplateConfig{"fallback": {Fields: map[string]string{"a": "{text}"}}}
		}, []string{"templates.fallback.id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig()
			tt.edit(&c)
			err := c.Defaults().Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
