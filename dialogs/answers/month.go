package answers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// minYear is the earliest year a month or date answer may have.
const minYear = 1950

// Month is a calendar month, the unit work periods and certificate dates
// are counted in.
type Month struct{ Year, Month int }

// String formats m as "YYYY-MM", the form answers are stored in.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, m.Month) }

// Index numbers months consecutively (Year*12 + Month-1) so that the
// months from a to b inclusive are b.Index()-a.Index()+1.
func (m Month) Index() int { return m.Year*12 + m.Month - 1 }

// MonthFromIndex is the inverse of [Month.Index].
func MonthFromIndex(i int) Month {
	y := i / 12
	if i%12 < 0 {
		y--
	}
	return Month{Year: y, Month: i - y*12 + 1}
}

// monthOf is the calendar month of t in t's location.
func monthOf(t time.Time) Month { return Month{Year: t.Year(), Month: int(t.Month())} }

// ParseMonthString parses the stored form "YYYY-MM" strictly (four-digit
// year, two-digit month 01–12). It is for values this package produced,
// not for what candidates type; failures are *Invalid.
func ParseMonthString(s string) (Month, error) {
	if len(s) != 7 || s[4] != '-' || !isDigits(s[:4]) || !isDigits(s[5:]) {
		return Month{}, invalid(CodeMonthFormat)
	}
	y, _ := strconv.Atoi(s[:4])
	mo, _ := strconv.Atoi(s[5:])
	if mo < 1 || mo > 12 {
		return Month{}, invalid(CodeMonthRange)
	}
	return Month{Year: y, Month: mo}, nil
}

// Ongoing is the answer recorded for the end of a period still running
// (any of ongoingWords).
const Ongoing = "至今"

// ongoingWords mean "until now" as the end of a period.
var ongoingWords = set(words.Month.Ongoing)

// monthHedges and monthTails are words around a month that change
// nothing ("大概2020年3月吧", "从2020年3月开始", "2021年6月左右离职"): people
// estimate a month they do not remember exactly, and the form needs one.
var (
	monthHedges = words.Month.Hedges
	monthTails  = words.Month.Tails
)

// trimMonthWords removes monthHedges in front and monthTails behind, as
// often as they come ("大概是2020年3月开始的吧").
func trimMonthWords(n string) string {
	for changed := true; changed; {
		changed = false
		for _, w := range monthHedges {
			if rest, ok := strings.CutPrefix(n, w); ok && rest != "" {
				n, changed = trimPunct(rest), true
			}
		}
		for _, w := range monthTails {
			if rest, ok := strings.CutSuffix(n, w); ok && rest != "" {
				n, changed = trimPunct(rest), true
			}
		}
	}
	return n
}

// monthTrailers are vague parts of a month people add ("2023年5月底").
var monthTrailers = words.Month.Trailers

// ParseMonth reads a month as candidates type it: "2023-05", "2023-5",
// "2023/05", "2023.5", "202305", "2023年5月", "２０２３年５月", "二〇二三年五月",
// "2023年5月底", "05/2023"; a full date ("2023-05-01", "2023年5月1日")
// gives its month. Two-digit years are refused (ambiguous), so are years
// before 1950 and months after now's month.
//
// With allowOngoing, "至今", "现在", "目前", "今", "now" and similar return
// ongoing=true and a zero Month: the period is still running (it ends in
// the current month). Without it they are refused.
func ParseMonth(s string, now time.Time, allowOngoing bool) (m Month, ongoing bool, err error) {
	n := trimPunct(compact(s))
	if !ongoingWords[n] { // "在职" is one, not 在 + 职
		n = trimMonthWords(n)
	}
	if ongoingWords[n] {
		if !allowOngoing {
			return Month{}, false, invalid(CodeMonthNoOngoing)
		}
		return Month{}, true, nil
	}
	yTok, mTok, dTok, ok := splitDate(n, monthTrailers)
	if !ok {
		return Month{}, false, invalid(CodeMonthFormat)
	}
	y, msg := parseYear(yTok)
	if msg == msgYear2 {
		return Month{}, false, invalid(CodeMonthYear4)
	} else if msg != "" {
		return Month{}, false, invalid(CodeMonthFormat)
	}
	if mTok == "" {
		if y >= minYear && y <= now.Year() {
			return Month{}, false, invalid(CodeMonthNeedMonth)
		}
		return Month{}, false, invalid(CodeMonthFormat)
	}
	mo, ok := parseSmall(mTok)
	if !ok {
		return Month{}, false, invalid(CodeMonthFormat)
	}
	if mo < 1 || mo > 12 {
		return Month{}, false, invalid(CodeMonthRange)
	}
	if dTok != "" {
		d, ok := parseSmall(dTok)
		if !ok || !validDate(y, mo, d) {
			return Month{}, false, invalid(CodeMonthFormat)
		}
	}
	if y < minYear {
		return Month{}, false, invalid(CodeMonthTooEarly, "year", strconv.Itoa(minYear))
	}
	m = Month{Year: y, Month: mo}
	if cur := monthOf(now); m.Index() > cur.Index() {
		return Month{}, false, invalid(CodeMonthFuture, "year", strconv.Itoa(cur.Year), "month", strconv.Itoa(cur.Month))
	}
	return m, false, nil
}

