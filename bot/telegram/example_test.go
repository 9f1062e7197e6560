package telegram_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"regbot/bot/telegram"
	"regbot/dialogs"
)

// echo stands in for the bot.Router.
type echo struct{}

func (echo) Handle(_ context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{Messages: []dialogs.Outbound{{Text: "收到：" + in.Text}}}, nil
}

// A webhook adapter is an http.Handler mounted at its path; Start registers
// the webhook and the command menu.
func ExampleNew_webhook() {
	cfg := telegram.Config{
		Token:         os.Getenv("REGBOT_TELEGRAM_TOKEN"),
		Mode:          telegram.ModeWebhook,
		WebhookSecret: os.Getenv("REGBOT_TELEGRAM_WEBHOOK_SECRET"),
		WebhookURL:    "https://regbot.example.org/telegram",
	}
	if !cfg.Enabled() {
		return
	}
	a, err := telegram.New(cfg, echo{}, telegram.Deps{}, slog.Default())
	if err != nil {
		slog.Error("telegram", "err", err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+a.Config().WebhookPath, a)
	if err := a.Start(context.Background()); err != nil {
		slog.Error("telegram", "err", err)
		return
	}
	defer a.Stop()
	_ = http.ListenAndServe(":8080", mux)
}

// A polling adapter needs no public URL: Start polls in the background until
// Stop (or the context ends).
func ExampleAdapter_Start_polling() {
	cfg := telegram.Config{Token: os.Getenv("REGBOT_TELEGRAM_TOKEN")} // mode defaults to polling
	if !cfg.Enabled() {
		return
	}
	a, err := telegram.New(cfg, echo{}, telegram.Deps{}, slog.Default())
	if err != nil {
		slog.Error("telegram", "err", err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := a.Start(ctx); err != nil {
		slog.Error("telegram", "err", err)
		return
	}
	defer a.Stop()
	<-ctx.Done()
}
