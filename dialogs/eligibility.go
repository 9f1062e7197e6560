package dialogs

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"regbot/dialogs/answers"
	"regbot/rules"
	"regbot/store"
)

// Eligibility is the engine's verdict on a session's answers.
type Eligibility struct {
	// Decided is false while an answer can still change the outcome.
	Decided bool
	// Condition is the chosen condition, "" when none holds.
	Condition string
	// Also are the other conditions that hold.
	Also []string
	// Nearest is the failed condition closest to holding, when none holds,
	// and Missing its failed clauses explained.
	Nearest string
	Missing []string
	// Needs are the slots that can still change the outcome, in plan order.
	Needs []string
	// Soon is set when no condition holds now but one will with time
	// alone (work that goes on 至今), within the plan's soon_months.
	Soon *Soon
}

// Soon is a condition that will hold in a later month with the answers as
// they are.
type Soon struct {
	Condition string
	// Month is the first month it holds, "YYYY-MM"; Months how far away.
	Month  string
	Months int
}

// Evaluate decides eligibility from a session's answers. It is what the
// dialog uses after every answer and what tests call directly.
//
// When no condition holds now but the candidate's related work goes on
// (至今), it also looks plan.SoonMonths ahead: a question that could make a
// condition hold by then is still asked, and a condition that will hold
// with time alone is named with its first month (Soon).
func (e *Engine) Evaluate(s *Session, now time.Time) Eligibility {
	el, holds := e.evaluateAt(s, now)
	if holds || e.plan.SoonMonths <= 0 || !ongoingRelated(s.Work) {
		return el
	}
	later, _ := e.evaluateAt(s, now.AddDate(0, e.plan.SoonMonths, 0))
	switch {
	case !later.Decided:
		// Ask what can make a condition hold soon, after what can make
		// one hold now.
		el.Decided, el.Nearest, el.Missing = false, "", nil
		for _, n := range later.Needs {
			if !slices.Contains(el.Needs, n) {
				el.Needs = append(el.Needs, n)
			}
		}
		return el
	case !el.Decided || later.Condition == "":
		return el
	}
	for k := 1; k <= e.plan.SoonMonths; k++ {
		at := now.AddDate(0, k, 0)
		if x, _ := e.evaluateAt(s, at); x.Condition != "" {
			el.Soon = &Soon{Condition: x.Condition, Month: at.Format("2006-01"), Months: k}
			break
		}
	}
	return el
}

// ongoingRelated reports whether a related work period goes on (至今): the
// only answer that changes with time.
func ongoingRelated(work []store.WorkEntry) bool {
	for _, w := range work {
		if w.Related && w.End == ongoingEnd {
			return true
		}
	}
	return false
}

// evaluateAt is Evaluate at one moment; holds says whether some condition
// holds then (decided or not).
func (e *Engine) evaluateAt(s *Session, now time.Time) (Eligibility, bool) {
	env := e.envs.Get().(rules.Env)
	defer func() {
		clear(env)
		e.envs.Put(env)
	}()
	env, bounds := e.fillEnv(env, s, now)
	outp := e.outcomes.Get().(*rules.Outcome)
	defer e.outcomes.Put(outp)
	e.rules.EvaluateInto(env, outp)
	out := *outp
	if len(bounds) > 0 {
		// A years value cut at a date not given yet lies between 0 and the
		// uncut total: a clause whose verdict is the same at both ends is
		// decided (the plan's year rules are monotone thresholds).
		lo, hi := cloneEnv(env), cloneEnv(env)
		for k, max := range bounds {
			lo[k], hi[k] = 0.0, max
		}
		outLo, outHi := e.rules.Evaluate(lo), e.rules.Evaluate(hi)
		for i := range out.Conditions {
			c := &out.Conditions[i]
			c.Verdict = rules.Unknown
			anyFail, allHold := false, true
			for j := range c.Clauses {
				v := c.Clauses[j]
				if v == rules.Unknown {
					if a, b := outLo.Conditions[i].Clauses[j], outHi.Conditions[i].Clauses[j]; a == b {
						v = a
					}
					c.Clauses[j] = v
				}
				anyFail = anyFail || v == rules.Fails
				allHold = allHold && v == rules.Holds
			}
			switch {
			case anyFail:
				c.Verdict = rules.Fails
			case allHold:
				c.Verdict = rules.Holds
			}
		}
	}
	var el Eligibility
	var holds []string
	undecided := false
	for _, c := range out.Conditions {
		switch c.Verdict {
		case rules.Holds:
			holds = append(holds, c.Key)
		case rules.Unknown:
			undecided = true
		}
	}
	if undecided {
		if len(holds) > 0 {
			// Keep asking only for conditions that would be chosen over
			// the best one holding now.
			out = e.stillBetter(out, e.pick(holds))
		}
		el.Needs = e.needs(s, env, out)
		if len(el.Needs) > 0 {
			return el, len(holds) > 0
		}
	}
	el.Decided = true
	if len(holds) > 0 {
		el.Condition = e.pick(holds)
		for _, h := range holds {
			if h != el.Condition {
				el.Also = append(el.Also, h)
			}
		}
		return el, true
	}
	el.Nearest, el.Missing = e.nearest(out, env)
	return el, false
}

