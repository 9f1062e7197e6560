package dialogs

import (
	"strconv"
	"strings"

	"regbot/store"
)

// back returns to the previous question; its answer is kept and shown as the
// default.
func (e *Engine) back(t *turn) {
	s := t.s
	s.Pending = nil
	s.Fails = 0
	if len(s.Trail) == 0 {
		t.say(e.plan.Text("back_none"))
		e.ask(t)
		return
	}
	prev := s.Trail[len(s.Trail)-1]
	s.Trail = s.Trail[:len(s.Trail)-1]
	st, ok := e.parseStep(prev)
	if ok && st.slot != nil && st.slot.Type == SlotGroup {
		switch {
		case st.more:
			// Undo the answer to "another entry?".
			if s.Draft != nil && *s.Draft == (store.WorkEntry{}) {
				s.Draft = nil
			}
			s.WorkDone = false
		case s.Draft == nil && len(s.Work) > 0:
			// Reopen the last finished entry at its last field.
			last := s.Work[len(s.Work)-1]
			s.Work = s.Work[:len(s.Work)-1]
			s.Draft = &last
			s.WorkDone = false
		}
	}
	s.Step = prev
	e.ask(t)
}

// editItem is one line of the 修改 menu.
type editItem struct {
	label string
	step  string
}

func (e *Engine) editItems(s *Session) []editItem {
	var items []editItem
	for _, sl := range e.plan.Slots {
		if sl.Type == SlotGroup {
			if len(s.Work) > 0 || s.WorkDone {
				items = append(items, editItem{label: sl.Label + "：" + e.workSummary(s), step: sl.Key})
			}
			continue
		}
		if v, ok := s.Answers[sl.Key]; ok {
			items = append(items, editItem{label: sl.Label + "：" + e.display(&sl, v), step: sl.Key})
		}
	}
	// Uploaded materials can be sent again; the new file supersedes the old.
	if c, ok := e.plan.Condition(s.Condition); ok {
		for _, key := range c.Materials {
			if s.Materials[key].Ref != "" {
				m, _ := e.plan.Material(key)
				items = append(items, editItem{label: m.Name + "：" + e.plan.Text("reupload"), step: uploadPrefix + key})
			}
		}
	}
	return items
}

func (e *Engine) workSummary(s *Session) string {
	if len(s.Work) == 0 {
		return "无"
	}
	var parts []string
	for _, w := range s.Work {
		parts = append(parts, w.Start+"～"+w.End+" "+w.Occupation)
	}
	return strings.Join(parts, "；")
}

// editMenu shows the numbered answers; picking one asks it again.
func (e *Engine) editMenu(t *turn) {
	items := e.editItems(t.s)
	if len(items) == 0 {
		t.say(e.plan.Text("back_none"))
		e.ask(t)
		return
	}
	p := &Pending{Kind: PendingEdit}
	for _, it := range items {
		p.Choices = append(p.Choices, Choice{ID: "edit:" + it.step, Label: it.label})
	}
	t.s.Pending = p
	t.s.Fails = 0
	e.ask(t)
}

func (e *Engine) answerEdit(t *turn) error {
	s := t.s
	id, ok := pickChoice(t.in, s.Pending.Choices)
	if !ok {
		return e.fail(t, e.plan.Text("pick_choice"))
	}
	s.Pending = nil
	key := strings.TrimPrefix(id, "edit:")
	if sl, ok := e.plan.Slot(key); ok && sl.Type == SlotGroup {
		// Work history is entered again from the start.
		s.Work, s.Draft, s.WorkDone = nil, nil, false
		s.Step = key + "." + groupMore
	} else {
		s.Step = key
	}
	e.ask(t)
	return nil
}

// progress says what is done and what is still missing.
func (e *Engine) progress(s *Session) string {
	var b strings.Builder
	b.WriteString(e.plan.Text("progress_title"))
	items := e.editItems(s)
	if len(items) > 0 {
		b.WriteString("\n" + e.plan.Text("progress_answers"))
		for _, it := range items {
			if !strings.HasPrefix(it.step, uploadPrefix) {
				b.WriteString("\n· " + it.label)
			}
		}
	}
	switch {
	case !s.Decided:
		b.WriteString("\n" + e.plan.Text("progress_undecided"))
	case s.Condition == "":
		b.WriteString("\n" + e.plan.Text("progress_none"))
	default:
		c, _ := e.plan.Condition(s.Condition)
		b.WriteString("\n" + strings.ReplaceAll(e.plan.Text("progress_condition"), "{condition}", c.Key+" "+c.Short))
		for _, key := range c.Materials {
			m, _ := e.plan.Material(key)
			st := s.Materials[key]
			mark := "☐"
			switch {
			case st.Ref != "":
				mark = "☑"
			case st.Escalated:
				mark = "☎"
			}
			b.WriteString("\n" + mark + " " + m.Name)
		}
	}
	b.WriteString("\n" + e.progressStatus(s))
	if s.Escalations > 0 {
		b.WriteString("\n" + e.plan.Text("progress_escalated"))
	}
	return b.String()
}

