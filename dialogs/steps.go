package dialogs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"regbot/dialogs/answers"
	"regbot/store"
)

const (
	groupMore  = "more"
	maxTrail   = 200
	ongoingEnd = "至今"
)

// noneChoices are offered when no condition holds.
func (e *Engine) noneChoices() []Choice {
	return []Choice{e.choice("cmd:edit", "label_edit"), e.choice(choiceHuman, "label_human"), e.choice("cmd:restart", "label_restart")}
}

// choice is one of the engine's own buttons, labelled by the plan's text.
func (e *Engine) choice(id, textKey string) Choice {
	return Choice{ID: id, Label: e.plan.Text(textKey)}
}

// step names the parts of a step key: a slot, a group field or the group's
// "more" question, or an upload.
type step struct {
	slot     *Slot
	field    *Slot  // a group field, or nil
	more     bool   // the group's "another entry?" question
	material string // an upload step
}

func (e *Engine) parseStep(key string) (step, bool) {
	if m, ok := strings.CutPrefix(key, uploadPrefix); ok {
		return step{material: m}, true
	}
	slotKey, fieldKey, grouped := strings.Cut(key, ".")
	sl, ok := e.plan.Slot(slotKey)
	if !ok {
		return step{}, false
	}
	if !grouped {
		return step{slot: sl}, true
	}
	if fieldKey == groupMore {
		return step{slot: sl, more: true}, true
	}
	for i := range sl.Fields {
		if sl.Fields[i].Key == fieldKey {
			return step{slot: sl, field: &sl.Fields[i]}, true
		}
	}
	return step{}, false
}

// slotForStep returns the slot whose answer a step takes (the field for group
// fields).
func (e *Engine) slotForStep(key string) (*Slot, bool) {
	st, ok := e.parseStep(key)
	if !ok || st.material != "" || st.more {
		return nil, false
	}
	if st.field != nil {
		return st.field, true
	}
	return st.slot, true
}

// advance moves to the next question after an answer: it re-decides
// eligibility, sends the checklist and the registration guide when their
// time comes, and asks.
func (e *Engine) advance(t *turn) {
	s := t.s
	s.Pending = nil
	s.Fails = 0
	e.decide(t)
	fixed := e.fixDone(s)
	s.Step = e.next(t)
	t.el = nil
	if strings.HasPrefix(s.Step, uploadPrefix) && !s.ChecklistShown {
		s.ChecklistShown = true
		e.checklist(t)
	}
	if s.Step == stepDone && s.Status == store.StatusCollecting {
		e.setStatus(t, store.StatusMaterialsReady, store.ActorSystem, "")
		e.registrationGuide(t)
		return
	}
	e.statusAfterEdit(t)
	if fixed && s.Status == store.StatusRejected {
		t.say(e.plan.Text("rejected_fixed"))
	}
	e.ask(t)
}

// next returns the step to ask now.
func (e *Engine) next(t *turn) string {
	s := t.s
	if s.Draft != nil {
		if g, ok := e.groupSlot(); ok {
			for _, f := range g.Fields {
				if draftField(s.Draft, f.Key) == "" {
					return g.Key + "." + f.Key
				}
			}
		}
	}
	if !s.Decided {
		if key, ok := e.nextEligibilitySlot(t); ok {
			return key
		}
		return stepNone
	}
	if s.Condition == "" {
		return stepNone
	}
	if fix := e.nextFix(s); fix != "" {
		return fix
	}
	for _, sl := range e.plan.Slots {
		if sl.Phase != PhasePersonal {
			continue
		}
		if _, ok := s.Answers[sl.Key]; !ok {
			return sl.Key
		}
	}
	c, _ := e.plan.Condition(s.Condition)
	for _, m := range c.Materials {
		if st, ok := s.Materials[m]; !ok || (st.Ref == "" && !st.Escalated) {
			return uploadPrefix + m
		}
	}
	return stepDone
}

func (e *Engine) groupSlot() (*Slot, bool) {
	for i := range e.plan.Slots {
		if e.plan.Slots[i].Type == SlotGroup {
			return &e.plan.Slots[i], true
		}
	}
	return nil, false
}

