package dialogs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"regbot/dialogs/answers"
	"regbot/store"
)

// answer takes the candidate's message as the answer to the current step.
func (e *Engine) answer(t *turn) error {
	s := t.s
	switch s.Step {
	case "":
		e.advance(t)
		return nil
	case stepDone:
		if s.Status == store.StatusMaterialsReady || s.Status == store.StatusRejected {
			// The guide's "submitted on the official site" button
			// (label_submitted), typed as its number.
			if _, ok := pickChoice(t.in, []Choice{e.choice(choiceSubmitted, "label_submitted")}); ok {
				e.submitted(t)
				return nil
			}
		}
		if e.isQuestion(t.in) {
			e.unknownQuestion(t)
			return nil
		}
		t.say(e.text("unknown_input"))
		return nil
	case stepNone:
		return e.answerNone(t)
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		e.advance(t)
		return nil
	}
	if st.material != "" {
		return e.uploadText(t, st.material)
	}
	if st.more {
		if e.pickedExtra(t, e.yesNo()) {
			return e.runCommand(t, cmdHuman)
		}
		yes, err := e.parseBool(t.in)
		if err != nil {
			return e.fail(t, e.hintOr(st.slot, err))
		}
		e.pushTrail(s)
		if yes {
			s.Draft = &store.WorkEntry{}
		} else {
			s.WorkDone = true
			t.workChanged = true
		}
		e.advance(t)
		return nil
	}
	sl := st.answerSlot()
	if e.pickedExtra(t, e.choicesOf(sl)) {
		return e.runCommand(t, cmdHuman)
	}
	v, err := e.parseValue(t, sl)
	var miss *unlistedError
	switch {
	case errors.As(err, &miss):
		e.offerUnlisted(t, sl, miss)
		return nil
	case err != nil:
		return e.fail(t, e.hintOr(sl, err))
	}
	if str, ok := v.(string); ok && sl.List != "" {
		if l := e.plan.Lists[sl.List]; l.AliasNote != "" && aliased(t.in.Text, str) {
			t.say(fill(l.AliasNote, "value", strings.TrimSpace(t.in.Text), "entry", str))
		}
	}
	return e.commit(t, st, v)
}

// pickedExtra reports whether the message picks one of the extra choices
// offered with the question (numbered after its own choices).
func (e *Engine) pickedExtra(t *turn, own []Choice) bool {
	extra := e.extraChoices(t.s)
	if len(extra) == 0 {
		return false
	}
	id, ok := pickChoice(t.in, append(append([]Choice(nil), own...), extra...))
	return ok && id == choiceHuman
}

// hintOr is what to say after a wrong answer: for yes/no and choices the
// plan's hint says better than a parser what the question takes.
func (e *Engine) hintOr(sl *Slot, err error) string {
	if sl.Hint != "" && (sl.Type == SlotBool || sl.Type == SlotChoice) {
		return sl.Hint
	}
	return e.errorText(err)
}

// errorText is the sentence for a refused answer.
func (e *Engine) errorText(err error) string {
	var inv *answers.Invalid
	if errors.As(err, &inv) {
		kv := make([]string, 0, 2*len(inv.Args))
		for k, v := range inv.Args {
			kv = append(kv, k, v)
		}
		return e.text("answer_"+inv.Code, kv...)
	}
	var r *refusal
	if errors.As(err, &r) {
		return e.text(r.key, r.kv...)
	}
	return e.text("unknown_input")
}

// refusal is an answer the engine refuses with one of the plan's texts.
type refusal struct {
	key string
	kv  []string
}

func (r *refusal) Error() string { return "refused: " + r.key }

// commit stores a valid answer for st and moves on.
func (e *Engine) commit(t *turn, st step, v any) error {
	s := t.s
	if st.field != nil {
		if s.EditWork == 0 && s.Draft == nil {
			s.Draft = &store.WorkEntry{}
		}
		if key := e.setWorkField(e.workEntry(s), st.field, v); key != "" {
			return e.fail(t, e.text(key))
		}
		if s.EditWork > 0 {
			t.workChanged = true
			e.advance(t)
			return nil
		}
		e.pushTrail(s)
		if e.draftComplete(s.Draft) {
			s.Work = append(s.Work, *s.Draft)
			s.Draft = nil
			t.workChanged = s.WorkDone
		}
		e.advance(t)
		return nil
	}
	if u, ok := v.(unlisted); ok {
		v = string(u)
	}
	s.Answers[st.slot.Key] = v
	e.pushTrail(s)
	e.advance(t)
	return nil
}

func (e *Engine) pushTrail(s *Session) {
	s.Trail = append(s.Trail, s.Step)
	if len(s.Trail) > maxTrail {
		s.Trail = s.Trail[len(s.Trail)-maxTrail:]
	}
}

