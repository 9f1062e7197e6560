package answers

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// numberPrefixes are words candidates put before an amount
// ("共104学时", "大约96小时").
var numberPrefixes = words.Number.Prefixes

// numberUnits are units accepted after an amount. Only units of the things
// the plan asks as numbers (hours of training, years of work) are taken, so
// "18个月" is refused rather than read as 18 years.
var numberUnits = set(words.Number.Units)

// Number reads a non-negative decimal number ("104", "１０４", "104小时",
// "104 学时", "96.5", "一百零四", "共104学时") and checks min <= n <= max.
// Exponents, signs, NaN and infinities are refused; the range message names
// min and max.
func Number(s string, min, max float64) (float64, error) {
	n := Normalize(s)
	if splitDigits(n) {
		return 0, invalid(CodeNumberFormat) // "96 104": two numbers, not 96104
	}
	n = strings.ReplaceAll(n, " ", "")
	n = strings.TrimRightFunc(n, func(r rune) bool { return r == '.' || r == '。' || r == '!' || r == '~' })
	for _, p := range numberPrefixes {
		if rest, ok := strings.CutPrefix(n, p); ok {
			n = rest
			break
		}
	}
	if n == "" {
		return 0, invalid(CodeNumberFormat)
	}
	if n[0] == '-' || strings.HasPrefix(n, "负") {
		return 0, rangeError(min, max)
	}
	num, unit := splitNumber(n)
	if unit != "" && !numberUnits[unit] {
		return 0, invalid(CodeNumberFormat)
	}
	v, ok := parseDecimal(num)
	if !ok {
		v, ok = parseHanDecimal(num)
	}
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, invalid(CodeNumberFormat)
	}
	if v < min || v > max {
		return 0, rangeError(min, max)
	}
	return v, nil
}

// splitDigits reports a space between two digits.
func splitDigits(n string) bool {
	for i := 1; i+1 < len(n); i++ {
		if n[i] == ' ' && n[i-1] >= '0' && n[i-1] <= '9' && n[i+1] >= '0' && n[i+1] <= '9' {
			return true
		}
	}
	return false
}

func rangeError(min, max float64) error {
	return invalid(CodeNumberRange, "min", formatNumber(min), "max", formatNumber(max))
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// splitNumber splits n into its leading amount (ASCII digits, '.', ',' or
// Chinese numerals) and the rest.
func splitNumber(n string) (num, unit string) {
	i := 0
	for i < len(n) {
		r, size := utf8.DecodeRuneInString(n[i:])
		if !(r >= '0' && r <= '9' || r == '.' || r == ',' || isHanNumeral(r)) {
			break
		}
		i += size
	}
	return n[:i], n[i:]
}

// parseDecimal parses ASCII digits with at most one decimal point and
// optional thousands separators in groups of three ("1,000").
func parseDecimal(s string) (float64, bool) {
	if s == "" || len(s) > 24 {
		return 0, false
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if hasPoint && !isDigits(frac) {
		return 0, false
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return 0, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, false
			}
		}
		intPart = strings.Join(groups, "")
	}
	if !isDigits(intPart) {
		return 0, false
	}
	v, err := strconv.ParseFloat(intPart+"."+frac, 64)
	if !hasPoint {
		v, err = strconv.ParseFloat(intPart, 64)
	}
	return v, err == nil
}

// Chinese numerals, everyday and financial forms.
var (
	hanDigits = map[rune]int{
		'零': 0, '〇': 0, '○': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5,
		'六': 6, '七': 7, '八': 8, '九': 9,
		'壹': 1, '贰': 2, '叁': 3, '肆': 4, '伍': 5, '陆': 6, '柒': 7, '捌': 8, '玖': 9,
	}
	hanUnits = map[rune]int{'十': 10, '百': 100, '千': 1000, '拾': 10, '佰': 100, '仟': 1000}
)

func isHanNumeral(r rune) bool {
	_, d := hanDigits[r]
	_, u := hanUnits[r]
	return d || u || r == '点'
}

// parseHanDecimal parses a Chinese numeral up to 9999 with an optional
// fraction after 点 ("三点五").
func parseHanDecimal(s string) (float64, bool) {
	intPart, frac, hasPoint := strings.Cut(s, "点")
	v, ok := parseHanInt(intPart)
	if !ok {
		return 0, false
	}
	if !hasPoint {
		return float64(v), true
	}
	if frac == "" || utf8.RuneCountInString(frac) > 6 {
		return 0, false
	}
	digits := make([]byte, 0, 6)
	for _, r := range frac {
		d, ok := hanDigits[r]
		if !ok || r == '两' {
			return 0, false
		}
		digits = append(digits, byte('0'+d))
	}
	f, err := strconv.ParseFloat(strconv.Itoa(v)+"."+string(digits), 64)
	return f, err == nil
}

// parseHanInt parses a Chinese integer from 0 to 9999: positional forms
// ("一百零四", "十二", "两千", colloquial "一百五" = 150) and digit-by-digit
// forms ("一零四", "二〇二三").
func parseHanInt(s string) (int, bool) {
	rs := []rune(s)
	if len(rs) == 0 || len(rs) > 10 {
		return 0, false
	}
	hasUnit := false
	for _, r := range rs {
		if _, ok := hanUnits[r]; ok {
			hasUnit = true
		}
	}
	if !hasUnit {
		if len(rs) > 4 {
			return 0, false
		}
		n := 0
		for _, r := range rs {
			d, ok := hanDigits[r]
			if !ok || (r == '两' && len(rs) > 1) {
				return 0, false
			}
			n = n*10 + d
		}
		return n, true
	}
	total, lastUnit, digit, zero := 0, 10000, -1, false
	for i, r := range rs {
		if d, ok := hanDigits[r]; ok {
			if digit != -1 {
				return 0, false // two digits in a row: "一二百"
			}
			if d == 0 {
				if zero || lastUnit == 10000 || lastUnit == 10 {
					return 0, false // "零一百", "一百零零", "十零"
				}
				zero = true
				continue
			}
			digit = d
			continue
		}
		u, ok := hanUnits[r]
		if !ok || u >= lastUnit {
			return 0, false
		}
		if digit == -1 {
			if u != 10 || !(i == 0 || zero) {
				return 0, false // only 十 may stand alone: "十二", "一千零十"
			}
			digit = 1
		}
		total += digit * u
		lastUnit, digit, zero = u, -1, false
	}
	switch {
	case digit != -1 && (zero || lastUnit == 10):
		total += digit // "一百零四", "二十四"
	case digit != -1:
		total += digit * lastUnit / 10 // "一百五" = 150, "两千三" = 2300
	case zero:
		return 0, false // trailing 零
	}
	return total, true
}
