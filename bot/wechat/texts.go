package wechat

import (
	"fmt"

	"regbot/dialogs"
	"regbot/plans"
)

// TextKeys are the plan texts the WeChat adapter says itself, each with
// the placeholders it may use. Everything else comes from the engine.
var TextKeys = map[string][]string{
	"wechat_busy":         nil,
	"wechat_image_failed": nil,
}

// loadTexts checks the texts the adapter was given, or reads the embedded
// default plan's when it was given none.
func loadTexts(given map[string]string) (map[string]string, error) {
	if given == nil {
		p, err := plans.Default()
		if err != nil {
			return nil, err
		}
		given = p.Texts
	}
	if err := dialogs.CheckTexts(given, false, TextKeys); err != nil {
		return nil, fmt.Errorf("wechat texts: %w", err)
	}
	return given, nil
}
