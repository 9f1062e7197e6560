package materials

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	"regbot/dialogs"
)

func TestPlanHasEveryText(t *testing.T) {
	t.Parallel()
	if err := CheckTexts(planTexts()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckTextsNamesTheKey(t *testing.T) {
	t.Parallel()
	texts := maps.Clone(planTexts())
	delete(texts, "check_format")
	texts["check_ratio_example"] = "，例如 {wdth}×{height} 像素"
	texts["fix_no_person"] = "   "
	texts["check_ratio_portrait"] = "" // a language without the word
	err := CheckTexts(texts)
	if err == nil {
		t.Fatal("a plan without check_format was accepted")
	}
	for _, want := range []string{"texts.check_format is missing", "texts.check_ratio_example: unknown placeholder {wdth}", "texts.fix_no_person is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "check_ratio_portrait") {
		t.Errorf("an empty orientation word was refused:\n%v", err)
	}
}

// No sentence of this package is written in Go: every Chinese character
// the candidate can read comes from the plan, so a plan in another
// language changes all of them.
func TestSentencesComeFromThePlan(t *testing.T) {
	t.Parallel()
	english := Texts{}
	for k := range TextKeys {
		english[k] = "[" + k + "]"
	}
	in := NewInspector(english)
	han := regexp.MustCompile(`\p{Han}`)
	for _, data := range [][]byte{nil, []byte("text"), bombJPEG(t), encodePNG(t, portrait(portraitSpec{w: 600, h: 450, bg: white, noise: 12}))} {
		for _, m := range []*dialogs.Material{photoMaterial, idCardMaterial, formMaterial} {
			insp := in.Inspect(t.Context(), m, data, dialogs.Facts{IDExpiry: "2001-01-01"})
			for _, p := range append(insp.Problems, insp.Reminder) {
				if han.MatchString(p) {
					t.Errorf("%s: %q is not from the texts given", m.Key, p)
				}
			}
		}
	}
}
