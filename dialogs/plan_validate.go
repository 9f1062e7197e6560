package dialogs

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"regbot/dialogs/answers"
	"regbot/store"
)

// CommandKeys are the commands a plan gives words for.
var CommandKeys = []string{"back", "edit", "restart", "progress", "help", "human", "end_human", "package"}

// faqPlaceholders are the values an FAQ answer may name: the chosen
// condition (its label and title), the materials still missing and the
// application's status.
var faqPlaceholders = []string{"condition", "title", "missing", "status"}

// registrationPlaceholders are the values a registration step may name.
var registrationPlaceholders = []string{"condition", "title"}

// validate checks the plan's structure and reports every problem at once,
// each naming where it is. texts are other packages' text keys: given, the
// texts are checked completely (a text nobody uses is refused too).
func (p *Plan) validate(texts []map[string][]string) error {
	var errs []error
	if p.ID == "" {
		errs = append(errs, errors.New("id is empty"))
	}
	errs = append(errs, p.CheckTexts(len(texts) > 0, append([]map[string][]string{TextKeys}, texts...)...))
	errs = append(errs, p.validateLists()...)
	errs = append(errs, p.validateUnderstanding()...)
	vars := p.validateSlots(&errs)
	errs = append(errs, p.validateDerived(vars)...)
	mats := p.validateMaterials(&errs)
	errs = append(errs, p.validateConditions(mats, vars)...)
	errs = append(errs, p.validateGuide()...)
	errs = append(errs, p.validateFAQ()...)
	if p.SoonMonths < 0 || p.SoonMonths > 120 {
		errs = append(errs, fmt.Errorf("soon_months: %d is not between 0 and 120", p.SoonMonths))
	}
	if u := p.Payment.URL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		errs = append(errs, fmt.Errorf("payment.url: %q is not an http(s) URL", u))
	}
	return errors.Join(errs...)
}

// validateLists checks each list and its everyday vocabulary.
func (p *Plan) validateLists() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for name, l := range p.Lists {
		where := "lists." + name
		if l == nil || len(l.Entries) == 0 {
			bad("%s: no entries", where)
			continue
		}
		for alias, target := range l.Aliases {
			if !slices.Contains(l.Entries, target) {
				bad("%s.aliases.%s: %q is not an entry of the list", where, alias, target)
			}
		}
		for word, targets := range l.Suggest {
			if len(targets) == 0 {
				bad("%s.suggest.%s: no entries to suggest", where, word)
			}
			for _, t := range targets {
				if !slices.Contains(l.Entries, t) {
					bad("%s.suggest.%s: %q is not an entry of the list", where, word, t)
				}
			}
		}
		if strings.TrimSpace(l.Unlisted) == "" {
			bad("%s.unlisted is missing (the question for an answer not in the list)", where)
		}
		errs = append(errs, checkPlaceholders(where+".unlisted", l.Unlisted, []string{"value"})...)
		errs = append(errs, checkPlaceholders(where+".alias_note", l.AliasNote, []string{"value", "entry"})...)
	}
	return errs
}

// validateUnderstanding checks the command words and the vocabulary of
// greetings and questions.
func (p *Plan) validateUnderstanding() []error {
	var errs []error
	seen := map[string]string{}
	for _, key := range CommandKeys {
		if len(p.Commands[key]) == 0 {
			errs = append(errs, fmt.Errorf("commands.%s: no words", key))
		}
	}
	for key, words := range p.Commands {
		if !slices.Contains(CommandKeys, key) {
			errs = append(errs, fmt.Errorf("commands.%s is not a command (commands are %s)", key, strings.Join(CommandKeys, ", ")))
		}
		for _, w := range words {
			n := answers.Normalize(w)
			if other, dup := seen[n]; dup && other != key {
				errs = append(errs, fmt.Errorf("commands.%s: %q already means %s", key, w, other))
			}
			seen[n] = key
		}
	}
	u := p.Understanding
	if len(u.QuestionWords) == 0 {
		errs = append(errs, errors.New("understanding.question_words: none"))
	}
	for word, syns := range u.Synonyms {
		if len(syns) == 0 {
			errs = append(errs, fmt.Errorf("understanding.synonyms.%s: no synonyms", word))
		}
	}
	return errs
}