// draftField returns a field of a work entry being filled in.
func draftField(w *store.WorkEntry, key string) string {
	switch key {
	case "employer":
		return w.Employer
	case "occupation":
		return w.Occupation
	case "start":
		return w.Start
	case "end":
		return w.End
	}
	return ""
}

func (e *Engine) draftComplete(w *store.WorkEntry) bool {
	g, ok := e.groupSlot()
	if !ok {
		return true
	}
	for _, f := range g.Fields {
		if draftField(w, f.Key) == "" {
			return false
		}
	}
	return true
}

// setDraftField stores a field of the work entry being filled in; it returns
// a message when the value conflicts with the entry's other fields.
func (e *Engine) setDraftField(t *turn, f *Slot, v any) string {
	w := t.s.Draft
	switch f.Key {
	case "employer":
		w.Employer = toString(v)
	case "occupation":
		str := toString(v)
		w.Occupation = str
		_, kept := v.(unlisted)
		w.Related = !kept && f.List != "" && e.listSets[f.List][str]
	case "start":
		str := toString(v)
		if w.End != "" && w.End != ongoingEnd && str > w.End {
			return e.plan.Text("start_after_end")
		}
		w.Start = str
	case "end":
		str := toString(v)
		if str != ongoingEnd && w.Start != "" && str < w.Start {
			return e.plan.Text("end_before_start")
		}
		w.End = str
	}
	return ""
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case unlisted:
		return string(x)
	}
	return ""
}

// Summary is the text of the candidate's answers that the official online
// form needs: personal data (unmasked: it is for the candidate and staff),
// the chosen condition, the work history lines and the school. It goes into
// the material package.
func (e *Engine) Summary(s *Session) string {
	var b strings.Builder
	text := func(key string, kv ...string) string {
		return strings.NewReplacer(kv...).Replace(e.plan.Text(key))
	}
	b.WriteString(text("package_summary_title", "{title}", e.plan.Title) + "\n")
	for _, sl := range e.plan.Slots {
		if sl.Phase != PhasePersonal {
			continue
		}
		if v, ok := s.Answers[sl.Key]; ok {
			plain := sl
			plain.Sensitive = false
			b.WriteString(sl.Label + "：" + e.display(&plain, v) + "\n")
		}
	}
	if c, ok := e.plan.Condition(s.Condition); ok {
		b.WriteString("\n" + text("package_summary_condition", "{condition}", c.Key, "{title}", c.Title) + "\n")
	}
	if len(s.Work) > 0 {
		b.WriteString("\n" + text("package_summary_work") + "\n")
		for i, w := range s.Work {
			b.WriteString(text("package_summary_work_entry", "{n}", strconv.Itoa(i+1), "{start}", w.Start, "{end}", w.End,
				"{employer}", w.Employer, "{occupation}", w.Occupation) + "\n")
		}
	}
	for _, sl := range e.plan.Slots {
		if sl.Phase != PhaseEligibility || sl.Type == SlotGroup {
			continue
		}
		if v, ok := s.Answers[sl.Key]; ok {
			b.WriteString(sl.Label + "：" + e.display(&sl, v) + "\n")
		}
	}
	if c, ok := e.plan.Condition(s.Condition); ok {
		b.WriteString("\n" + text("package_summary_materials") + "\n")
		for _, key := range c.Materials {
			m, _ := e.plan.Material(key)
			st := s.Materials[key]
			switch {
			case st.Ref != "":
				b.WriteString(text("package_summary_uploaded", "{file}", m.FileName) + "\n")
			case st.Escalated:
				b.WriteString(text("package_summary_by_staff", "{material}", m.Name) + "\n")
			default:
				b.WriteString(text("package_summary_missing", "{material}", m.Name) + "\n")
			}
		}
	}
	return b.String()
}