func cloneEnv(env rules.Env) rules.Env {
	c := make(rules.Env, len(env)+2)
	for k, v := range env {
		c[k] = v
	}
	return c
}

// needs maps the rule variables that can still change the outcome to the
// unanswered slots behind them, in plan order.
func (e *Engine) needs(s *Session, env rules.Env, out rules.Outcome) []string {
	var slots []string
	for _, v := range e.rules.Needs(env, out) {
		for _, key := range e.needSlots[v] {
			// A plan has a few dozen slots: a scan, not a map per call.
			if !slices.Contains(slots, key) && !e.answered(s, key) {
				slots = append(slots, key)
			}
		}
	}
	slices.SortStableFunc(slots, func(a, b string) int { return cmp.Compare(e.slotOrder[a], e.slotOrder[b]) })
	return slots
}

// stillBetter returns a copy of out in which every condition is marked as
// failing except the undecided ones that would be picked over best.
func (e *Engine) stillBetter(out rules.Outcome, best string) rules.Outcome {
	cp := rules.Outcome{Conditions: make([]rules.ConditionOutcome, len(out.Conditions))}
	copy(cp.Conditions, out.Conditions)
	for i := range cp.Conditions {
		c := &cp.Conditions[i]
		if c.Verdict == rules.Unknown && e.pick([]string{c.Key, best}) == c.Key {
			continue
		}
		c.Verdict = rules.Fails
	}
	return cp
}

