package wechat

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/silenceper/wechat/v2/officialaccount/menu"

	"regbot/dialogs"
)

// PushMenu replaces the official account's custom menu with cfg.Menu
// (`regbot wechat menu`). An empty menu is refused rather than pushed.
//
// It fetches its own access token. With the default stable token that
// disturbs nobody; with classic_token it replaces the token the running
// instances use, and each of them refreshes once on its next call (the
// 40001 rule).
func PushMenu(ctx context.Context, cfg Config) error {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("wechat config: %w", err)
	}
	if len(cfg.Menu) == 0 {
		return fmt.Errorf("wechat.menu is empty: nothing to push")
	}
	a, err := New(cfg, nopHandler{}, Deps{}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if err := a.api.setMenu(ctx, menuButtons(cfg.Menu)); err != nil {
		return fmt.Errorf("push menu: %w", err)
	}
	return nil
}

// menuButtons converts the configured menu to the SDK's buttons.
func menuButtons(bs []MenuButton) []*menu.Button {
	out := make([]*menu.Button, 0, len(bs))
	for _, b := range bs {
		switch {
		case len(b.SubButtons) > 0:
			out = append(out, menu.NewSubButton(b.Name, menuButtons(b.SubButtons)))
		case b.URL != "":
			out = append(out, menu.NewViewButton(b.Name, b.URL))
		default:
			out = append(out, menu.NewClickButton(b.Name, b.Key))
		}
	}
	return out
}

// nopHandler stands in for the dialog when the adapter only calls the API.
type nopHandler struct{}

func (nopHandler) Handle(context.Context, dialogs.Inbound) (dialogs.Result, error) {
	return dialogs.Result{}, nil
}
