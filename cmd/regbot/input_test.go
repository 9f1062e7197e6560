package main

import (
	"net/url"
	"testing"
)

// cleanValues without its shortcut: every key and value decoded, the raw
// query judged whole when it does not parse.
func cleanValuesParsed(raw string) bool {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return cleanText(raw)
	}
	for k, vs := range q {
		if !cleanText(k) || !cleanAll(vs) {
			return false
		}
	}
	return true
}

func TestCleanValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		raw   string
		clean bool
	}{
		{"empty", "", true},
		{"signed WeChat query", "signature=3f1c0e&timestamp=1733216400&nonce=840213&openid=oAbC-12_x", true},
		{"escaped NUL", "a=%00", false},
		{"escaped invalid UTF-8", "a=%FF", false},
		{"escaped Chinese", "a=%E4%BD%A0", true},
		{"plus is a space", "a=b+c", true},
		{"raw NUL", "a=b\x00", false},
		{"raw NUL in a key", "a\x00=b", false},
		{"raw invalid UTF-8", "a=\xe4&b=c", false},
		{"raw Chinese", "a=你好", true},
		{"bad escape, clean text", "a=%zz", true},
		{"bad escape, NUL elsewhere", "a=%zz&b=\x00", false},
		{"semicolon", "a=1;b=2", true},
		{"semicolon and escaped NUL", "a=1;b=%00", true},
		{"empty fields", "&&a=1&", true},
		{"no value", "a&b=", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := cleanValues(tc.raw); got != tc.clean {
				t.Errorf("cleanValues(%q) = %v, want %v", tc.raw, got, tc.clean)
			}
			if ref := cleanValuesParsed(tc.raw); ref != tc.clean {
				t.Errorf("the parsed reference says %v for %q: the table is wrong", ref, tc.raw)
			}
		})
	}
}

func FuzzCleanValues(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=%00", "a=\x00", "a=%zz&b=\xff", "a=1;b=%00", "x=+%2B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if got, want := cleanValues(raw), cleanValuesParsed(raw); got != want {
			t.Errorf("cleanValues(%q) = %v, the parsed query says %v", raw, got, want)
		}
	})
}

func TestIsForm(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"Application/X-WWW-Form-Urlencoded; charset=utf-8": true,
		" application/x-www-form-urlencoded ;":             true,
		"text/xml":                                         false,
		"":                                                 false,
		"multipart/form-data; boundary=x":                  false,
		"application/x-www-form-urlencoded-plus":           false,
		"text/plain; x=application/x-www-form-urlencoded":  false,
	} {
		if got := isForm(ct); got != want {
			t.Errorf("isForm(%q) = %v, want %v", ct, got, want)
		}
	}
}