// validateSlots checks the slots and returns the names the rules and the
// texts may use (slots and, later, derived values).
func (p *Plan) validateSlots(errs *[]error) map[string]bool {
	bad := func(format string, args ...any) { *errs = append(*errs, fmt.Errorf(format, args...)) }
	seen := map[string]bool{}
	for _, s := range p.Slots {
		if s.Key == "" {
			bad("a slot has no key")
			continue
		}
		if seen[s.Key] {
			bad("slot %s is defined twice", s.Key)
		}
		seen[s.Key] = true
		*errs = append(*errs, p.validateSlot(s, "slots."+s.Key)...)
		if s.Phase != PhaseEligibility && s.Phase != PhasePersonal {
			bad("slots.%s: phase must be eligibility or personal, not %q", s.Key, s.Phase)
		}
		if s.Type == SlotGroup {
			*errs = append(*errs, p.validateGroup(s)...)
		}
	}
	return seen
}

// validateGroup checks a group slot: a work history, whose entries are
// stored as store.WorkEntry, so its fields are these four.
func (p *Plan) validateGroup(s Slot) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.More == "" || s.First == "" {
		bad("slots.%s: a group needs first and more questions", s.Key)
	}
	for _, f := range []string{"first", "more"} {
		text := s.More
		if f == "first" {
			text = s.First
		}
		errs = append(errs, checkPlaceholders("slots."+s.Key+"."+f, text, nil)...)
	}
	want := map[string]SlotType{"employer": SlotText, "occupation": SlotText, "start": SlotMonth, "end": SlotMonth}
	if len(s.Fields) != len(want) {
		bad("slots.%s: a group has exactly the fields employer, occupation, start and end", s.Key)
	}
	for _, f := range s.Fields {
		if t, ok := want[f.Key]; !ok || t != f.Type {
			bad("slots.%s.%s: a group's fields are employer (text), occupation (text), start (month) and end (month)", s.Key, f.Key)
		}
		errs = append(errs, p.validateSlot(f, "slots."+s.Key+"."+f.Key)...)
	}
	return errs
}

func (p *Plan) validateSlot(s Slot, where string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(where+": "+format, args...))
	}
	if s.Ask == "" && s.Type != SlotGroup {
		bad("ask is empty")
	}
	for field, text := range map[string]string{"ask": s.Ask, "hint": s.Hint, "label": s.Label} {
		errs = append(errs, checkPlaceholders(where+"."+field, text, nil)...)
	}
	for _, c := range s.Choices {
		errs = append(errs, checkPlaceholders(where+".choices."+c.ID, c.Label, nil)...)
	}
	if s.Ongoing && s.Type != SlotMonth {
		bad("ongoing is for month slots only")
	}
	switch s.Type {
	case SlotBool, SlotMonth, SlotName, SlotIDNumber, SlotDate, SlotMobile, SlotGroup:
	case SlotChoice:
		if len(s.Choices) < 2 {
			bad("a choice slot needs at least two choices")
		}
	case SlotNumber:
		if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
			bad("min is above max")
		}
	case SlotText:
		if s.List != "" && (p.Lists[s.List] == nil || len(p.Lists[s.List].Entries) == 0) {
			bad("list %q is not defined or empty", s.List)
		}
	default:
		bad("unknown type %q", s.Type)
	}
	return errs
}

// validateDerived checks the derived values and adds their keys to vars.
func (p *Plan) validateDerived(vars map[string]bool) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, d := range p.Derived {
		if vars[d.Key] {
			bad("derived %s: the key is already used", d.Key)
		}
		vars[d.Key] = true
		src, ok := p.Slot(d.From)
		switch {
		case !ok:
			bad("derived %s: from %q is not a slot", d.Key, d.From)
		case d.Kind == DerivedYears && src.Type != SlotGroup:
			bad("derived %s: years needs a group slot, %s is %s", d.Key, d.From, src.Type)
		case d.Kind == DerivedInList && src.List == "":
			bad("derived %s: in_list needs a text slot with a list, %s has none", d.Key, d.From)
		case d.Kind != DerivedYears && d.Kind != DerivedInList:
			bad("derived %s: kind must be years or in_list, not %q", d.Key, d.Kind)
		}
		if d.Since != "" {
			if s, ok := p.Slot(d.Since); !ok || s.Type != SlotMonth {
				bad("derived %s: since %q is not a month slot", d.Key, d.Since)
			}
		}
	}
	return errs
}

// validateMaterials checks the materials and returns their keys.
func (p *Plan) validateMaterials(errs *[]error) map[string]bool {
	mats := map[string]bool{}
	for _, m := range p.Materials {
		where := "materials." + m.Key
		if mats[m.Key] {
			*errs = append(*errs, fmt.Errorf("material %s is defined twice", m.Key))
		}
		mats[m.Key] = true
		if m.Name == "" || m.FileName == "" || m.Ask == "" {
			*errs = append(*errs, fmt.Errorf("%s: name, file_name and ask are required", where))
		}
		for field, text := range map[string]string{"name": m.Name, "ask": m.Ask, "note": m.Note} {
			*errs = append(*errs, checkPlaceholders(where+"."+field, text, nil)...)
		}
	}
	return mats
}

