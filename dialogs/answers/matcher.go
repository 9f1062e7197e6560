package answers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMatchInput bounds the text Match looks at, in runes: longer messages
// are not an answer to "which major" and would make the distance work
// quadratic.
const maxMatchInput = 200

// maxSuggestions is how many "您是指…？" choices Match offers.
const maxSuggestions = 3

// prefixMarkers end what may stand in front of a list entry: a school, a
// company, a level of education ("浙江工商职业技术学院电子商务",
// "某某科技有限公司营销员", "中职电子商务", "2019级市场营销").
var prefixMarkers = words.Matcher.PrefixMarkers

// Matcher matches free text against a vocabulary (related occupations,
// majors). It is immutable once built and safe for concurrent use.
type Matcher struct {
	entries  []matchEntry // in list order, duplicates removed
	exact    map[string]int
	tails    []tail   // entries and aliases, longest first, for suffix matches
	suffixes []string // normalised, longest first
}

type matchEntry struct {
	canonical string // as given in the list
	key       string // cleaned
	runes     []rune // key as runes
}

// tail is a key that may end the input after a school or company name.
type tail struct {
	key   string
	entry int
}

// NewMatcher builds a matcher for list. suffixes are words candidates add
// after an entry that do not change it ("专业", "职业"); only those are
// stripped. Entries are compared after [Normalize] without spaces and
// punctuation; empty and duplicate entries are skipped.
func NewMatcher(list []string, suffixes ...string) *Matcher {
	m := &Matcher{exact: map[string]int{}}
	for _, c := range list {
		key := cleanKey(c)
		if key == "" {
			continue
		}
		if _, dup := m.exact[key]; dup {
			continue
		}
		m.exact[key] = len(m.entries)
		m.tails = append(m.tails, tail{key: key, entry: len(m.entries)})
		m.entries = append(m.entries, matchEntry{canonical: strings.TrimSpace(c), key: key, runes: []rune(key)})
	}
	for _, s := range suffixes {
		if k := cleanKey(s); k != "" && !slices.Contains(m.suffixes, k) {
			m.suffixes = append(m.suffixes, k)
		}
	}
	m.sort()
	return m
}

// WithAliases returns a copy of m that also accepts each key of aliases as
// the list entry it maps to ("电商" → "电子商务"). An alias is a sure
// match, not a suggestion. It fails if a target is not in the list.
func (m *Matcher) WithAliases(aliases map[string]string) (*Matcher, error) {
	c := &Matcher{
		entries:  m.entries,
		exact:    make(map[string]int, len(m.exact)+len(aliases)),
		tails:    slices.Clone(m.tails),
		suffixes: m.suffixes,
	}
	for k, v := range m.exact {
		c.exact[k] = v
	}
	for alias, target := range aliases {
		i, ok := m.exact[cleanKey(target)]
		if !ok {
			return nil, fmt.Errorf("alias %q: target %q is not in the list", alias, target)
		}
		key := cleanKey(alias)
		if key == "" {
			return nil, fmt.Errorf("alias %q is empty", alias)
		}
		if j, taken := c.exact[key]; taken && j != i {
			return nil, fmt.Errorf("alias %q: already means %q", alias, m.entries[j].canonical)
		}
		c.exact[key] = i
		c.tails = append(c.tails, tail{key: key, entry: i})
	}
	c.sort()
	return c, nil
}

