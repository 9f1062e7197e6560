package dialogs

import (
	"strings"

	"regbot/dialogs/answers"
	"regbot/store"
)

const (
	groupMore  = "more"
	maxTrail   = 200
	ongoingEnd = answers.Ongoing
)

// step names the parts of a step key: a slot, a group field or the group's
// "more" question, or an upload.
type step struct {
	slot     *Slot
	field    *Slot  // a group field, or nil
	more     bool   // the group's "another entry?" question
	material string // an upload step
}

// answerSlot is the slot whose answer the step takes: the field for a
// group field.
func (st step) answerSlot() *Slot {
	if st.field != nil {
		return st.field
	}
	return st.slot
}

func (e *Engine) parseStep(key string) (step, bool) {
	if m, ok := strings.CutPrefix(key, uploadPrefix); ok {
		if _, ok := e.plan.Material(m); !ok {
			return step{}, false
		}
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
	return st.answerSlot(), true
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

// personalDone reports whether every personal slot has its answer.
func (e *Engine) personalDone(s *Session) bool {
	for _, sl := range e.plan.Slots {
		if sl.Phase == PhasePersonal && !e.answered(s, sl.Key) {
			return false
		}
	}
	return true
}

// needed are the materials of the chosen condition, in plan order of the
// condition.
func (e *Engine) needed(s *Session) []string {
	c, ok := e.plan.Condition(s.Condition)
	if !ok {
		return nil
	}
	return c.Materials
}

// missingMaterials are the materials of the chosen condition not yet in
// (and not left to staff).
func (e *Engine) missingMaterials(s *Session) []string {
	var out []string
	for _, m := range e.needed(s) {
		if st := s.Materials[m]; st.Ref == "" && !st.Escalated {
			out = append(out, m)
		}
	}
	return out
}

// materialNames joins the names of materials for a sentence.
func (e *Engine) materialNames(keys []string) string {
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if m, ok := e.plan.Material(k); ok {
			names = append(names, m.Name)
		}
	}
	return strings.Join(names, "、")
}

// dateSlot is the slot of type date whose answer the ID checks compare
// with today (the ID card's expiry).
func (e *Engine) dateSlot() string {
	for _, sl := range e.plan.Slots {
		if sl.Type == SlotDate {
			return sl.Key
		}
	}
	return ""
}

// workEntry returns the entry a group field step writes: the period being
// changed by 修改, else the draft.
func (e *Engine) workEntry(s *Session) *store.WorkEntry {
	if s.EditWork > 0 && s.EditWork <= len(s.Work) {
		return &s.Work[s.EditWork-1]
	}
	return s.Draft
}
