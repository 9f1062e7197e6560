package answers

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// normalizeByTransformer is Normalize as first written, with width.Fold's
// transformer over the whole string: the reference the rune-at-a-time fold
// must match.
func normalizeByTransformer(s string) string {
	s = width.Fold.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case isZeroWidth(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestNormalizeFoldsEveryRune: every rune, alone and between others, is
// normalized as the width transformer does it.
func TestNormalizeFoldsEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, s := range []string{string(r), "Ａ " + string(r) + "\u3000ｂ"} {
			if got, want := Normalize(s), normalizeByTransformer(s); got != want {
				t.Fatalf("Normalize(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "  Ｈｅｌｌｏ\u3000世界 ", "ｶﾞｷﾞ", "\xff\xfe", "a\u200bb", "１３８ ００１３"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Normalize(s), normalizeByTransformer(s); got != want {
			t.Fatalf("Normalize(%q) = %q, want %q", s, got, want)
		}
	})
}
