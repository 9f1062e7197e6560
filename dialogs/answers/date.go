package answers

import (
	"strings"
	"time"
)

// maxDateYear bounds ID card expiry years (long-term cards say 长期).
const maxDateYear = 2199

// Permanent is the answer recorded for an ID card that never expires (any
// of permanentWords).
const Permanent = "长期"

// permanentWords mean an ID card that never expires.
var permanentWords = set(words.Date.Permanent)

// datePrefixes are labels copied from the card or typed before the date.
var datePrefixes = words.Date.Prefixes

// rangeSeparators separate the two dates of a validity period as printed
// on the card ("2020.05.01-2030.05.01").
var rangeSeparators = words.Date.RangeSeparators

// Date reads an ID card expiry date: "2030-05-01", "2030.05.01",
// "2030/5/1", "2030年5月1日", "20300501"; "长期" (and 永久…) gives
// permanent=true. When the whole validity period is pasted
// ("2020.05.01-2030.05.01", "2016年1月1日至长期") its end is taken. The date
// must exist in the calendar; it is returned at midnight UTC.
func Date(s string) (d time.Time, permanent bool, err error) {
	n := trimPunct(compact(s))
	for _, p := range datePrefixes {
		if rest, ok := strings.CutPrefix(n, p); ok {
			n = trimPunct(rest)
			break
		}
	}
	n = rangeEnd(n)
	if permanentWords[n] {
		return time.Time{}, true, nil
	}
	yTok, mTok, dTok, ok := splitDate(n, nil)
	if !ok || mTok == "" || dTok == "" {
		return time.Time{}, false, invalid(CodeDateFormat)
	}
	y, msg := parseYear(yTok)
	if msg == msgYear2 {
		return time.Time{}, false, invalid(CodeDateYear4)
	} else if msg != "" {
		return time.Time{}, false, invalid(CodeDateFormat)
	}
	mo, okM := parseSmall(mTok)
	day, okD := parseSmall(dTok)
	if !okM || !okD || y < minYear || y > maxDateYear {
		return time.Time{}, false, invalid(CodeDateFormat)
	}
	if !validDate(y, mo, day) {
		return time.Time{}, false, invalid(CodeDateNotExist)
	}
	return time.Date(y, time.Month(mo), day, 0, 0, 0, 0, time.UTC), false, nil
}

// rangeEnd returns the end of a pasted validity period, or n itself.
func rangeEnd(n string) string {
	for _, sep := range rangeSeparators {
		if i := strings.LastIndex(n, sep); i >= 0 {
			return trimPunct(n[i+len(sep):])
		}
	}
	// "-" is both a date separator and a range separator: a range has one
	// dash between two dotted/8-digit dates, or five dashes in all.
	switch parts := strings.Split(n, "-"); len(parts) {
	case 2:
		if isDateLike(parts[0]) && (isDateLike(parts[1]) || permanentWords[parts[1]]) {
			return parts[1]
		}
	case 6:
		return strings.Join(parts[3:], "-")
	}
	return n
}

// isDateLike reports a one-piece date: "2020.05.01", "2020/5/1",
// "2020年5月1日" or "20200501".
func isDateLike(s string) bool {
	_, m, d, ok := splitDate(s, nil)
	return ok && m != "" && d != ""
}