// fail says why an answer was refused, opens a review ticket once after
// three wrong answers in a row (a person is then offered as a choice of
// the question), and asks the same question again.
func (e *Engine) fail(t *turn, msg string) error {
	s := t.s
	if e.isQuestion(t.in) {
		// Not a wrong answer: a question nobody wrote an answer for.
		e.unknownQuestion(t)
		return nil
	}
	s.Fails++
	t.say(msg)
	if s.Fails == maxFailsInRow && !s.Help {
		e.failedThrice(t)
	}
	e.ask(t)
	return nil
}

// pickChoice resolves a choice from a button press or typed text: the id,
// the number shown, or the label.
func pickChoice(in Inbound, choices []Choice) (string, bool) {
	if len(choices) == 0 {
		return "", false
	}
	if in.Choice != "" {
		for _, c := range choices {
			if c.ID == in.Choice {
				return c.ID, true
			}
		}
		return "", false
	}
	text := normalized(in.Text)
	if text == "" {
		return "", false
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(text, ")")); err == nil && n >= 1 && n <= len(choices) {
		return choices[n-1].ID, true
	}
	// A number with its label, as a numbered list, a numbered button or a
	// WeChat menu item shows it ("1. yes", "2、no", "3 human": a number, a
	// separator or none, the label).
	if i := strings.IndexFunc(text, func(r rune) bool { return r < '0' || r > '9' }); i > 0 {
		if n, err := strconv.Atoi(text[:i]); err == nil && n >= 1 && n <= len(choices) &&
			trimPunctSpace(text[i:]) == normalized(choices[n-1].Label) {
			return choices[n-1].ID, true
		}
	}
	for _, c := range choices {
		if text == normalized(c.Label) || text == strings.ToLower(c.ID) {
			return c.ID, true
		}
	}
	// A part of exactly one label (a two-character word of one long label).
	if utf8.RuneCountInString(text) < 2 {
		return "", false
	}
	found := ""
	for _, c := range choices {
		if strings.Contains(normalized(c.Label), text) {
			if found != "" {
				return "", false
			}
			found = c.ID
		}
	}
	return found, found != ""
}

func (e *Engine) parseBool(in Inbound) (bool, error) {
	if id, ok := pickChoice(in, e.yesNo()); ok {
		return id == choiceYes, nil
	}
	return answers.Bool(in.Text)
}

// unlistedError means the answer is not in the slot's list: the candidate
// is asked what they meant (or whether to keep it) instead.
type unlistedError struct {
	text string
	miss listMiss
}

func (u *unlistedError) Error() string { return "not in list" }

// unlisted marks a text answer the candidate kept although it is not in the
// list: it is stored as typed and counts as not related.
type unlisted string

// parseValue parses the candidate's message as an answer of slot sl. It
// changes nothing: a refused answer is an error (an *answers.Invalid, a
// *refusal or an *unlistedError).
func (e *Engine) parseValue(t *turn, sl *Slot) (any, error) {
	in := t.in
	switch sl.Type {
	case SlotBool:
		return e.parseBool(in)
	case SlotChoice:
		if id, ok := pickChoice(in, sl.Choices); ok {
			return id, nil
		}
		return nil, &refusal{key: "pick_choice"}
	case SlotNumber:
		lo, hi := 0.0, 1e6
		if sl.Min != nil {
			lo = *sl.Min
		}
		if sl.Max != nil {
			hi = *sl.Max
		}
		return answers.Number(in.Text, lo, hi)
	case SlotMonth:
		m, ongoing, err := answers.ParseMonth(in.Text, t.now, sl.Ongoing)
		if err != nil {
			return nil, err
		}
		if ongoing {
			return ongoingEnd, nil
		}
		return m.String(), nil
	case SlotDate:
		d, permanent, err := answers.Date(in.Text)
		if err != nil {
			return nil, err
		}
		if permanent {
			return answers.Permanent, nil
		}
		if today := t.now.Format("2006-01-02"); d.Format("2006-01-02") < today {
			return nil, &refusal{key: "id_expired"}
		}
		return d.Format("2006-01-02"), nil
	case SlotName:
		return answers.Name(in.Text)
	case SlotIDNumber:
		return answers.IDNumber(in.Text, t.now)
	case SlotMobile:
		return answers.Mobile(in.Text)
	case SlotText:
		return e.parseText(sl, in.Text)
	}
	return nil, fmt.Errorf("slot %s: unsupported type %s", sl.Key, sl.Type)
}

// parseText reads a free-text answer, matched against the slot's list.
func (e *Engine) parseText(sl *Slot, raw string) (any, error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return nil, &refusal{key: "empty_text"}
	}
	if n := len([]rune(text)); n > maxTextAnswer {
		return nil, &refusal{key: "text_too_long", kv: []string{"max", strconv.Itoa(maxTextAnswer)}}
	}
	if sl.List == "" {
		return text, nil
	}
	entry, ok, miss := e.lists[sl.List].match(text)
	if ok {
		return entry, nil
	}
	return nil, &unlistedError{text: text, miss: miss}
}
