package admin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/plans"
)

func TestPackageLinkExpires(t *testing.T) {
	t.Parallel()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{}) // the link's label is a plan text
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPackages(Config{PublicURL: "https://regbot.example.com", LinkSecret: "k", LinkTTL: time.Hour}, engine, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return start }
	link, err := p.Link(context.Background(), &dialogs.Session{Channel: "wechat", UserID: "o-123"})
	if err != nil {
		t.Fatal(err)
	}
	if link.Label != plan.Text("package_link_label") {
		t.Errorf("link label %q", link.Label)
	}
	token := link.URL[strings.LastIndex(link.URL, "/")+1:]
	if id, ok := p.parseToken(token); !ok || id.Channel != "wechat" || id.UserID != "o-123" {
		t.Fatalf("fresh link: %v %v", id, ok)
	}
	p.now = func() time.Time { return start.Add(61 * time.Minute) }
	if _, ok := p.parseToken(token); ok {
		t.Fatal("a link past its TTL still works")
	}
	other, _ := NewPackages(Config{PublicURL: "https://regbot.example.com", LinkSecret: "other"}, nil, nil, nil, slog.New(slog.DiscardHandler))
	other.now = p.now
	p.now = func() time.Time { return start }
	if _, ok := other.parseToken(token); ok {
		t.Fatal("a link signed with another secret works")
	}
}

// TestPackageLinkIsOpaque: the token shows the OpenID in no encoding (plain,
// hex, base64 in every alphabet and offset), and a token changed in one
// character is refused.
func TestPackageLinkIsOpaque(t *testing.T) {
	t.Parallel()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPackages(Config{PublicURL: "https://regbot.example.com", LinkSecret: "k", LinkTTL: time.Hour}, engine, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const openID = "oRegbotOpenID_0123456789ab"
	for range 20 {
		link, err := p.Link(context.Background(), &dialogs.Session{Channel: "wechat", UserID: openID})
		if err != nil {
			t.Fatal(err)
		}
		token := link.URL[strings.LastIndex(link.URL, "/")+1:]
		for _, enc := range encodings(openID) {
			if strings.Contains(token, enc) || strings.Contains(strings.ToLower(token), strings.ToLower(enc)) && len(enc) > 12 {
				t.Fatalf("token %q holds the OpenID as %q", token, enc)
			}
		}
		for _, dec := range decodings(token) {
			if strings.Contains(dec, openID) || strings.Contains(dec, "wechat") {
				t.Fatalf("token %q decodes to the identity", token)
			}
		}
		if _, ok := p.parseToken(token); !ok {
			t.Fatal("the token does not open")
		}
		bad := []byte(token)
		bad[len(bad)/2] ^= 1
		if _, ok := p.parseToken(string(bad)); ok {
			t.Fatal("a token changed in one character works")
		}
	}
}

// encodings are the forms an OpenID may take inside a token: plain, hex,
// and base64 (standard and URL, padded or not) at the three byte offsets,
// with the edge characters that depend on neighbours dropped.
func encodings(s string) []string {
	out := []string{s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s)))}
	for off := range 3 {
		b := append(make([]byte, off), s...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			e := enc.EncodeToString(b)
			e = strings.TrimRight(e, "=")
			start := (off*4 + 2) / 3
			if start+2 < len(e)-2 {
				out = append(out, e[start+1:len(e)-2])
			}
		}
	}
	return out
}

// decodings are the token read as base64 (both alphabets) and hex.
func decodings(token string) []string {
	var out []string
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(token); err == nil {
			out = append(out, string(b))
		}
	}
	if b, err := hex.DecodeString(token); err == nil {
		out = append(out, string(b))
	}
	return out
}