// msgYear2 is parseYear's marker for a two-digit year.
const msgYear2 = "year2"

// parseYear reads a four-digit year in ASCII or Chinese digits ("2023",
// "二〇二三"). A two-digit year returns msgYear2, anything else a non-empty
// message.
func parseYear(tok string) (int, string) {
	if isDigits(tok) {
		switch len(tok) {
		case 4:
			y, _ := strconv.Atoi(tok)
			return y, ""
		case 2:
			return 0, msgYear2
		}
		return 0, "bad"
	}
	if utf8.RuneCountInString(tok) == 4 && !strings.ContainsAny(tok, "十百千拾佰仟两") {
		if y, ok := parseHanInt(tok); ok {
			return y, ""
		}
	}
	if utf8.RuneCountInString(tok) == 2 && !strings.ContainsAny(tok, "十百千拾佰仟两") {
		if _, ok := parseHanInt(tok); ok {
			return 0, msgYear2
		}
	}
	return 0, "bad"
}

// parseSmall reads a month or day number: one or two ASCII digits or a
// Chinese numeral ("5", "05", "五", "十二").
func parseSmall(tok string) (int, bool) {
	if isDigits(tok) {
		if len(tok) > 2 {
			return 0, false
		}
		v, _ := strconv.Atoi(tok)
		return v, true
	}
	v, ok := parseHanInt(tok)
	return v, ok && v <= 99
}

// validDate reports whether y-m-d is a real calendar date.
func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// splitDate splits a compact date into year, month and day tokens. It
// understands 年/月/日(号), the separators - / . and plain digit runs
// (YYYYMM, YYYYMMDD). trailers are words allowed after the month or the
// day ("底", "份"). Missing parts are returned empty; ok is false when
// the shape is not a date at all.
func splitDate(n string, trailers []string) (y, m, d string, ok bool) {
	if n == "" {
		return "", "", "", false
	}
	if yy, rest, found := strings.Cut(n, "年"); found {
		rest = cutTrailer(rest, trailers)
		mm, rest, found := strings.Cut(rest, "月")
		if !found {
			return yy, mm, "", !strings.ContainsAny(mm, "日号")
		}
		rest = cutTrailer(rest, trailers)
		if rest == "" {
			return yy, mm, "", true
		}
		dd, ok := strings.CutSuffix(rest, "日")
		if !ok {
			dd, ok = strings.CutSuffix(rest, "号")
		}
		return yy, mm, dd, ok && dd != ""
	}
	if parts := strings.FieldsFunc(n, func(r rune) bool { return r == '-' || r == '/' || r == '.' }); len(parts) > 1 {
		if strings.Count(n, "-")+strings.Count(n, "/")+strings.Count(n, ".") != len(parts)-1 {
			return "", "", "", false // empty part: "2023--05", "-2023.5"
		}
		last := cutTrailer(parts[len(parts)-1], trailers)
		switch {
		case len(parts) == 2 && len(parts[0]) <= 2 && len(last) == 4:
			return last, parts[0], "", true // "05/2023"
		case len(parts) == 2:
			return parts[0], last, "", true
		case len(parts) == 3:
			return parts[0], parts[1], last, true
		}
		return "", "", "", false
	}
	if isDigits(n) {
		switch len(n) {
		case 4:
			return n, "", "", true
		case 6:
			return n[:4], n[4:], "", true
		case 8:
			return n[:4], n[4:6], n[6:], true
		}
		return "", "", "", false
	}
	return "", "", "", false
}

// cutTrailer removes one trailing vague word ("底", "份") from s.
func cutTrailer(s string, trailers []string) string {
	for _, t := range trailers {
		if rest, ok := strings.CutSuffix(s, t); ok {
			return rest
		}
	}
	return s
}
