package answers

import (
	"strings"
)

const (
	msgMobile       = "请输入 11 位的中国大陆手机号码，例如 13800138000。"
	msgMobileLength = "手机号码应为 11 位数字，请核对后重新输入。"
	msgMobilePrefix = "手机号码应以 13 至 19 开头，请核对后重新输入。"
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
		return "", invalid(msgMobile)
	case len(n) != 11:
		return "", invalid(msgMobileLength)
	case n[0] != '1' || n[1] < '3':
		return "", invalid(msgMobilePrefix)
	}
	return n, nil
}
