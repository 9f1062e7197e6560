package dialogs

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"regbot/store"
)

// faqIndex finds the FAQ entry a message asks by meaning: each entry has
// keyword sets, a message holding every word of a set (or one of the
// word's synonyms) matches, and the match covering most of the message
// wins.
type faqIndex struct {
	entries [][]keywordSet
}

// keywordSet is one way of asking an FAQ question: every word must appear.
type keywordSet []keyword

// keyword is a word with the other ways of saying it, all normalised,
// longest first.
type keyword []string

func newFAQIndex(p *Plan) *faqIndex {
	syn := map[string][]string{}
	for word, others := range p.Understanding.Synonyms {
		w := normalized(word)
		for _, o := range others {
			if n := normalized(o); n != "" {
				syn[w] = append(syn[w], n)
			}
		}
	}
	x := &faqIndex{}
	for _, f := range p.FAQ {
		var sets []keywordSet
		for _, words := range f.Keywords {
			var set keywordSet
			for _, w := range words {
				n := normalized(w)
				if n == "" {
					continue
				}
				forms := append([]string{n}, syn[n]...)
				slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
				set = append(set, forms)
			}
			if len(set) > 0 {
				sets = append(sets, set)
			}
		}
		x.entries = append(x.entries, sets)
	}
	return x
}

// faqMatch is the FAQ entry a message asks; entry is -1 for none.
type faqMatch struct {
	entry int
	// covered is how many runes of the message the keywords cover, and
	// coverage that share of the message.
	covered  int
	coverage float64
}

func (m faqMatch) found() bool { return m.entry >= 0 }

// match returns the entry whose keyword set covers most of text (plan order
// breaks ties).
func (x *faqIndex) match(text string) faqMatch {
	n := strings.Map(func(r rune) rune {
		if isWordRune(r) {
			return r
		}
		return -1
	}, normalized(text))
	best := faqMatch{entry: -1}
	total := utf8.RuneCountInString(n)
	if total == 0 {
		return best
	}
	for i, sets := range x.entries {
		for _, set := range sets {
			if c := set.cover(n); c > best.covered {
				best = faqMatch{entry: i, covered: c, coverage: float64(c) / float64(total)}
			}
		}
	}
	return best
}

// cover returns how many runes of n the set's words cover, 0 unless every
// word is found.
func (set keywordSet) cover(n string) int {
	// Most sets miss a word: find that out before marking anything.
	for _, forms := range set {
		if !slices.ContainsFunc(forms, func(f string) bool { return strings.Contains(n, f) }) {
			return 0
		}
	}
	var buf [256]bool
	covered := buf[:0]
	if len(n) <= len(buf) {
		covered = buf[:len(n)]
	} else {
		covered = make([]bool, len(n))
	}
	for _, forms := range set {
		found := false
		for _, f := range forms {
			if i := strings.Index(n, f); i >= 0 {
				for j := i; j < i+len(f); j++ {
					covered[j] = true
				}
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	c := 0
	for i := range n { // rune starts
		if covered[i] {
			c++
		}
	}
	return c
}

// isWordRune keeps letters and digits (Han included) for FAQ matching.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// answerFAQ says the FAQ entry's answer for the candidate's state, with its
// link.
func (e *Engine) answerFAQ(t *turn, i int) {
	f := e.plan.FAQ[i]
	answer, link := f.Answer, f.Link
	stage := e.stage(t.s)
	for _, v := range f.Variants {
		if matchesVariant(v, t.s, stage) {
			answer = v.Answer
			if v.Link != "" {
				link = v.Link
			}
			break
		}
	}
	out := Outbound{Text: e.fillState(answer, t.s)}
	if link == "template" {
		out.Link = e.plan.TemplatePackage
	}
	t.res.Messages = append(t.res.Messages, out)
}

func matchesVariant(v FAQVariant, s *Session, stage string) bool {
	if len(v.Status) > 0 && !slices.Contains(v.Status, string(s.Status)) {
		return false
	}
	if len(v.Stage) > 0 && !slices.Contains(v.Stage, stage) {
		return false
	}
	if len(v.Condition) > 0 && !slices.Contains(v.Condition, s.Condition) {
		return false
	}
	return true
}

// stage is where the candidate is in the conversation (see Stages).
func (e *Engine) stage(s *Session) string {
	switch {
	case !s.Decided:
		return StageEligibility
	case s.Condition == "":
		return StageIneligible
	case s.Status != store.StatusCollecting || len(e.missingMaterials(s)) == 0 && e.personalDone(s):
		return StageDone
	case !e.personalDone(s):
		return StagePersonal
	}
	return StageUploads
}

// fillState fills the placeholders a state-dependent text may use: the
// chosen condition, the materials still missing and the status.
func (e *Engine) fillState(text string, s *Session) string {
	if !strings.Contains(text, "{") {
		return text
	}
	label, title := "", ""
	if c, ok := e.plan.Condition(s.Condition); ok {
		label, title = c.Label, c.Title
	}
	return fill(text, "condition", label, "title", title,
		"missing", e.materialNames(e.missingMaterials(s)),
		"status", e.text("status_"+string(s.Status)))
}

// count formats a number for a text.
func count(n int) string { return strconv.Itoa(n) }
