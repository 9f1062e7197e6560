package dialogs

import (
	"strconv"
	"strings"
)

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
		b.WriteString("\n" + text("package_summary_condition", "{condition}", c.Label, "{key}", c.Key, "{title}", c.Title) + "\n")
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
