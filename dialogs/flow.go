package dialogs

import (
	"strconv"
	"strings"

	"regbot/store"
)

// advance moves to the next question after an answer: it re-decides
// eligibility, sends the checklist as soon as a condition is chosen (so
// hand-filled forms can be started while the rest is asked) and the
// registration guide once every material is in, and asks.
func (e *Engine) advance(t *turn) {
	s := t.s
	s.Pending = nil
	s.Fails = 0
	s.Help = false
	s.EditWork = 0
	e.decide(t)
	fixed := e.fixDone(s)
	s.Step = e.next(t)
	t.el = nil
	if s.Condition != "" && !s.ChecklistShown {
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
		t.say(e.text("rejected_fixed"))
	}
	e.ask(t)
}

// next returns the step to ask now: the work period being entered, the
// eligibility questions that can still change the outcome, the personal
// data, then the missing materials in the condition's order.
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
		if sl.Phase == PhasePersonal && !e.answered(s, sl.Key) {
			return sl.Key
		}
	}
	if missing := e.missingMaterials(s); len(missing) > 0 {
		return uploadPrefix + missing[0]
	}
	return stepDone
}

// remindMissing says which materials are still missing, when the
// candidate is collecting them.
func (e *Engine) remindMissing(t *turn) {
	s := t.s
	if s.Condition == "" || s.Status != store.StatusCollecting {
		return
	}
	if missing := e.missingMaterials(s); len(missing) > 0 && s.ChecklistShown {
		t.say(e.text("uploads_missing", "count", count(len(missing)), "missing", e.materialNames(missing)))
	}
}

// checklist sends the materials of the chosen condition with the form rules
// that apply, which condition to tick on the official site, and the
// template package.
func (e *Engine) checklist(t *turn) {
	c, _ := e.plan.Condition(t.s.Condition)
	var b strings.Builder
	b.WriteString(e.text("checklist_title", "condition", c.Label))
	for i, key := range c.Materials {
		m, _ := e.plan.Material(key)
		b.WriteString("\n" + strconv.Itoa(i+1) + ". " + m.Name)
		if t.s.Materials[key].Escalated {
			b.WriteString("（" + e.text("material_by_staff") + "）")
		} else if m.Note != "" {
			b.WriteString("（" + m.Note + "）")
		}
	}
	b.WriteString("\n" + e.text("checklist_tick", "condition", c.Label))
	if len(c.FormRules) > 0 {
		b.WriteString("\n\n" + e.text("form_rules_title"))
		for i, key := range c.FormRules {
			for _, r := range e.plan.FormRules {
				if r.Key == key {
					b.WriteString("\n" + strconv.Itoa(i+1) + ". " + r.Text)
				}
			}
		}
	}
	out := Outbound{Text: b.String()}
	if e.plan.TemplatePackage != nil {
		out.Text += "\n\n" + e.text("template_where")
		out.Link = e.plan.TemplatePackage
	}
	t.res.Messages = append(t.res.Messages, out)
}

// registrationGuide sends the official registration steps once every
// material is in; a step may name the condition to tick.
func (e *Engine) registrationGuide(t *turn) {
	c, _ := e.plan.Condition(t.s.Condition)
	var b strings.Builder
	b.WriteString(e.text("uploads_done", "condition", c.Label))
	for i, st := range e.plan.Registration {
		b.WriteString("\n" + strconv.Itoa(i+1) + ". " + fill(st, "condition", c.Label, "title", c.Title))
	}
	t.res.Messages = append(t.res.Messages, Outbound{Text: b.String(),
		Choices: []Choice{e.choice(choiceSubmitted, "label_submitted")}})
}