// answered reports whether slot key has its answer.
func (e *Engine) answered(s *Session, key string) bool {
	sl, ok := e.plan.Slot(key)
	if ok && sl.Type == SlotGroup {
		return s.WorkDone
	}
	_, ok = s.Answers[key]
	return ok
}

// ask sends the question of the current step (or its pending sub-question).
func (e *Engine) ask(t *turn) {
	s := t.s
	if s.Handover != nil {
		// Staff have the conversation: the bot asks nothing until they
		// hand it back.
		return
	}
	if p := s.Pending; p != nil {
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.pendingText(s, p), Choices: p.Choices, Ask: e.askOf(s.Step)})
		return
	}
	switch s.Step {
	case stepDone:
		e.statusNow(t)
		return
	case stepNone:
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.plan.Text("none_next"), Choices: e.noneChoices()})
		return
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		s.Step = e.next(t)
		st, ok = e.parseStep(s.Step)
		if !ok {
			return
		}
	}
	out := Outbound{Ask: e.askOf(s.Step)}
	switch {
	case st.material != "":
		m, _ := e.plan.Material(st.material)
		out.Text = m.Ask
	case st.more:
		out.Text = st.slot.More
		if len(s.Work) == 0 {
			out.Text = st.slot.First
		}
		out.Choices = e.yesNo()
	default:
		sl := st.slot
		if st.field != nil {
			sl = st.field
		}
		out.Text = sl.Ask
		out.Choices = e.choicesOf(sl)
		if cur, ok := e.currentValue(s, st); ok {
			out.Text += "\n" + strings.ReplaceAll(e.plan.Text("current_answer"), "{value}", cur)
		}
	}
	t.res.Messages = append(t.res.Messages, out)
}

func (e *Engine) askOf(key string) *Ask {
	st, ok := e.parseStep(key)
	if !ok {
		return nil
	}
	switch {
	case st.material != "":
		return &Ask{Slot: st.material, Type: "image"}
	case st.more:
		return &Ask{Slot: st.slot.Key + "." + groupMore, Type: string(SlotBool)}
	case st.field != nil:
		return &Ask{Slot: st.slot.Key + "." + st.field.Key, Type: string(st.field.Type)}
	}
	return &Ask{Slot: st.slot.Key, Type: string(st.slot.Type)}
}

func (e *Engine) yesNo() []Choice {
	return []Choice{{ID: choiceYes, Label: e.plan.Text("yes")}, {ID: choiceNo, Label: e.plan.Text("no")}}
}

func (e *Engine) choicesOf(sl *Slot) []Choice {
	switch sl.Type {
	case SlotBool:
		return e.yesNo()
	case SlotChoice:
		return sl.Choices
	}
	return nil
}

// currentValue is the answer a step already has, shown when the candidate
// comes back to it (上一步, 修改).
func (e *Engine) currentValue(s *Session, st step) (string, bool) {
	if st.field != nil {
		if s.Draft == nil {
			return "", false
		}
		v := draftField(s.Draft, st.field.Key)
		return v, v != ""
	}
	v, ok := s.Answers[st.slot.Key]
	if !ok {
		return "", false
	}
	return e.display(st.slot, v), true
}

// display renders an answer for the candidate; sensitive answers are masked.
func (e *Engine) display(sl *Slot, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return e.plan.Text("yes")
		}
		return e.plan.Text("no")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if sl.Type == SlotChoice {
			for _, c := range sl.Choices {
				if c.ID == x {
					return c.Label
				}
			}
		}
		if sl.Sensitive {
			return mask(x)
		}
		return x
	}
	return fmt.Sprint(v)
}

