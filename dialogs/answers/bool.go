package answers

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// boolWords maps a normalised answer (no punctuation, no trailing particle)
// to its meaning.
var boolWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range words.Bool.Yes {
		m[w] = true
	}
	for _, w := range words.Bool.No {
		m[w] = false
	}
	return m
}()

// boolParticles are sentence-final particles dropped before the look-up
// ("有的呢", "没有啊", "是呀").
var boolParticles = strings.Join(words.Bool.Particles, "")

// Bool reads a yes/no answer: 是/对/有/好/嗯/yes/已取得… are true,
// 否/不是/没有/无/no/未取得… are false. A leading "我" is ignored ("我有"),
// and after a comma only the first clause decides, unless another clause
// says the opposite ("是的，2019年取得的" is true; "有，没有" is refused).
func Bool(s string) (bool, error) {
	n := Normalize(s)
	clauses := strings.FieldsFunc(n, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || r == '~'
	})
	if len(clauses) == 0 {
		return false, invalid(CodeBool)
	}
	first, ok := boolWord(clauses[0])
	if !ok {
		return false, invalid(CodeBool)
	}
	for _, c := range clauses[1:] {
		if v, ok := boolWord(c); ok && v != first {
			return false, invalid(CodeBool)
		}
	}
	return first, nil
}

// boolLeads are words that open an answer with what follows as its
// object ("有结业证书", "参加过培训", "没有证书"): lexicon.yaml's
// bool.leads_no and bool.leads_yes, each longest first so that "没有" is
// read before "没"; no word of one list starts a word of the other, so a
// clause opens with leads of one meaning only.
var boolLeads = func() []boolLead {
	var leads []boolLead
	for _, w := range words.Bool.LeadsNo {
		leads = append(leads, boolLead{w, false})
	}
	for _, w := range words.Bool.LeadsYes {
		leads = append(leads, boolLead{w, true})
	}
	return leads
}()

// boolLead is a word that opens an answer, and its meaning.
type boolLead struct {
	word string
	yes  bool
}

// doubtWords in an answer make it no answer ("不知道", "有点不确定").
var doubtWords = words.Bool.Doubt

// boolPhrase reads a clause that opens with a yes or no word followed by
// its object: "有结业证书" is yes, "没有证书" no, and a clause with doubt
// or a second negation in its object ("有点不确定", "不知道") is neither.
func boolPhrase(c string) (bool, bool) {
	for _, l := range boolLeads {
		rest, ok := strings.CutPrefix(c, l.word)
		if !ok || rest == "" {
			continue
		}
		for _, d := range doubtWords {
			if strings.Contains(rest, d) {
				return false, false
			}
		}
		for _, r := range rest {
			if !unicode.Is(unicode.Han, r) {
				return false, false
			}
		}
		return l.yes, true
	}
	return false, false
}

// boolWord classifies one clause.
func boolWord(c string) (bool, bool) {
	c = strings.TrimPrefix(c, "我")
	for {
		r, size := utf8.DecodeLastRuneInString(c)
		if size == 0 || !strings.ContainsRune(boolParticles, r) || len(c) == size {
			break
		}
		if _, ok := boolWords[c]; ok {
			break // a known word is never shortened
		}
		c = c[:len(c)-size]
	}
	if v, ok := boolWords[c]; ok {
		return v, true
	}
	if v, ok := boolPhrase(c); ok {
		return v, true
	}
	// Repetition: "是是是", "嗯嗯嗯", "对对对".
	r, size := utf8.DecodeRuneInString(c)
	if size > 0 && strings.Count(c, string(r)) == utf8.RuneCountInString(c) {
		if v, ok := boolWords[string(r)]; ok {
			return v, true
		}
	}
	return false, false
}