// pick chooses among holding conditions: fewest materials, then the lower
// number (plan order).
func (e *Engine) pick(holds []string) string {
	best, bestN, bestI := "", 0, 0
	for i, c := range e.plan.Conditions {
		if !contains(holds, c.Key) {
			continue
		}
		if best == "" || len(c.Materials) < bestN || (len(c.Materials) == bestN && i < bestI) {
			best, bestN, bestI = c.Key, len(c.Materials), i
		}
	}
	return best
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nearest returns the failed condition closest to holding (the smallest mean
// shortfall over its clauses, so one missing clause of three is nearer than
// one of one; plan order breaks ties) and every clause of it that does not
// hold explained: a clause still unknown too (a certificate never asked
// about is missing as much as the years after it). A clause's "have" part
// is added only when every value it names is known.
func (e *Engine) nearest(out rules.Outcome, env rules.Env) (string, []string) {
	best, bestD := -1, 0.0
	for i, c := range out.Conditions {
		d := 0.0
		for j, v := range c.Clauses {
			if v != rules.Holds {
				d += e.rules.Shortfall(c.Key, j, env)
			}
		}
		if len(c.Clauses) > 0 {
			d /= float64(len(c.Clauses))
		}
		if best < 0 || d < bestD-1e-9 {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return "", nil
	}
	key := out.Conditions[best].Key
	c, _ := e.plan.Condition(key)
	var missing []string
	for j, v := range out.Conditions[best].Clauses {
		if v == rules.Holds {
			continue
		}
		cl := c.All[j]
		text, ok := e.fill(cl.Miss, env)
		if !ok {
			continue // names a value not known: never a raw placeholder
		}
		if have, ok := e.fill(cl.Have, env); ok {
			text += have
		}
		missing = append(missing, text)
	}
	return key, missing
}

// fill replaces {key} placeholders with the candidate's values; ok is false
// when a placeholder has no value.
func (e *Engine) fill(text string, env rules.Env) (string, bool) {
	if !strings.Contains(text, "{") {
		return text, true
	}
	var kv []string
	for _, name := range placeholders(text) {
		v, ok := env[name]
		if !ok {
			return "", false
		}
		kv = append(kv, name, e.format(name, v))
	}
	return fill(text, kv...), true
}

func (e *Engine) format(key string, v any) string {
	switch x := v.(type) {
	case float64:
		for _, d := range e.plan.Derived {
			if d.Key == key && d.Kind == DerivedYears {
				return e.years(x)
			}
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return e.text("yes")
		}
		return e.text("no")
	case string:
		for _, sl := range e.plan.Slots {
			if sl.Key == key {
				return e.display(&sl, x)
			}
		}
		return x
	}
	return ""
}

// env builds the rule environment from the answers. bounds lists derived
// years values cut at a month not given yet, with their upper bound; they
// are absent from env.
func (e *Engine) env(s *Session, now time.Time) (rules.Env, map[string]float64) {
	return e.fillEnv(make(rules.Env, len(e.vars)), s, now)
}

// fillEnv is env writing into an empty map.
func (e *Engine) fillEnv(env rules.Env, s *Session, now time.Time) (rules.Env, map[string]float64) {
	for k, v := range s.Answers {
		if _, ok := e.vars[k]; ok {
			env[k] = v
		}
	}
	var bounds map[string]float64
	for _, d := range e.plan.Derived {
		switch d.Kind {
		case DerivedInList:
			v, ok := s.Answers[d.From].(string)
			if !ok {
				continue
			}
			src, _ := e.plan.Slot(d.From)
			env[d.Key] = e.lists[src.List].has(v)
		case DerivedYears:
			if !s.WorkDone {
				continue
			}
			since := -1
			if d.Since != "" {
				str, ok := s.Answers[d.Since].(string)
				if !ok {
					if bounds == nil {
						bounds = map[string]float64{}
					}
					bounds[d.Key] = float64(relatedMonths(s.Work, -1, now)) / 12
					continue
				}
				m, err := answers.ParseMonthString(str)
				if err != nil {
					continue
				}
				since = m.Index()
			}
			env[d.Key] = float64(relatedMonths(s.Work, since, now)) / 12
		}
	}
	return env, bounds
}

// relatedMonths counts the months of related work, each month once however
// many periods cover it, from month index since on (since < 0: all). A
// period counts both its start and end months; 至今 ends in now's month.
func relatedMonths(work []store.WorkEntry, since int, now time.Time) int {
	type span struct{ from, to int }
	cur := now.Year()*12 + int(now.Month()) - 1
	var buf [16]span
	spans := buf[:0]
	for _, w := range work {
		if !w.Related {
			continue
		}
		start, err := answers.ParseMonthString(w.Start)
		if err != nil {
			continue
		}
		to := cur
		if w.End != ongoingEnd {
			end, err := answers.ParseMonthString(w.End)
			if err != nil {
				continue
			}
			to = end.Index()
		}
		from := start.Index()
		if since >= 0 && from < since {
			from = since
		}
		if to > cur {
			to = cur
		}
		if from <= to {
			spans = append(spans, span{from, to})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	total, last := 0, -1<<31
	for _, sp := range spans {
		if sp.from <= last {
			sp.from = last + 1
		}
		if sp.from <= sp.to {
			total += sp.to - sp.from + 1
			last = sp.to
		}
	}
	return total
}

// decide re-evaluates eligibility after an answer and tells the candidate
// when the verdict is new or has changed.
func (e *Engine) decide(t *turn) {
	s := t.s
	if s.Draft != nil {
		return
	}
	// The computed work years lead the verdict they decide (one message:
	// WeChat sends at most five per turn).
	note := ""
	if t.workChanged {
		if years, ok := e.workYears(s); ok {
			note = e.text("work_years", "years", years) + "\n"
		}
	}
	el := e.Evaluate(s, t.now)
	t.el = &el
	if el.Decided {
		s.Soon = forecast(el.Soon, s.Soon)
	}
	if !el.Decided || s.Decided && el.Condition == s.Condition {
		if note != "" {
			t.say(strings.TrimSuffix(note, "\n"))
		}
		if !el.Decided {
			s.Decided, s.Condition, s.Soon = false, "", nil
		}
		return
	}
	if el.Condition != s.Condition {
		// Another condition needs another checklist.
		s.ChecklistShown = false
	}
	s.Decided, s.Condition = true, el.Condition
	ev := Event{Kind: EventEligibility, Also: el.Also, Missing: el.Missing}
	if el.Condition != "" {
		cond := el.Condition
		ev.Condition = &cond
		c, _ := e.plan.Condition(cond)
		ev.Materials = c.Materials
	}
	t.emit(ev)
	if el.Condition == "" {
		e.sayNotEligible(t, el, note)
		return
	}
	c, _ := e.plan.Condition(el.Condition)
	msg := note + e.text("eligible_one", "condition", c.Label, "title", c.Title)
	if len(el.Also) > 0 {
		others := make([]string, 0, len(el.Also))
		for _, k := range el.Also {
			o, _ := e.plan.Condition(k)
			others = append(others, o.Label)
		}
		msg += "\n" + e.text("eligible_also", "others", strings.Join(others, "、"), "condition", c.Label)
	}
	t.say(msg)
	e.escalations(t, c)
}

func (e *Engine) sayNotEligible(t *turn, el Eligibility, note string) {
	c, _ := e.plan.Condition(el.Nearest)
	t.say(note + e.text("not_eligible", "condition", c.Label, "title", c.Title, "missing", "· "+strings.Join(el.Missing, "\n· ")))
	var unrelated []string
	for _, w := range t.s.Work {
		if !w.Related {
			unrelated = append(unrelated, w.Occupation)
		}
	}
	if len(unrelated) > 0 {
		t.say(e.text("review_occupation", "occupations", strings.Join(unrelated, "、")))
	}
	e.sayQualifySoon(t)
}

// escalations opens a ticket for each case of the chosen condition that the
// bot must not guess about, and skips the material staff will decide.
func (e *Engine) escalations(t *turn, c *Condition) {
	if e.escalate == nil || len(c.Escalate) == 0 {
		return
	}
	env, _ := e.env(t.s, t.now)
	out := e.escalate.Evaluate(env)
	for _, co := range out.Conditions {
		ref := e.escalateOf[co.Key]
		if ref.condition != c.Key || co.Verdict != rules.Holds {
			continue
		}
		esc := c.Escalate[ref.index]
		if esc.Material != "" {
			if t.s.Materials == nil {
				t.s.Materials = map[string]MaterialState{}
			}
			t.s.Materials[esc.Material] = MaterialState{Escalated: true}
		}
		code := e.escalateTo(t, TicketSpecialCase+":"+c.Key, esc.If, false)
		t.say(esc.Text + "\n" + e.ticketText(t, "ticket_review", code))
	}
}

// nextEligibilitySlot returns the step of the first slot, in plan order, that
// can still change the outcome.
func (e *Engine) nextEligibilitySlot(t *turn) (string, bool) {
	var el Eligibility
	if t.el != nil {
		el = *t.el
	} else {
		el = e.Evaluate(t.s, t.now)
	}
	if el.Decided || len(el.Needs) == 0 {
		return "", false
	}
	key := el.Needs[0]
	if sl, ok := e.plan.Slot(key); ok && sl.Type == SlotGroup {
		return key + "." + groupMore, true
	}
	return key, true
}
