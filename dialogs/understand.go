package dialogs

import (
	"slices"
	"strings"
	"unicode"

	"regbot/dialogs/answers"
)

// command is a word a candidate may say anywhere.
type command int

const (
	cmdNone command = iota
	cmdBack
	cmdEdit
	cmdRestart
	cmdProgress
	cmdHelp
	cmdHuman
	cmdPackage
	cmdEndHuman
)

// commandByKey maps the plan's command keys to commands.
var commandByKey = map[string]command{
	"back": cmdBack, "edit": cmdEdit, "restart": cmdRestart, "progress": cmdProgress,
	"help": cmdHelp, "human": cmdHuman, "end_human": cmdEndHuman, "package": cmdPackage,
}

// choiceCommands are the engine's command buttons.
var choiceCommands = map[string]command{
	"cmd:back": cmdBack, "cmd:edit": cmdEdit, "cmd:restart": cmdRestart,
	"cmd:progress": cmdProgress, "cmd:help": cmdHelp, choiceHuman: cmdHuman,
	"cmd:package": cmdPackage, choiceEndHuman: cmdEndHuman,
}

// understanding is the plan's vocabulary compiled for look-ups: what makes
// a message a command, a greeting or a question, and the FAQ index.
type understanding struct {
	commands      map[string]command
	greetings     map[string]bool
	questionWords []string
	notQuestions  *strings.Replacer
	// notQuestionWords are notQuestions' phrases: a message without any
	// is not rewritten.
	notQuestionWords []string
	laterWords       []string
	faq              *faqIndex
}

func newUnderstanding(p *Plan) *understanding {
	u := &understanding{commands: map[string]command{}, greetings: map[string]bool{}}
	for key, words := range p.Commands {
		for _, w := range words {
			u.commands[normalized(w)] = commandByKey[key]
		}
	}
	for _, g := range p.Understanding.Greetings {
		u.greetings[normalized(g)] = true
	}
	for _, w := range p.Understanding.QuestionWords {
		if n := normalized(w); n != "" {
			u.questionWords = append(u.questionWords, n)
		}
	}
	var not []string
	for _, w := range p.Understanding.NotQuestions {
		if n := answers.Normalize(w); n != "" {
			not = append(not, n, "")
			u.notQuestionWords = append(u.notQuestionWords, n)
		}
	}
	u.notQuestions = strings.NewReplacer(not...)
	for _, w := range p.Understanding.Later {
		if n := normalized(w); n != "" {
			u.laterWords = append(u.laterWords, n)
		}
	}
	u.faq = newFAQIndex(p)
	return u
}

// greeting reports a message that only greets.
func (u *understanding) greeting(text string) bool {
	n := normalized(text)
	return n != "" && u.greetings[n]
}

// isQuestion reports a message that asks something: a question mark or a
// question word (not one inside the plan's not_questions words).
func (u *understanding) isQuestion(text string) bool {
	n := answers.Normalize(text)
	if strings.ContainsAny(n, "?？") {
		return true
	}
	if slices.ContainsFunc(u.notQuestionWords, func(w string) bool { return strings.Contains(n, w) }) {
		n = u.notQuestions.Replace(n)
	}
	for _, w := range u.questionWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// later reports a message that says the material will come later.
func (u *understanding) later(text string) bool {
	n := normalized(text)
	for _, w := range u.laterWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// isQuestion reports whether the message is a typed question.
func (e *Engine) isQuestion(in Inbound) bool {
	return in.Image == nil && in.Choice == "" && in.Text != "" && e.words.isQuestion(in.Text)
}

// freeTextStep reports a step whose answer is free text (an employer, a
// name): anything typed there could be its answer.
func (e *Engine) freeTextStep(step string) bool {
	sl, ok := e.slotForStep(step)
	return ok && (sl.Type == SlotText || sl.Type == SlotName)
}

// trimPunctSpace removes spaces everywhere and punctuation and symbols at
// both ends.
func trimPunctSpace(s string) string {
	s = strings.ReplaceAll(s, " ", "")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) })
}

// command returns the command a message is, if any: a command button, or
// a text that is exactly one of the plan's command words.
func (e *Engine) command(in Inbound) command {
	if in.Choice != "" {
		return choiceCommands[in.Choice]
	}
	if in.Text == "" {
		return cmdNone
	}
	return e.words.commands[normalized(in.Text)]
}

// question answers a message that is a question instead of an answer: a
// known question gets its FAQ answer (the one for the candidate's state), an
// unknown one an honest "I cannot answer that" with the way to a person.
// Either way nothing is stored and the pending question is asked again. A
// message that is a plausible answer to the current question is never taken
// for a question unless it asks (a question mark or a question word).
func (e *Engine) question(t *turn) bool {
	text := t.in.Text
	if normalized(text) == "" {
		return false
	}
	asks := e.words.isQuestion(text)
	m := e.words.faq.match(text)
	switch {
	case asks && m.found():
		e.answerFAQ(t, m.entry)
	case asks:
		// Staff get it on a ticket; the bot asks again.
		e.unknownQuestion(t)
		return true
	case !m.found():
		return false
	case e.plausible(t, text, m):
		return false
	default:
		e.answerFAQ(t, m.entry)
	}
	e.ask(t)
	return true
}

// freeTextCoverage is how much of a message FAQ keywords must cover for it
// to be taken as a question at a free-text step, where anything could be an
// answer ("照片要求" is a question; "某某照片科技有限公司" an employer).
const freeTextCoverage = 0.6

// plausible reports whether text, which matched an FAQ without asking,
// could be the answer to what is being asked: then it is an answer.
func (e *Engine) plausible(t *turn, text string, m faqMatch) bool {
	s := t.s
	if p := s.Pending; p != nil {
		if _, ok := pickChoice(t.in, p.Choices); ok {
			return true
		}
		if p.Kind != PendingSuggest && p.Kind != PendingUnlisted {
			return false
		}
	}
	if _, ok := pickChoice(t.in, e.extraChoices(s)); ok {
		return true
	}
	switch s.Step {
	case stepDone:
		return false
	case stepNone:
		_, ok := pickChoice(t.in, e.noneStepChoices(s))
		return ok
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		return false
	}
	switch {
	case st.material != "":
		_, ok := e.materialNamed(s, text)
		return ok
	case st.more:
		_, err := e.parseBool(t.in)
		return err == nil
	}
	sl := st.answerSlot()
	switch sl.Type {
	case SlotName:
		// A name holds no FAQ keyword ("证件照要多大" is no name).
		return false
	case SlotText:
		if sl.List != "" {
			if _, ok, _ := e.lists[sl.List].match(text); ok {
				return true
			}
		}
		return m.coverage < freeTextCoverage
	}
	_, err := e.parseValue(t, sl)
	return err == nil
}
