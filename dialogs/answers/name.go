package answers

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameDot is the separator of transliterated (ethnic minority) names.
const nameDot = '·'

// nameDots are what phone keyboards produce for the separator.
var nameDots = strings.NewReplacer("\u2022", "·", "\u30fb", "·", "\u2027", "·", ".", "·", "\u2219", "·", "\u22c5", "·", "\u0387", "·")

// namePrefixes are lead-ins candidates type before their name.
var namePrefixes = words.Name.Prefixes

// Name validates a person's name as on the ID card: 2–20 characters, Han
// characters with optional single "·" between parts ("阿依古丽·买买提").
// Spaces are removed, dot look-alikes become "·", and a lead-in such as
// "我叫" is dropped.
func Name(s string) (string, error) {
	n := nameDots.Replace(compact(s))
	for _, p := range namePrefixes {
		if rest, ok := strings.CutPrefix(n, p); ok {
			n = rest
			break
		}
	}
	n = strings.TrimRight(n, "。,!")
	if n == "" {
		return "", invalid(CodeNameEmpty)
	}
	prev := nameDot
	for _, r := range n {
		switch {
		case r == nameDot && prev == nameDot:
			return "", invalid(CodeNameChars) // leading or doubled dot
		case r != nameDot && !unicode.Is(unicode.Han, r):
			return "", invalid(CodeNameChars)
		}
		prev = r
	}
	if prev == nameDot {
		return "", invalid(CodeNameChars)
	}
	if c := utf8.RuneCountInString(n); c < 2 || c > 20 {
		return "", invalid(CodeNameLength, "min", "2", "max", "20")
	}
	return n, nil
}
