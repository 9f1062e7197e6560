package dialogs

import (
	"strconv"
	"strings"

	"regbot/store"
)

// editItem is one line of the 修改 menu.
type editItem struct {
	label string
	step  string
}

// editItems are the lines of the 修改 menu: every answer (the work
// history as a whole: entered again), the uploaded materials (sent again),
// then each work period on its own (changed alone) and adding one. The
// per-period lines come last so that the numbers of the others do not
// depend on how many periods there are.
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
	for _, key := range e.needed(s) {
		if s.Materials[key].Ref != "" {
			m, _ := e.plan.Material(key)
			items = append(items, editItem{label: m.Name + "：" + e.text("reupload"), step: uploadPrefix + key})
		}
	}
	if s.WorkDone && s.Draft == nil {
		for i := range s.Work {
			items = append(items, editItem{label: e.workPeriod(s, i), step: workPrefix + strconv.Itoa(i+1)})
		}
		items = append(items, editItem{label: e.text("label_add_work"), step: choiceAddWork})
	}
	return items
}

// workSummary is the work history in one line.
func (e *Engine) workSummary(s *Session) string {
	if len(s.Work) == 0 {
		return e.text("work_none")
	}
	parts := make([]string, 0, len(s.Work))
	for i := range s.Work {
		parts = append(parts, e.workPeriod(s, i))
	}
	return strings.Join(parts, "；")
}

// workPeriod names the i-th work period.
func (e *Engine) workPeriod(s *Session, i int) string {
	w := s.Work[i]
	return e.text("work_period", "n", strconv.Itoa(i+1), "start", w.Start, "end", w.End,
		"employer", w.Employer, "occupation", w.Occupation)
}

// editMenu shows the numbered answers; picking one asks it again.
func (e *Engine) editMenu(t *turn) {
	items := e.editItems(t.s)
	t.s.Fails, t.s.Help = 0, false
	if len(items) == 0 {
		t.s.Pending = nil
		t.say(e.text("back_none"))
		e.ask(t)
		return
	}
	p := &Pending{Kind: PendingEdit}
	for _, it := range items {
		p.Choices = append(p.Choices, Choice{ID: editPrefix + it.step, Label: it.label})
	}
	t.s.Pending = p
	e.ask(t)
}

func (e *Engine) answerEdit(t *turn) error {
	s := t.s
	id, ok := pickChoice(t.in, s.Pending.Choices)
	if !ok {
		return e.fail(t, e.text("pick_choice"))
	}
	s.Pending = nil
	key := strings.TrimPrefix(id, editPrefix)
	if strings.HasPrefix(key, workPrefix) {
		e.editWork(t, key)
		return nil
	}
	if sl, ok := e.plan.Slot(key); ok && sl.Type == SlotGroup {
		// The history as a whole is entered again from the start.
		s.Work, s.Draft, s.WorkDone = nil, nil, false
		s.Step = key + "." + groupMore
	} else {
		s.Step = key
	}
	e.ask(t)
	return nil
}

// editWork adds a work period, or offers the parts of the chosen one: it
// is changed alone, the others stay as they are.
func (e *Engine) editWork(t *turn, key string) {
	s := t.s
	g, _ := e.groupSlot()
	if key == choiceAddWork {
		s.Draft = &store.WorkEntry{}
		s.Step = e.next(t)
		e.ask(t)
		return
	}
	i, err := strconv.Atoi(strings.TrimPrefix(key, workPrefix))
	if err != nil || i < 1 || i > len(s.Work) {
		e.ask(t)
		return
	}
	s.EditWork = i
	p := &Pending{Kind: PendingEditField, Value: e.workPeriod(s, i-1)}
	for _, f := range g.Fields {
		label := f.Label
		if v := draftField(&s.Work[i-1], f.Key); v != "" {
			label += "：" + v
		}
		p.Choices = append(p.Choices, Choice{ID: fieldPrefix + f.Key, Label: label})
	}
	p.Choices = append(p.Choices, e.choice(choiceDelete, "label_delete_work"))
	s.Pending = p
	e.ask(t)
}

// answerEditField asks the chosen part of the period again, or deletes
// the period.
func (e *Engine) answerEditField(t *turn) error {
	s := t.s
	id, ok := pickChoice(t.in, s.Pending.Choices)
	if !ok || s.EditWork < 1 || s.EditWork > len(s.Work) {
		return e.fail(t, e.text("pick_choice"))
	}
	s.Pending = nil
	if id == choiceDelete {
		i := s.EditWork - 1
		s.Work = append(s.Work[:i], s.Work[i+1:]...)
		t.say(e.text("work_deleted"))
		t.workChanged = true
		e.advance(t)
		return nil
	}
	g, _ := e.groupSlot()
	s.Step = g.Key + "." + strings.TrimPrefix(id, fieldPrefix)
	e.ask(t)
	return nil
}

// draftField returns a field of a work entry.
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

// setWorkField stores a field of a work entry; it returns the key of the
// text to say when the value conflicts with the entry's other fields.
func (e *Engine) setWorkField(w *store.WorkEntry, f *Slot, v any) string {
	str := toString(v)
	switch f.Key {
	case "employer":
		w.Employer = str
	case "occupation":
		w.Occupation = str
		_, kept := v.(unlisted)
		w.Related = !kept && f.List != "" && e.lists[f.List].has(str)
	case "start":
		if w.End != "" && w.End != ongoingEnd && str > w.End {
			return "start_after_end"
		}
		w.Start = str
	case "end":
		if str != ongoingEnd && w.Start != "" && str < w.Start {
			return "end_before_start"
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
