package dialogs

import (
	"cmp"
	"slices"
	"strings"

	"regbot/dialogs/answers"
)

// maxSuggestions bounds the "您是指…？" choices.
const maxSuggestions = 4

// vocabulary is a plan list compiled for matching what candidates type:
// the entries and their aliases (sure matches), everyday words that
// suggest entries, and titles that go to staff review.
type vocabulary struct {
	list    *List
	entries map[string]bool
	matcher *answers.Matcher
	// suggest are the everyday words, normalised, longest first.
	suggest []suggestion
	review  []string
}

type suggestion struct {
	word    string
	entries []string
}

// listMiss is what is known about a text that is not a list entry.
type listMiss struct {
	// suggestions are entries the candidate may have meant, best first.
	suggestions []string
	// review is set for a title staff should judge.
	review bool
}

func newVocabulary(l *List) (*vocabulary, error) {
	v := &vocabulary{list: l, entries: make(map[string]bool, len(l.Entries))}
	for _, en := range l.Entries {
		v.entries[en] = true
	}
	m := answers.NewMatcher(l.Entries, l.Suffixes...)
	if len(l.Aliases) > 0 {
		var err error
		if m, err = m.WithAliases(l.Aliases); err != nil {
			return nil, err
		}
	}
	v.matcher = m
	for word, entries := range l.Suggest {
		v.suggest = append(v.suggest, suggestion{word: wordKey(word), entries: entries})
	}
	slices.SortFunc(v.suggest, func(a, b suggestion) int {
		if c := cmp.Compare(len(b.word), len(a.word)); c != 0 {
			return c
		}
		return cmp.Compare(a.word, b.word)
	})
	for _, r := range l.Review {
		v.review = append(v.review, wordKey(r))
	}
	slices.SortFunc(v.review, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return v, nil
}

// wordKey is the comparison form of a vocabulary word: normalised, only
// letters and digits.
func wordKey(s string) string {
	return strings.Map(func(r rune) rune {
		if isWordRune(r) {
			return r
		}
		return -1
	}, answers.Normalize(s))
}

// match returns the entry text names (through an alias too), or what the
// candidate may have meant.
func (v *vocabulary) match(text string) (entry string, ok bool, miss listMiss) {
	canonical, ok, fuzzy := v.matcher.Match(text)
	if ok {
		return canonical, true, listMiss{}
	}
	key := wordKey(text)
	for _, r := range v.review {
		if strings.Contains(key, r) {
			// Staff judge: no suggestion leads the candidate away.
			return "", false, listMiss{review: true}
		}
	}
	// Every everyday word in the text suggests its entries; the longest
	// word first and, among equals, the one nearer the end, which in
	// Chinese is the head of the title ("文案策划" is a 策划).
	type found struct {
		s   suggestion
		pos int
	}
	var hits []found
	for _, s := range v.suggest {
		if i := strings.LastIndex(key, s.word); i >= 0 {
			hits = append(hits, found{s, i + len(s.word)})
		}
	}
	slices.SortStableFunc(hits, func(a, b found) int {
		if c := cmp.Compare(len(b.s.word), len(a.s.word)); c != 0 {
			return c
		}
		return cmp.Compare(b.pos, a.pos)
	})
	// An entry that holds the whole text ("会展策划" → 会展策划专业人员)
	// is the best guess of all.
	if len(fuzzy) > 0 && strings.Contains(wordKey(fuzzy[0]), key) {
		miss.suggestions = append(miss.suggestions, fuzzy[0])
	}
	for _, h := range hits {
		miss.suggestions = appendNew(miss.suggestions, h.s.entries...)
	}
	miss.suggestions = appendNew(miss.suggestions, fuzzy...)
	if len(miss.suggestions) > maxSuggestions {
		miss.suggestions = miss.suggestions[:maxSuggestions]
	}
	return "", false, miss
}

// has reports whether value is one of the list's entries.
func (v *vocabulary) has(value string) bool { return v.entries[value] }

// aliased reports whether text named entry through an alias rather than
// by the entry's own name ("直播销售员" for 互联网营销师).
func aliased(text, entry string) bool {
	return !strings.Contains(wordKey(text), wordKey(entry))
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
