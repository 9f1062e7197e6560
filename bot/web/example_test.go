package web_test

import (
	"context"
	"log/slog"
	"net/http"

	"regbot/bot/web"
	"regbot/dialogs"
)

// echo is a stand-in for bot.Router.
type echo struct{}

func (echo) Handle(_ context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到：" + in.Text}}}, nil
}

// The web chat mounts on the server's mux next to the other channels; in
// regbot the handler is the bot.Router.
func ExampleNew() {
	chat, err := web.New(web.Config{
		CookieSecret: "cmVnYm90LXdlYi1jaGF0LXRlc3Qtc2VjcmV0LTMyYnl0ZXMh", // openssl rand -base64 32
	}, echo{}, slog.Default())
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	chat.Routes(mux) // GET /chat, /chat/static/…, /chat/api/…
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}
