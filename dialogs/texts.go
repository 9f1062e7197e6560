package dialogs

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"regbot/dialogs/answers"
)

// Fill replaces {name} placeholders in text; kv are name, value pairs.
// Channel adapters use it for the texts they say themselves.
func Fill(text string, kv ...string) string { return fill(text, kv...) }

// fill replaces {name} placeholders in text; kv are name, value pairs.
func fill(text string, kv ...string) string {
	if len(kv) < 2 || !strings.Contains(text, "{") {
		return text
	}
	// As strings.NewReplacer("{k}", v, …).Replace(text) would for names
	// without "}" (left to right, the first pair of a name wins, an
	// unknown {x} stays), without building a replacer per call.
	var b strings.Builder
	done := 0 // text[:done] is in b
	for i := 0; i < len(text); {
		open := strings.IndexByte(text[i:], '{')
		if open < 0 {
			break
		}
		open += i
		end := strings.IndexByte(text[open+1:], '}')
		if end < 0 {
			break
		}
		end += open + 1
		v, ok := lookupPair(kv, text[open+1:end])
		if !ok {
			i = open + 1
			continue
		}
		if done == 0 {
			b.Grow(len(text) + len(v))
		}
		b.WriteString(text[done:open])
		b.WriteString(v)
		done, i = end+1, end+1
	}
	if done == 0 {
		return text
	}
	b.WriteString(text[done:])
	return b.String()
}

// lookupPair returns the value of the first pair of kv (key, value, …)
// whose key is name.
func lookupPair(kv []string, name string) (string, bool) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			return kv[i+1], true
		}
	}
	return "", false
}

