package telegram

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"regbot/dialogs"
	"regbot/plans"
)

// TextKeys are the plan texts the Telegram adapter says itself, each with
// the placeholders it may use. Everything else comes from the engine.
var TextKeys = map[string][]string{
	"telegram_too_large":       {"max"},
	"telegram_download_failed": nil,
	"telegram_busy":            nil,
	"telegram_stale_button":    nil,
	"telegram_hint_size":       nil,
	"telegram_hint_document":   nil,
	"telegram_choose":          nil,
	"telegram_open_link":       nil,
	// A choice's button: the engine reads typed numbers at every question
	// and its hints ask for the number, so buttons carry their number.
	"telegram_choice": {"n", "label"},
	// The command menu next to the input box (setMyCommands).
	"telegram_command_start":   nil,
	"telegram_command_status":  nil,
	"telegram_command_help":    nil,
	"telegram_command_back":    nil,
	"telegram_command_edit":    nil,
	"telegram_command_restart": nil,
	"telegram_command_human":   nil,
}

// menuCommands are the commands of the menu Telegram shows, each with the
// plan's command it stands for (what the candidate is taken to have
// typed). /start is the "subscribe" event instead.
var menuCommands = []struct{ name, command string }{
	{"start", ""},
	{"status", "progress"},
	{"help", "help"},
	{"back", "back"},
	{"edit", "edit"},
	{"restart", "restart"},
	{"human", "human"},
}

// texts are the adapter's sentences and the plan's command words.
type texts struct {
	say      map[string]string
	commands map[string]string // menu command → the word the engine knows
}

func (t texts) text(key string, kv ...string) string { return dialogs.Fill(t.say[key], kv...) }

// botCommands is the menu as the Bot API takes it.
func (t texts) botCommands() []models.BotCommand {
	out := make([]models.BotCommand, 0, len(menuCommands))
	for _, c := range menuCommands {
		out = append(out, models.BotCommand{Command: c.name, Description: t.text("telegram_command_" + c.name)})
	}
	return out
}

// loadTexts checks the texts and command words the adapter was given, or
// reads the embedded default plan's when it was given none.
func loadTexts(given map[string]string, commands map[string][]string) (texts, error) {
	if given == nil || commands == nil {
		p, err := plans.Default()
		if err != nil {
			return texts{}, err
		}
		if given == nil {
			given = p.Texts
		}
		if commands == nil {
			commands = p.Commands
		}
	}
	if err := dialogs.CheckTexts(given, false, TextKeys); err != nil {
		return texts{}, fmt.Errorf("telegram texts: %w", err)
	}
	t := texts{say: given, commands: map[string]string{}}
	for _, c := range menuCommands {
		if c.command == "" {
			continue
		}
		words := commands[c.command]
		if len(words) == 0 {
			return texts{}, fmt.Errorf("telegram: the plan has no words for the command %s (/%s)", c.command, c.name)
		}
		t.commands[c.name] = words[0]
	}
	return t, nil
}

// commandWord is what a menu command typed as "/name" stands for: the
// plan's word for it, or the text as typed.
func (t texts) commandWord(text string) string {
	name, ok := strings.CutPrefix(text, "/")
	if !ok {
		return text
	}
	if w, ok := t.commands[name]; ok {
		return w
	}
	return text
}

// button is the text of choice n's button (n from 1): the plan's
// telegram_choice, "{n}. {label}".
func (t texts) button(n int, label string) string {
	return t.text("telegram_choice", "n", strconv.Itoa(n), "label", label)
}

// unnumbered is the choice label of button n's text: what button added
// around the label taken off again (the text as it is when it does not
// have that form).
func (t texts) unnumbered(n int, text string) string {
	const mark = "\x00"
	before, after, ok := strings.Cut(t.button(n, mark), mark)
	if !ok || !strings.HasPrefix(text, before) || !strings.HasSuffix(text, after) || len(text) < len(before)+len(after) {
		return text
	}
	return text[len(before) : len(text)-len(after)]
}
