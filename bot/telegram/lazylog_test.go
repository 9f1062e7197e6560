package telegram

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
)

// A turn's logger writes what log.With would, and formats its attributes
// only when it writes.
func TestLazyWith(t *testing.T) {
	t.Parallel()
	a := &Adapter{cfg: Config{Token: "123456:token"}}
	var got, want bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	eager := slog.New(slog.NewJSONHandler(&want, opts)).With("channel", Channel)
	lazy := slog.New(slog.NewJSONHandler(&got, opts)).With("channel", Channel)

	l := lazyWith(lazy, slog.Any("user", userKeyValue{a, 42}), slog.String("msg_id", msgID(7)))
	e := eager.With("user", a.userKey(42), "msg_id", msgID(7))
	l.Debug("not written")
	if l.Handler().(*lazyHandler).h != nil {
		t.Error("attributes formatted for a record not written")
	}
	for _, lg := range []*slog.Logger{l, e} {
		lg.Info("first", "n", 1)
		lg.Error("second", "err", "boom")
		lg.With("k", "v").WithGroup("g").Warn("third", "x", 2)
	}
	time := regexp.MustCompile(`"time":"[^"]*",`)
	if g, w := time.ReplaceAllString(got.String(), ""), time.ReplaceAllString(want.String(), ""); g != w {
		t.Errorf("lazy logger wrote\n%s\nwant\n%s", g, w)
	}
	if !l.Enabled(context.Background(), slog.LevelInfo) || l.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("Enabled is not the parent's")
	}
}