// validateConditions checks the conditions against the materials, the form
// rules and the names their texts may use.
func (p *Plan) validateConditions(mats, vars map[string]bool) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	rulesByKey := map[string]bool{}
	for _, r := range p.FormRules {
		rulesByKey[r.Key] = true
		errs = append(errs, checkPlaceholders("form_rules."+r.Key, r.Text, nil)...)
	}
	names := make([]string, 0, len(vars))
	for v := range vars {
		names = append(names, v)
	}
	slices.Sort(names)
	if len(p.Conditions) == 0 {
		bad("no conditions")
	}
	conds := map[string]bool{}
	for _, c := range p.Conditions {
		where := "conditions." + c.Key
		if conds[c.Key] {
			bad("condition %s is defined twice", c.Key)
		}
		conds[c.Key] = true
		if c.Label == "" || c.Title == "" || c.Short == "" {
			bad("%s: label, title and short are required", where)
		}
		if len(c.All) == 0 {
			bad("%s: no clauses", where)
		}
		for i, cl := range c.All {
			at := fmt.Sprintf("%s.all[%d]", where, i)
			if cl.Miss == "" {
				bad("%s: miss is empty", at)
			}
			errs = append(errs, checkPlaceholders(at+".miss", cl.Miss, names)...)
			errs = append(errs, checkPlaceholders(at+".have", cl.Have, names)...)
		}
		for _, m := range c.Materials {
			if !mats[m] {
				bad("%s: material %q is not defined", where, m)
			}
		}
		for _, r := range c.FormRules {
			if !rulesByKey[r] {
				bad("%s: form rule %q is not defined", where, r)
			}
		}
		for i, e := range c.Escalate {
			if e.Material != "" && !mats[e.Material] {
				bad("%s: escalate material %q is not defined", where, e.Material)
			}
			errs = append(errs, checkPlaceholders(fmt.Sprintf("%s.escalate[%d].text", where, i), e.Text, nil)...)
		}
	}
	return errs
}

// validateGuide checks the registration guide and the template package.
func (p *Plan) validateGuide() []error {
	var errs []error
	for i, step := range p.Registration {
		errs = append(errs, checkPlaceholders(fmt.Sprintf("registration[%d]", i), step, registrationPlaceholders)...)
	}
	if p.TemplatePackage != nil {
		errs = append(errs, checkPlaceholders("template_package.label", p.TemplatePackage.Label, nil)...)
	}
	return errs
}

// validateFAQ checks the FAQ entries, their keyword sets and variants.
func (p *Plan) validateFAQ() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	seen := map[string]bool{}
	for _, f := range p.FAQ {
		where := "faq." + f.Key
		if seen[f.Key] {
			bad("%s is defined twice", where)
		}
		seen[f.Key] = true
		if len(f.Keywords) == 0 || strings.TrimSpace(f.Answer) == "" {
			bad("%s: keywords and an answer are required", where)
		}
		for i, set := range f.Keywords {
			if len(set) == 0 {
				bad("%s.keywords[%d] is empty", where, i)
			}
		}
		errs = append(errs, p.checkFAQLink(where, f.Link)...)
		errs = append(errs, checkPlaceholders(where+".answer", f.Answer, faqPlaceholders)...)
		for i, v := range f.Variants {
			at := fmt.Sprintf("%s.variants[%d]", where, i)
			if strings.TrimSpace(v.Answer) == "" {
				bad("%s: answer is empty", at)
			}
			errs = append(errs, checkPlaceholders(at+".answer", v.Answer, faqPlaceholders)...)
			errs = append(errs, p.checkFAQLink(at, v.Link)...)
			for _, st := range v.Stage {
				if !slices.Contains(Stages, st) {
					bad("%s: stage %q is not one of %s", at, st, strings.Join(Stages, ", "))
				}
			}
			for _, c := range v.Condition {
				if _, ok := p.Condition(c); !ok {
					bad("%s: condition %q is not defined", at, c)
				}
			}
			for _, st := range v.Status {
				if !store.Status(st).Valid() {
					bad("%s: status %q is not a status", at, st)
				}
			}
		}
	}
	return errs
}

func (p *Plan) checkFAQLink(where, link string) []error {
	switch link {
	case "", "none":
		return nil
	case "template":
		if p.TemplatePackage == nil {
			return []error{fmt.Errorf("%s: link template, but the plan has no template_package", where)}
		}
		return nil
	}
	return []error{fmt.Errorf("%s: link %q is not template or none", where, link)}
}
