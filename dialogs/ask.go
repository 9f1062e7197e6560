package dialogs

import (
	"fmt"
	"strconv"
	"strings"
)

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
		e.askNone(t)
		return
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		s.Step = e.next(t)
		if st, ok = e.parseStep(s.Step); !ok {
			e.ask(t) // done or none
			return
		}
	}
	out := Outbound{Ask: e.askOf(s.Step)}
	switch {
	case st.material != "":
		m, _ := e.plan.Material(st.material)
		out.Text = m.Ask
		if len(e.missingMaterials(s)) > 1 {
			out.Choices = []Choice{e.choice(choiceOther, "label_other_material")}
		}
	case st.more:
		out.Text = st.slot.More
		if len(s.Work) == 0 {
			out.Text = st.slot.First
		}
		out.Choices = e.yesNo()
	default:
		sl := st.answerSlot()
		out.Text = sl.Ask
		out.Choices = e.choicesOf(sl)
		if cur, ok := e.currentValue(s, st); ok {
			out.Text += "\n" + e.text("current_answer", "value", cur)
		}
	}
	out.Choices = append(out.Choices, e.extraChoices(s)...)
	t.res.Messages = append(t.res.Messages, out)
}

// allDone is what the candidate hears once every material is in: with
// the package download when the engine can link it.
func (e *Engine) allDone() string {
	if e.opts.PackageLink != nil {
		return e.text("all_done")
	}
	return e.text("all_done_offline")
}

// extraChoices are the choices offered with the current question besides
// its own: a person, once one was offered for this step. A number
// question gets none, so that a typed number is always its answer (the
// offer's text tells how to ask for a person).
func (e *Engine) extraChoices(s *Session) []Choice {
	if !s.Help || s.Pending != nil {
		return nil
	}
	if sl, ok := e.slotForStep(s.Step); ok && sl.Type == SlotNumber {
		return nil
	}
	return []Choice{e.choice(choiceHuman, "label_human")}
}

// stepChoices are every choice the current question offers: its own and
// the extra ones.
func (e *Engine) stepChoices(s *Session, sl *Slot) []Choice {
	return append(e.choicesOf(sl), e.extraChoices(s)...)
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

// noneChoices are offered when no condition holds.
func (e *Engine) noneChoices() []Choice {
	return []Choice{e.choice("cmd:edit", "label_edit"), e.choice(choiceHuman, "label_human"), e.choice("cmd:restart", "label_restart")}
}

// choice is one of the engine's own buttons, labelled by the plan's text.
func (e *Engine) choice(id, textKey string) Choice {
	return Choice{ID: id, Label: e.text(textKey)}
}

func (e *Engine) yesNo() []Choice {
	return []Choice{{ID: choiceYes, Label: e.text("yes")}, {ID: choiceNo, Label: e.text("no")}}
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
		w := e.workEntry(s)
		if w == nil {
			return "", false
		}
		v := draftField(w, st.field.Key)
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
			return e.text("yes")
		}
		return e.text("no")
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
