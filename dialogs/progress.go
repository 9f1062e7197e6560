package dialogs

import (
	"strconv"
	"strings"
)

// progress says what is done and what is still missing.
func (e *Engine) progress(s *Session) string {
	var b strings.Builder
	b.WriteString(e.text("progress_title"))
	items := e.editItems(s)
	if len(items) > 0 {
		b.WriteString("\n" + e.text("progress_answers"))
		for _, it := range items {
			if !strings.HasPrefix(it.step, uploadPrefix) && !strings.HasPrefix(it.step, workPrefix) {
				b.WriteString("\n· " + it.label)
			}
		}
	}
	if years, ok := e.workYears(s); ok {
		b.WriteString("\n" + e.text("progress_work_years", "years", years))
	}
	switch {
	case !s.Decided:
		b.WriteString("\n" + e.text("progress_undecided"))
	case s.Condition == "":
		b.WriteString("\n" + e.text("progress_none"))
	default:
		c, _ := e.plan.Condition(s.Condition)
		b.WriteString("\n" + e.text("progress_condition", "condition", c.Label, "short", c.Short))
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
		b.WriteString("\n" + e.text("progress_escalated"))
	}
	return b.String()
}

// workYears is the candidate's related work time computed from the work
// history (the plan's first years value counted over the whole history),
// once the history is complete.
func (e *Engine) workYears(s *Session) (string, bool) {
	if !s.WorkDone || s.Draft != nil || len(s.Work) == 0 {
		return "", false
	}
	for _, d := range e.plan.Derived {
		if d.Kind == DerivedYears && d.Since == "" {
			env, _ := e.env(s, e.opts.Now().In(ChinaTime))
			if v, ok := env[d.Key].(float64); ok {
				return e.years(v), true
			}
		}
	}
	return "", false
}

// years renders years as the plan writes durations ("3年11个月").
func (e *Engine) years(years float64) string {
	months := int(years*12 + 0.5)
	switch {
	case months%12 == 0:
		return e.text("duration_years", "years", strconv.Itoa(months/12))
	case months < 12:
		return e.text("duration_months", "months", strconv.Itoa(months))
	}
	return e.text("duration_years_months", "years", strconv.Itoa(months/12), "months", strconv.Itoa(months%12))
}