// sort orders tails and suffixes longest first (ties: list order), so the
// longest entry wins ("跨境电子商务" before "电子商务").
func (m *Matcher) sort() {
	slices.SortStableFunc(m.tails, func(a, b tail) int {
		return cmp.Compare(utf8.RuneCountInString(b.key), utf8.RuneCountInString(a.key))
	})
	slices.SortStableFunc(m.suffixes, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// Match returns the list entry s names, if it does, as given in the list.
// It tolerates spaces, full-width characters, quotes and punctuation, one of
// the matcher's suffixes ("电子商务专业"), a school or company in front
// ("浙江工商职业技术学院电子商务专业", "XX大学 市场营销") and a bracketed
// remark ("电子商务（跨境方向）"); when several entries end the input the
// longest wins. Otherwise it returns up to three suggestions, best first:
// entries the input contains or that contain it ("营销" → 营销员…), near
// misses by edit distance ("电子商物" → 电子商务) and abbreviations whose
// characters appear in order ("电商" → 电子商务). Nothing similar gives no
// suggestions.
func (m *Matcher) Match(s string) (canonical string, ok bool, suggestions []string) {
	if utf8.RuneCountInString(s) > maxMatchInput {
		return "", false, nil
	}
	n := Normalize(s)
	if i, _, ok := m.matchForm(n); ok {
		return m.entries[i].canonical, true, nil
	}
	key, _ := tokens(n)
	if stripped := stripBrackets(n); stripped != n {
		// What matched must be in what was typed, not made up by the
		// removal ("电子(x)商务" is not 电子商务).
		if i, matched, ok := m.matchForm(stripped); ok && strings.Contains(key, matched) {
			return m.entries[i].canonical, true, nil
		}
	}
	return "", false, m.suggest(m.stripSuffix(key))
}

// matchForm matches one normalised form of the input and returns the
// entry and the key (entry or alias) that matched.
func (m *Matcher) matchForm(n string) (entry int, matched string, ok bool) {
	key, bounds := tokens(n)
	if key == "" {
		return 0, "", false
	}
	stripped := m.stripSuffix(key)
	for _, k := range []string{key, stripped} {
		if i, ok := m.exact[k]; ok {
			return i, k, true
		}
	}
	for _, k := range []string{key, stripped} {
		for _, t := range m.tails {
			if len(k) <= len(t.key) || !strings.HasSuffix(k, t.key) {
				continue
			}
			prefix := k[:len(k)-len(t.key)]
			if slices.Contains(bounds, len(prefix)) || hasMarker(prefix) {
				return t.entry, t.key, true
			}
		}
	}
	return 0, "", false
}

// stripSuffix removes one of the matcher's suffixes from the end of key,
// unless nothing would be left.
func (m *Matcher) stripSuffix(key string) string {
	for _, s := range m.suffixes {
		if rest, ok := strings.CutSuffix(key, s); ok && rest != "" {
			return rest
		}
	}
	return key
}

func hasMarker(prefix string) bool {
	for _, mk := range prefixMarkers {
		if strings.HasSuffix(prefix, mk) {
			return true
		}
	}
	return false
}

// suggest ranks the entries similar to key.
func (m *Matcher) suggest(key string) []string {
	kr := []rune(key)
	if len(kr) < 2 {
		return nil
	}
	type scored struct {
		entry int
		score float64
	}
	inKey := make(map[rune]bool, len(kr))
	for _, r := range kr {
		inKey[r] = true
	}
	var found []scored
	for i, e := range m.entries {
		if !slices.ContainsFunc(e.runes, func(r rune) bool { return inKey[r] }) {
			continue // nothing in common: no band can score
		}
		if s := similarity(kr, key, e); s > 0 {
			found = append(found, scored{i, s})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	var out []string
	for _, f := range found[:min(len(found), maxSuggestions)] {
		out = append(out, m.entries[f.entry].canonical)
	}
	return out
}

// similarity scores how likely the candidate meant e by key (runes kr), 0
// for not at all. Bands: key contains e (3..4) > e contains key (2..3) >
// small edit distance (1..2) > most characters of both in the same order,
// as in an abbreviation, or three or more characters in a row shared
// (0..1). Two shared characters alone ("管理", "设计") are not enough.
func similarity(kr []rune, key string, e matchEntry) float64 {
	er := e.runes
	switch {
	case len(er) >= 2 && strings.Contains(key, e.key):
		return 3 + float64(len(er))/float64(maxMatchInput+1)
	case strings.Contains(e.key, key):
		return 2 + float64(len(kr))/float64(len(er)+1)
	}
	longest := max(len(kr), len(er))
	if d := levenshtein(kr, er); d <= editBudget(len(er)) && d < len(kr) {
		return 2 - float64(d)/float64(longest)
	}
	score := 0.0
	shortest := min(len(kr), len(er))
	if l := lcs(kr, er); l >= 2 && 2*l >= longest && 3*l >= 2*shortest {
		score = float64(l) / float64(longest+1) // "电商" in 电子商务
	}
	if l := commonRun(kr, er); l >= 3 {
		score = max(score, float64(l)/float64(longest+1)) // "新媒体运营" and 新媒体艺术
	}
	return score
}

// editBudget is how many edits still count as a typo of an entry of n
// runes: none for two-character words, where one edit is another word.
func editBudget(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	case n <= 9:
		return 2
	}
	return 3
}

// tokens splits a normalised text at everything that is not a letter or a
// digit, and returns the tokens joined and the byte offsets in the joined
// key where a token ended (a word boundary the candidate typed).
func tokens(n string) (key string, bounds []int) {
	var b strings.Builder
	in := false
	for _, r := range n {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Nl, r) {
			b.WriteRune(r)
			in = true
			continue
		}
		if in {
			bounds = append(bounds, b.Len())
		}
		in = false
	}
	return b.String(), bounds
}

// cleanKey is the comparison form of a list entry, alias or suffix.
func cleanKey(s string) string {
	key, _ := tokens(Normalize(s))
	return key
}

// bracketPairs are the brackets whose content is a remark
// ("电子商务（跨境方向）"); full-width ones arrive folded by Normalize.
var bracketPairs = [][2]rune{{'(', ')'}, {'[', ']'}, {'【', '】'}, {'〔', '〕'}, {'〖', '〗'}}

// stripBrackets removes bracketed remarks, innermost first.
func stripBrackets(n string) string {
	for _, p := range bracketPairs {
		for {
			closeAt := strings.IndexRune(n, p[1])
			if closeAt < 0 {
				break
			}
			openAt := strings.LastIndex(n[:closeAt], string(p[0]))
			if openAt < 0 {
				break
			}
			n = n[:openAt] + " " + n[closeAt+utf8.RuneLen(p[1]):]
		}
	}
	return n
}

// levenshtein is the edit distance between a and b counted in runes.
func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// commonRun is the length of the longest common substring of a and b.
func commonRun(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	best := 0
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cur[j] = 0
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				best = max(best, cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return best
}

// lcs is the length of the longest common subsequence of a and b.
func lcs(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