func mask(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// pickChoice resolves a choice from a button press or typed text: the id,
// the number shown, or the label.
func pickChoice(in Inbound, choices []Choice) (string, bool) {
	if in.Choice != "" {
		for _, c := range choices {
			if c.ID == in.Choice {
				return c.ID, true
			}
		}
		return "", false
	}
	text := answers.Normalize(in.Text)
	if text == "" {
		return "", false
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(text, ".")); err == nil && n >= 1 && n <= len(choices) {
		return choices[n-1].ID, true
	}
	for _, c := range choices {
		if text == answers.Normalize(c.Label) || text == strings.ToLower(c.ID) {
			return c.ID, true
		}
	}
	return "", false
}

// answer takes the candidate's message as the answer to the current step.
func (e *Engine) answer(t *turn) error {
	s := t.s
	switch s.Step {
	case "":
		e.advance(t)
		return nil
	case stepDone:
		if t.in.Image != nil {
			t.say(e.plan.Text("all_done"))
			return nil
		}
		if isQuestion(t.in) {
			e.unknownQuestion(t)
			return nil
		}
		t.say(e.plan.Text("unknown_input"))
		return nil
	case stepNone:
		if id, ok := pickChoice(t.in, e.noneChoices()); ok {
			return e.runCommand(t, choiceCommands[id])
		}
		t.say(e.plan.Text("unknown_input"))
		e.ask(t)
		return nil
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		e.advance(t)
		return nil
	}
	if st.material != "" {
		return e.upload(t, st.material)
	}
	if t.in.Image != nil {
		return e.fail(t, e.plan.Text("expect_text"))
	}
	if st.more {
		yes, err := e.parseBool(t.in)
		if err != nil {
			return e.fail(t, err.Error())
		}
		e.pushTrail(s)
		if yes {
			s.Draft = &store.WorkEntry{}
		} else {
			s.WorkDone = true
		}
		e.advance(t)
		return nil
	}
	sl := st.slot
	if st.field != nil {
		sl = st.field
	}
	v, err := e.parseValue(t, sl)
	var listErr *unlistedError
	switch {
	case errors.As(err, &listErr):
		return nil // a sub-question was asked
	case err != nil && sl.Hint != "" && (sl.Type == SlotBool || sl.Type == SlotChoice):
		// The plan's hint says better than a parser what a choice takes.
		return e.fail(t, sl.Hint)
	case err != nil:
		return e.fail(t, err.Error())
	}
	return e.commit(t, st, v)
}

// commit stores a valid answer for st and moves on.
func (e *Engine) commit(t *turn, st step, v any) error {
	s := t.s
	if st.field != nil {
		if s.Draft == nil {
			s.Draft = &store.WorkEntry{}
		}
		if msg := e.setDraftField(t, st.field, v); msg != "" {
			return e.fail(t, msg)
		}
		e.pushTrail(s)
		if e.draftComplete(s.Draft) {
			s.Work = append(s.Work, *s.Draft)
			s.Draft = nil
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

// fail says why an answer was refused, offers a person after three wrong
// answers in a row, and asks the same question again.
func (e *Engine) fail(t *turn, msg string) error {
	s := t.s
	if isQuestion(t.in) {
		// Not a wrong answer: a question nobody wrote an answer for.
		e.unknownQuestion(t)
		return nil
	}
	s.Fails++
	t.say(msg)
	if s.Fails == maxFailsInRow {
		e.failedThrice(t)
	}
	e.ask(t)
	return nil
}

func (e *Engine) parseBool(in Inbound) (bool, error) {
	if id, ok := pickChoice(in, e.yesNo()); ok {
		return id == choiceYes, nil
	}
	return answers.Bool(in.Text)
}

// unlistedError means the answer was not in the slot's list and a
// sub-question (did you mean / keep it?) was asked instead.
type unlistedError struct{}

func (*unlistedError) Error() string { return "not in list" }

// parseValue parses the candidate's message as an answer of slot sl.
func (e *Engine) parseValue(t *turn, sl *Slot) (any, error) {
	in := t.in
	switch sl.Type {
	case SlotBool:
		return e.parseBool(in)
	case SlotChoice:
		if id, ok := pickChoice(in, sl.Choices); ok {
			return id, nil
		}
		return nil, &answers.Invalid{Message: e.plan.Text("pick_choice")}
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
		m, ongoing, err := answers.ParseMonth(in.Text, t.now, e.isEndField(sl))
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
			return "长期", nil
		}
		if today := t.now.Format("2006-01-02"); d.Format("2006-01-02") < today {
			return nil, &answers.Invalid{Message: e.plan.Text("id_expired")}
		}
		return d.Format("2006-01-02"), nil
	case SlotName:
		return answers.Name(in.Text)
	case SlotIDNumber:
		return answers.IDNumber(in.Text, t.now)
	case SlotMobile:
		return answers.Mobile(in.Text)
	case SlotText:
		text := strings.TrimSpace(in.Text)
		if text == "" {
			return nil, &answers.Invalid{Message: e.plan.Text("empty_text")}
		}
		if n := len([]rune(text)); n > 100 {
			return nil, &answers.Invalid{Message: e.plan.Text("text_too_long")}
		}
		if sl.List == "" {
			return text, nil
		}
		canon, ok, suggestions := e.matchers[sl.List].Match(text)
		if ok {
			return canon, nil
		}
		e.offerUnlisted(t, sl, text, suggestions)
		return nil, &unlistedError{}
	}
	return nil, fmt.Errorf("slot %s: unsupported type %s", sl.Key, sl.Type)
}

// isEndField reports whether sl is a group's end field, which takes 至今.
func (e *Engine) isEndField(sl *Slot) bool { return sl.Key == "end" }

// offerUnlisted asks "您是指…？" for near misses, else whether to re-enter
// the answer or keep it as given.
func (e *Engine) offerUnlisted(t *turn, sl *Slot, text string, suggestions []string) {
	s := t.s
	if len(suggestions) > 0 {
		p := &Pending{Kind: PendingSuggest, Value: text}
		for i, sug := range suggestions {
			p.Choices = append(p.Choices, Choice{ID: "s" + strconv.Itoa(i+1), Label: sug})
		}
		p.Choices = append(p.Choices, Choice{ID: choiceNone, Label: e.plan.Text("none_of_these")})
		s.Pending = p
		e.ask(t)
		return
	}
	e.askUnlisted(t, sl, text)
}

func (e *Engine) askUnlisted(t *turn, sl *Slot, text string) {
	p := &Pending{Kind: PendingUnlisted, Value: text, Choices: []Choice{
		e.choice(choiceRetry, "label_retry"),
		e.choice(choiceKeep, "label_keep"),
		e.choice(choiceHuman, "label_human_review"),
	}}
	t.s.Pending = p
	e.ask(t)
}

func (e *Engine) pendingText(s *Session, p *Pending) string {
	switch p.Kind {
	case PendingSuggest:
		return e.plan.Text("did_you_mean")
	case PendingUnlisted:
		key := "not_in_list_major"
		if sl, ok := e.slotForStep(s.Step); ok && sl.Key == "occupation" {
			key = "not_in_list_occupation"
		}
		return strings.ReplaceAll(e.plan.Text(key), "{value}", p.Value)
	case PendingEdit:
		return e.plan.Text("edit_menu")
	case PendingFixOffer:
		return e.plan.Text("fix_offer")
	case PendingFixConfirm:
		return e.plan.Text("fix_confirm")
	}
	return ""
}

// answerPending handles the answer to a sub-question.
func (e *Engine) answerPending(t *turn) error {
	s := t.s
	p := s.Pending
	switch p.Kind {
	case PendingFixOffer, PendingFixConfirm:
		return e.answerFix(t)
	case PendingEdit:
		return e.answerEdit(t)
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		e.advance(t)
		return nil
	}
	sl := st.slot
	if st.field != nil {
		sl = st.field
	}
	id, ok := pickChoice(t.in, p.Choices)
	if !ok {
		if t.in.Text != "" && t.in.Choice == "" {
			// A new answer typed instead of a choice: take it afresh.
			s.Pending = nil
			return e.answer(t)
		}
		return e.fail(t, e.plan.Text("pick_choice"))
	}
	switch {
	case p.Kind == PendingSuggest && id == choiceNone:
		e.askUnlisted(t, sl, p.Value)
		return nil
	case p.Kind == PendingSuggest:
		for _, c := range p.Choices {
			if c.ID == id {
				s.Pending = nil
				return e.commit(t, st, c.Label)
			}
		}
	case id == choiceHuman:
		return e.runCommand(t, cmdHuman)
	case id == choiceRetry:
		s.Pending = nil
		e.ask(t)
		return nil
	case id == choiceKeep:
		s.Pending = nil
		return e.commit(t, st, unlisted(p.Value))
	}
	return nil
}

// unlisted marks a text answer the candidate kept although it is not in the
// list: it is stored as typed and counts as not related.
type unlisted string
