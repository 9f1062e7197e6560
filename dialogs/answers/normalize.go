package answers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Normalize folds full-width ASCII (digits, letters, punctuation, the
// ideographic space) to half-width, drops zero-width characters, trims,
// collapses inner white space to one ASCII space and lower-cases ASCII
// letters. Han characters and Chinese punctuation without a half-width form
// (。、) are kept as they are.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if r >= utf8.RuneSelf {
			// width.Fold, a rune at a time (its String allocates).
			if f := width.LookupRune(r).Folded(); f != 0 {
				r = f
			}
		}
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

// isZeroWidth reports invisible characters that phone keyboards and
// copy-paste leave in text (zero-width space/joiners, BOM, soft hyphen).
func isZeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad':
		return true
	}
	return false
}

// compact is Normalize without any white space left: for values where
// candidates put spaces anywhere ("2023 年 5 月", "138 0013 8000").
func compact(s string) string {
	return strings.ReplaceAll(Normalize(s), " ", "")
}

// trimPunct removes punctuation, symbols and spaces at both ends
// ("是的。" → "是的", "104小时！" → "104小时").
func trimPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
