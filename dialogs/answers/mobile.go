package answers

import (
	"strings"
)

// mobileSeparators are characters people put inside phone numbers.
var mobileSeparators = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "")

// Mobile validates a mainland China mobile number (1[3-9] and nine more
// digits) and returns its 11 digits. Spaces, dashes, brackets and a
// +86 / 0086 / 86 country prefix are removed first.
func Mobile(s string) (string, error) {
	n := mobileSeparators.Replace(Normalize(s))
	if rest, ok := strings.CutPrefix(n, "+86"); ok {
		n = rest
	} else if rest, ok := strings.CutPrefix(n, "0086"); ok && len(rest) == 11 {
		n = rest
	} else if rest, ok := strings.CutPrefix(n, "86"); ok && len(rest) == 11 {
		n = rest
	}
	switch {
	case !isDigits(n):
		return "", invalid(CodeMobileFormat)
	case len(n) != 11:
		return "", invalid(CodeMobileLength)
	case n[0] != '1' || n[1] < '3':
		return "", invalid(CodeMobilePrefix)
	}
	return n, nil
}
