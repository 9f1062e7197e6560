package answers

import (
	"strings"
	"testing"
)

// TestLexiconIsChecked: a lexicon.yaml that would make a parser miss
// words is refused, saying what is wrong, so the program cannot start
// with it.
func TestLexiconIsChecked(t *testing.T) {
	good := string(lexiconFile)
	if _, err := loadLexicon(lexiconFile); err != nil {
		t.Fatalf("the embedded lexicon: %v", err)
	}
	cases := []struct {
		name, old, new, want string
	}{
		{"a list missing", "  trailers: [上旬, 中旬, 下旬, 份, 底, 初, 末, 中]\n", "", "month.trailers is missing"},
		{"a word both yes and no", `"no": [否, `, `"no": [否, 是的, `, `"是的" is both yes and no`},
		{"a lead after a shorter one it starts with", "leads_no: [还没有, ", "leads_no: [没, 还没有, ", `"没有" comes after "没"`},
		{"leads of both meanings starting each other", "leads_yes: [参加过, ", "leads_yes: [没戏, 参加过, ", `lead "没戏" and lead "没" start each other`},
		{"a blank word", "doubt: [知道, ", `doubt: ["", 知道, `, "bool.doubt: a blank word"},
		{"a word twice", "trailers: [上旬, ", "trailers: [中旬, 上旬, ", `"中旬" twice`},
		{"a particle of two characters", "particles: [啊, ", "particles: [啊啊, ", `"啊啊" is not one character`},
		{"the recorded word missing", "permanent: [长期, ", "permanent: [", `date.permanent lacks "长期"`},
		{"an unknown list", "matcher:\n", "matchers:\n  x: [y]\nmatcher:\n", "field matchers not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the lexicon has no %q to change", tc.old)
			}
			_, err := loadLexicon([]byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
