package web

import (
	"encoding/json"
	"fmt"

	"regbot/dialogs"
	"regbot/plans"
)

// TextKeys are the plan texts the web chat says itself (its page, its
// refusals), each with the placeholders it may use. Everything else the
// visitor reads comes from the engine.
var TextKeys = map[string][]string{
	// The page.
	"web_title":         nil,
	"web_subtitle":      nil,
	"web_noscript":      nil,
	"web_log_label":     nil,
	"web_menu_label":    nil,
	"web_menu_progress": nil,
	"web_menu_help":     nil,
	"web_menu_human":    nil,
	"web_upload_label":  nil,
	"web_input_label":   nil,
	"web_placeholder":   nil,
	"web_send":          nil,
	"web_image":         nil,
	"web_upload_shown":  {"name"},
	"web_download":      nil,
	"web_expand":        nil,
	"web_collapse":      nil,
	"web_image_gone":    nil,
	"web_network":       nil,
	"web_upload_failed": nil,
	// The input box's hint for each kind of question.
	"web_hint_number":    nil,
	"web_hint_month":     nil,
	"web_hint_date":      nil,
	"web_hint_mobile":    nil,
	"web_hint_id_number": nil,
	"web_hint_name":      nil,
	"web_hint_image":     nil,
	// Refusals of the API.
	"web_busy":        nil,
	"web_too_many":    nil,
	"web_forbidden":   nil,
	"web_bad_request": nil,
	"web_empty":       nil,
	"web_not_image":   nil,
	"web_no_file":     nil,
	"web_not_found":   nil,
	"web_too_long":    {"max"},
	"web_too_large":   {"max"},
}

// texts are the web chat's sentences, by key.
type texts map[string]string

// say is the text of key with its placeholders filled; kv are name, value
// pairs.
func (t texts) say(key string, kv ...string) string { return dialogs.Fill(t[key], kv...) }

// loadTexts checks the texts the chat was given, or reads the embedded
// default plan's when it was given none.
func loadTexts(given map[string]string) (texts, error) {
	if given == nil {
		p, err := plans.Default()
		if err != nil {
			return nil, err
		}
		given = p.Texts
	}
	if err := dialogs.CheckTexts(given, false, TextKeys); err != nil {
		return nil, fmt.Errorf("web chat texts: %w", err)
	}
	return texts(given), nil
}

// pageTexts are the texts the page's script shows, as JSON for the page.
func (t texts) pageTexts(maxText int, maxUpload string) string {
	out := map[string]string{}
	for k := range TextKeys {
		out[k] = t[k]
	}
	out["web_too_long"] = t.say("web_too_long", "max", fmt.Sprint(maxText))
	out["web_too_large"] = t.say("web_too_large", "max", maxUpload)
	data, _ := json.Marshal(out)
	return string(data)
}
