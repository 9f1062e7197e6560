package answers

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// boolWords maps a normalised answer (no punctuation, no trailing particle)
// to its meaning.
var boolWords = map[string]bool{
	"是": true, "是的": true, "是滴": true, "对": true, "对的": true, "有": true, "有的": true,
	"好": true, "好的": true, "嗯": true, "恩": true, "嗯嗯": true, "可以": true, "行": true,
	"当然": true, "没错": true, "确定": true, "确认": true, "需要": true, "要": true,
	"已取得": true, "取得": true, "已获得": true, "获得": true, "拿到": true, "已拿到": true,
	"有证": true, "有证书": true, "已完成": true, "完成": true, "参加过": true, "培训过": true,
	"有过": true, "参加": true, "是有": true,
	"yes": true, "y": true, "yeah": true, "yep": true, "true": true, "ok": true, "okay": true,
	"√": true, "✓": true, "✔": true,

	"否": false, "不是": false, "不是的": false, "不对": false, "没有": false, "没": false,
	"无": false, "不": false, "不要": false, "不用": false, "不需要": false, "没有的": false,
	"未取得": false, "没取得": false, "没有取得": false, "未获得": false, "没拿到": false,
	"还没有": false, "还没": false, "暂无": false, "暂时没有": false, "没参加过": false,
	"未完成": false, "没完成": false, "没有证": false, "没有证书": false, "没证": false,
	"没有过": false, "没参加": false, "没有参加": false, "木有": false,
	"no": false, "n": false, "nope": false, "false": false, "×": false, "✗": false, "✘": false,
}

// boolParticles are sentence-final particles dropped before the look-up
// ("有的呢", "没有啊", "是呀").
const boolParticles = "啊呀哦噢喔呢吧啦哈了"

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
// object ("有结业证书", "参加过培训", "没有证书"), longest first so that
// "没有" is read before "没" and "有".
var boolLeads = []struct {
	word string
	yes  bool
}{
	{"还没有", false}, {"没参加过", false}, {"没有过", false}, {"没取得", false}, {"没拿到", false},
	{"没考过", false}, {"未取得", false}, {"未获得", false}, {"没有", false}, {"不是", false},
	{"参加过", true}, {"培训过", true}, {"取得过", true}, {"已取得", true}, {"已获得", true},
	{"已拿到", true}, {"考过", true}, {"拿到", true}, {"已经", true}, {"是", true},
	{"没", false}, {"未", false}, {"无", false}, {"有", true}, {"已", true},
}

// doubtWords in an answer make it no answer ("不知道", "有点不确定").
var doubtWords = []string{"知道", "确定", "清楚", "记得", "好像", "可能", "也许", "大概", "应该", "吗", "么", "不", "没", "未", "无"}

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
