package web

import (
	"strings"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{}.WithDefaults()
	if c.Path != "/chat" || c.MaxUploadBytes != 20<<20 || c.MaxTextRunes != 2000 || c.RatePerMinute != 60 {
		t.Errorf("defaults = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "good secret", cfg: Config{CookieSecret: testSecret}},
		{name: "url-safe unpadded secret", cfg: Config{CookieSecret: "cmVnYm90LXdlYi1jaGF0LXRlc3Qtc2VjcmV0LTMyYnl0ZXMh"}},
		{name: "short secret", cfg: Config{CookieSecret: "c2hvcnQ="}, want: []string{"web.cookie_secret: 5 bytes"}},
		{name: "not base64", cfg: Config{CookieSecret: "not base64!!"}, want: []string{"not base64"}},
		{name: "path", cfg: Config{Path: "chat/"}, want: []string{"web.path"}},
		{name: "disabled is not checked", cfg: Config{Disabled: true, Path: "chat/", CookieSecret: "short"}},
		{name: "everything at once", cfg: Config{Path: "/x/", MaxTextRunes: -1, RatePerMinute: -5, MaxUploadBytes: 10},
			want: []string{"web.path", "web.max_text_runes", "web.rate_per_minute", "web.max_upload_bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.WithDefaults().Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewWithoutSecretGeneratesOne(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	a, err := New(Config{}, &fakeHandler{}, newTextLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{}, &fakeHandler{}, newTextLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.secret) < 32 || string(a.secret) == string(b.secret) {
		t.Error("want a random key per process")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "cookie_secret") {
		t.Errorf("no warning: %s", logs.String())
	}
	// A cookie signed by one process is not accepted by another.
	if _, ok := b.parseIdentity(a.identityValue(newID())); ok {
		t.Error("identity from another key accepted")
	}
	if _, err := New(Config{CookieSecret: "c2hvcnQ="}, &fakeHandler{}, nil); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := New(Config{}, nil, nil); err == nil {
		t.Error("nil handler accepted")
	}
}