// placeholderRE finds {name} placeholders.
var placeholderRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.]*)\}`)

// placeholders returns the names a text uses, each once, in order.
func placeholders(text string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// checkPlaceholders reports each placeholder of text (at where) that is
// not in allowed.
func checkPlaceholders(where, text string, allowed []string) []error {
	var errs []error
	for _, name := range placeholders(text) {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				errs = append(errs, fmt.Errorf("%s: unknown placeholder {%s} (this text takes none)", where, name))
			} else {
				errs = append(errs, fmt.Errorf("%s: unknown placeholder {%s} (it may use {%s})", where, name, strings.Join(allowed, "}, {")))
			}
		}
	}
	return errs
}

// CheckTexts checks the plan's texts against sets of keys, each key with
// the placeholders its text may use (TextKeys, materials.TextKeys, the
// channels' TextKeys): every key's text is present and uses only its
// placeholders. With complete (every set of regbot is given), a text no set
// declares is refused too, so a misspelt key is caught. Every problem names
// the text's key.
func (p *Plan) CheckTexts(complete bool, sets ...map[string][]string) error {
	return CheckTexts(p.Texts, complete, sets...)
}

// CheckTexts is Plan.CheckTexts on a map of texts: what a channel adapter
// runs on the texts it is given.
func CheckTexts(texts map[string]string, complete bool, sets ...map[string][]string) error {
	var errs []error
	known := map[string]bool{}
	for _, set := range sets {
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			known[k] = true
			text, ok := texts[k]
			if !ok || strings.TrimSpace(text) == "" && !blankAllowed[k] {
				errs = append(errs, fmt.Errorf("texts.%s is missing", k))
				continue
			}
			errs = append(errs, checkPlaceholders("texts."+k, text, set[k])...)
		}
	}
	if complete {
		var unknown []string
		for k := range texts {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			errs = append(errs, fmt.Errorf("texts.%s is not a text regbot uses (misspelt key?)", k))
		}
	}
	return errors.Join(errs...)
}

// blankAllowed are texts that may be empty: a word a language does
// without.
var blankAllowed = map[string]bool{"check_ratio_portrait": true, "check_ratio_landscape": true}

// TextKeys are the texts the dialog engine says, each with the
// placeholders it may use: its own sentences and button labels, the
// application's statuses and tickets, the answers summary of the material
// package, and the parsers' messages ("answer_<code>").
var TextKeys = textKeys()

func textKeys() map[string][]string {
	keys := make(map[string][]string, len(engineTexts)+len(answers.Codes))
	for k, v := range engineTexts {
		keys[k] = v
	}
	for c, phs := range answers.Codes {
		keys["answer_"+c] = phs
	}
	return keys
}

// engineTexts are the engine's own texts.
var engineTexts = map[string][]string{
	// Greetings and help.
	"welcome":      nil,
	"welcome_back": nil,
	"greeting":     nil,
	"help":         nil,
	"busy":         nil,
	// Over the rate limit (Engine.SlowDown).
	"slow_down": nil,
	// Input the bot does not read (bot.Router): a text over the plan's
	// max_message_runes, a message whose turn failed for good.
	"message_too_long": {"max"},
	"turn_failed":      nil,
	// Understanding.
	"unknown_input":     nil,
	"unsupported_input": nil,
	// Commands.
	"restart_confirm":     nil,
	"restart":             nil,
	"restart_cancelled":   nil,
	"back_none":           nil,
	"edit_menu":           nil,
	"edit_work_fields":    {"period"},
	"work_deleted":        nil,
	"package_empty":       nil,
	"package_unavailable": nil,
	"package_ready":       nil,
	// Progress.
	"progress_title":      nil,
	"progress_answers":    nil,
	"progress_undecided":  nil,
	"progress_none":       nil,
	"progress_condition":  {"condition", "short"},
	"progress_status":     {"status"},
	"progress_escalated":  nil,
	"progress_work_years": {"years"},
	"work_none":           nil,
	"work_period":         {"n", "start", "end", "employer", "occupation"},
	// Durations ("3年11个月").
	"duration_years":        {"years"},
	"duration_months":       {"months"},
	"duration_years_months": {"years", "months"},
	// Eligibility.
	"work_years":        {"years"},
	"eligible_one":      {"condition", "title"},
	"eligible_also":     {"others", "condition"},
	"not_eligible":      {"condition", "title", "missing"},
	"review_occupation": {"occupations"},
	"none_next":         nil,
	// Materials.
	"checklist_title":     {"condition"},
	"checklist_tick":      {"condition"},
	"form_rules_title":    nil,
	"template_where":      nil,
	"material_by_staff":   nil,
	"upload_received":     {"material"},
	"uploads_missing":     {"count", "missing"},
	"uploads_done":        {"condition"},
	"all_done":            nil,
	"all_done_offline":    nil,
	"expect_image":        {"material"},
	"which_material":      nil,
	"which_material_next": nil,
	"image_kept":          nil,
	"later_ok":            {"days"},
	"materials_reminder":  {"count", "missing"},
	"duplicate_file":      {"material"},
	"unreadable_image":    nil,
	"reupload":            nil,
	"id_expired":          nil,
	"fix_offer":           nil,
	"fix_done":            nil,
	"fix_confirm":         nil,
	"fix_failed":          nil,
	// Answers.
	"yes":              nil,
	"no":               nil,
	"did_you_mean":     nil,
	"none_of_these":    nil,
	"expect_text":      nil,
	"current_answer":   {"value"},
	"empty_text":       nil,
	"text_too_long":    {"max"},
	"start_after_end":  nil,
	"end_before_start": nil,
	"pick_choice":      nil,
	// Statuses (DOMAIN.md §5).
	"status_collecting":       nil,
	"status_materials_ready":  nil,
	"status_under_review":     nil,
	"status_rejected":         nil,
	"status_awaiting_payment": nil,
	"status_paid":             nil,
	"status_ticket_ready":     nil,
	"status_withdrawn":        nil,
	// Labels of the engine's own buttons.
	"label_edit":            nil,
	"label_human":           nil,
	"label_restart":         nil,
	"label_confirm_restart": nil,
	"label_cancel":          nil,
	"label_retry":           nil,
	"label_keep":            nil,
	"label_human_review":    nil,
	"label_fix":             nil,
	"label_resend":          nil,
	"label_use_fixed":       nil,
	"label_other_material":  nil,
	"label_add_work":        nil,
	"label_delete_work":     nil,
	// Statuses after the materials (dialogs/status.go): the notification's
	// headline, what to do at each status, rejections, payment and "I
	// submitted".
	"status_changed":               {"status"},
	"status_next_collecting":       nil,
	"status_next_materials_ready":  nil,
	"status_next_under_review":     nil,
	"status_next_rejected":         nil,
	"status_next_awaiting_payment": nil,
	"status_next_paid":             nil,
	"status_next_ticket_ready":     nil,
	"status_next_withdrawn":        nil,
	"status_reopened":              nil,
	"rejected_reason":              {"reason"},
	"rejected_fix":                 {"items"},
	"rejected_fixed":               nil,
	"progress_fix":                 {"items"},
	"payment_link_label":           nil,
	"payment_qr":                   nil,
	"payment_no_link":              nil,
	"payment_not_yet":              {"status"},
	"submitted_too_early":          nil,
	"submitted_already":            {"status"},
	"label_submitted":              nil,
	// "You will qualify on …" and its reminder (dialogs/soon.go).
	"qualify_soon":      {"year", "month", "condition", "title"},
	"remind_offer":      nil,
	"label_remind":      nil,
	"label_no_remind":   nil,
	"reminder_set":      {"year", "month"},
	"reminder_declined": nil,
	"reminder":          {"year", "month", "condition", "title"},
	"label_continue":    nil,
	// Tickets (dialogs/tickets.go) and staff review (dialogs/system.go).
	"ticket_opened":          {"ticket", "expect"},
	"ticket_already_open":    {"ticket"},
	"ticket_forwarded":       {"ticket"},
	"ticket_waiting":         {"ticket"},
	"ticket_command_blocked": {"ticket"},
	"ticket_not_open":        nil,
	"ticket_ended":           {"ticket"},
	"ticket_closed":          {"ticket"},
	"ticket_staff_reply":     {"text"},
	"ticket_failures":        {"ticket", "expect"},
	"ticket_question":        {"ticket", "expect"},
	"ticket_question_added":  {"ticket", "expect"},
	"ticket_review":          {"ticket", "expect"},
	"ticket_expect_soon":     {"within"},
	"ticket_expect_later":    {"when"},
	"ticket_expect_unknown":  nil,
	"ticket_when_today":      {"time"},
	"ticket_when_tomorrow":   {"time"},
	"ticket_when_date":       {"month", "day", "time"},
	"duration_hours":         {"n"},
	"duration_minutes":       {"n"},
	"label_end_human":        nil,
	"reopened":               {"reason"},
	// How the record shows a message that is not text (Engine.InboundRecord):
	// staff read it in the console; candidates never see it.
	"record_system": {"actor"},
	"record_image":  {"ref"},
	"record_choice": {"choice"},
	"record_event":  {"event"},
	// The answers summary in the material package (Engine.Summary).
	"package_summary_title":      {"title"},
	"package_summary_condition":  {"condition", "key", "title"},
	"package_summary_work":       nil,
	"package_summary_work_entry": {"n", "start", "end", "employer", "occupation"},
	"package_summary_materials":  nil,
	"package_summary_uploaded":   {"file"},
	"package_summary_by_staff":   {"material"},
	"package_summary_missing":    {"material"},
}

// SlowDown is what a candidate over the per-user rate limit is told, once
// per run of refused messages (bot.Router decides when).
func (e *Engine) SlowDown() Outbound { return Outbound{Text: e.text("slow_down")} }

// DefaultMaxMessageRunes is the plan's max_message_runes when it sets none.
const DefaultMaxMessageRunes = 2000

// MaxMessageRunes is the longest text message the engine reads, in
// characters (the plan's max_message_runes).
func (e *Engine) MaxMessageRunes() int {
	if n := e.plan.MaxMessageRunes; n > 0 {
		return n
	}
	return DefaultMaxMessageRunes
}

// TooLong is what a candidate is told whose text is over MaxMessageRunes:
// the message is kept, not read.
func (e *Engine) TooLong() Outbound {
	return Outbound{Text: e.text("message_too_long", "max", strconv.Itoa(e.MaxMessageRunes()))}
}

// TurnFailed is the one apology for a message whose turn failed in a way
// that would fail again (bot.Router records it as failed).
func (e *Engine) TurnFailed() Outbound { return Outbound{Text: e.text("turn_failed")} }
