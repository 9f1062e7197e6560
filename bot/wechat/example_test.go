package wechat_test

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"regbot/bot/wechat"
	"regbot/dialogs"
)

// echo stands in for the bot.Router.
type echo struct{}

func (echo) Handle(_ context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到：" + in.Text}}}, nil
}

// Example mounts the WeChat webhook: the SDK's HTTP client once per
// process, the adapter built from its config section, started, mounted, and
// stopped after the HTTP server.
func Example() {
	cfg := wechat.Config{
		AppID: "wx0123456789abcdef", AppSecret: "secret", Token: "token123",
		// Safe mode; leave empty for plaintext mode.
		EncodingAESKey: "kRnE6vXbUfU1o2B0cE5Ng9Wl3pQ7sT4yZaHjDmCxLvA",
		MenuCommands:   map[string]string{"START": "开始报名", "PROGRESS": "进度"},
	}
	wechat.UseHTTPClient(&http.Client{Timeout: 10 * time.Second})
	a, err := wechat.New(cfg, echo{}, wechat.Deps{ /* Redis: shared client, Registerer: prometheus registry */ }, slog.Default())
	if err != nil {
		panic(err)
	}
	if err := a.Start(context.Background()); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux) // GET and POST /wechat
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
	_ = srv // srv.ListenAndServe() …
	// On shutdown: srv.Shutdown(ctx), then a.Stop().
	a.Stop()
}
