package admin

import (
	"context"
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
