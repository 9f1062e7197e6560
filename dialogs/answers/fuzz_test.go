package answers

import (
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The fuzz targets check that the parsers never panic, fail only with an
// *Invalid, and accept only values that really are valid: a nil error must
// come with a result that passes an independent check.

// requireInvalidErr fails unless err is nil or an *Invalid with a known
// code.
func requireInvalidErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("error %v (%T) is not an *Invalid", err, err)
	}
	if _, known := Codes[inv.Code]; !known {
		t.Fatalf("error %v has an unknown code", err)
	}
}

// hasHanNumeral reports whether s has a Chinese numeral character.
func hasHanNumeral(s string) bool { return strings.ContainsFunc(s, isHanNumeral) }

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{
		"2023-05", "2023-5", "2023/05", "2023.5", "202305", "2023年5月", "2023年05月", "２０２３年５月",
		"二〇二三年五月", "2023年十二月", "23年5月", "至今", "现在", "now", "2025-06", "2025-07", "1949-12",
		"2023-13", "2023-02-30", "20230520", "05/2023", "2023年5月底", "", "年月", "-2023.5", "2023--05",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, allowOngoing bool) {
		m, ongoing, err := ParseMonth(s, testNow, allowOngoing)
		requireInvalidErr(t, err)
		switch {
		case err != nil:
			if m != (Month{}) || ongoing {
				t.Fatalf("ParseMonth(%q) failed but returned %v, %v", s, m, ongoing)
			}
		case ongoing:
			if !allowOngoing || m != (Month{}) {
				t.Fatalf("ParseMonth(%q, allowOngoing=%v) = %v, ongoing", s, allowOngoing, m)
			}
		default:
			if m.Month < 1 || m.Month > 12 || m.Year < minYear || m.Index() > monthOf(testNow).Index() {
				t.Fatalf("ParseMonth(%q) = %v: out of range", s, m)
			}
			if back, err := ParseMonthString(m.String()); err != nil || back != m {
				t.Fatalf("ParseMonthString(%q) = %v, %v", m.String(), back, err)
			}
			if n := compact(s); !strings.Contains(n, strconv.Itoa(m.Year)) && !hasHanNumeral(n) {
				t.Fatalf("ParseMonth(%q) = %v: the year is not in the input", s, m)
			}
		}
	})
}

func FuzzParseMonthString(f *testing.F) {
	for _, s := range []string{"2023-05", "2023-5", "2023-13", "0000-00", "+023-05", "２０２３-05", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMonthString(s)
		requireInvalidErr(t, err)
		if err == nil && (m.String() != s || m.Month < 1 || m.Month > 12) {
			t.Fatalf("ParseMonthString(%q) = %v", s, m)
		}
	})
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{
		"104", "１０４", "104小时", "104 学时", "96.5", "一百零四", "共104学时", "1,000", "-5", "1e309", "NaN",
		"Inf", "+Inf", "0x10", "1_000", "一百零", "十百", "三点五", "96 104", "99999999999999999999999", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Number(s, 0, 1000)
		requireInvalidErr(t, err)
		if err != nil {
			return
		}
		if math.IsNaN(v) || v < 0 || v > 1000 {
			t.Fatalf("Number(%q) = %v: out of range", s, v)
		}
		if n := Normalize(s); !strings.ContainsFunc(n, unicode.IsDigit) && !hasHanNumeral(n) {
			t.Fatalf("Number(%q) = %v from an input without a numeral", s, v)
		}
		if back, err := Number(formatNumber(v), 0, 1000); err != nil || back != v {
			t.Fatalf("Number(%q) = %v, but its own form parses as %v, %v", s, v, back, err)
		}
	})
}

func FuzzIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "110105 19491231 002X", "１１０１０５１９４９１２３１００２Ｘ",
		"110105194912310021", "11010519900230123X", "110105491231002", "X10105194912310021", "", "身份证",
		"440304199001011230",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := IDNumber(s, testNow)
		requireInvalidErr(t, err)
		if err != nil {
			if id != "" {
				t.Fatalf("IDNumber(%q) failed but returned %q", s, id)
			}
			if hasDigitRun(err.Error(), 6) {
				t.Fatalf("message %q repeats digits of the input", err.Error())
			}
			return
		}
		if len(id) != 18 || !isDigits(id[:17]) || makeID(t, id[:17]) != id {
			t.Fatalf("IDNumber(%q) = %q: not 18 characters with a valid checksum", s, id)
		}
		birth, ok := idBirth(id[6:14])
		if age := ageAt(birth, testNow); !ok || age < minAge || age > maxAge {
			t.Fatalf("IDNumber(%q) = %q: birth date %v, age %d", s, id, birth, age)
		}
		kept := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r == 'x' {
				return unicode.ToUpper(r)
			}
			return -1
		}, Normalize(s))
		if kept != id {
			t.Fatalf("IDNumber(%q) = %q, but the input's digits are %q", s, id, kept)
		}
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{
		"2030-05-01", "2030.05.01", "2030年5月1日", "20300501", "长期", "2020.05.01-2030.05.01", "2016.01.01-长期",
		"2030-02-30", "30.05.01", "2030-05", "有效期至2030.05.01", "2020-05-01-2030-05-01", "至", "-", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, permanent, err := Date(s)
		requireInvalidErr(t, err)
		switch {
		case err != nil || permanent:
			if !d.IsZero() || (err != nil && permanent) {
				t.Fatalf("Date(%q) = %v, %v, %v", s, d, permanent, err)
			}
		default:
			if d.Location() != time.UTC || d.Hour() != 0 || d.Year() < minYear || d.Year() > maxDateYear {
				t.Fatalf("Date(%q) = %v", s, d)
			}
			if back, p, err := Date(d.Format("2006-01-02")); err != nil || p || !back.Equal(d) {
				t.Fatalf("Date(%q) = %v, but its own form parses as %v, %v", s, d, back, err)
			}
		}
	})
}

var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

func FuzzMobile(f *testing.F) {
	for _, s := range []string{
		"13800138000", "+86 138 0013 8000", "8613800138000", "0086-13800138000", "12800138000", "1380013800",
		"１３８００１３８０００", "(+86)13800138000", "+86", "", "138-0013-8000a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Mobile(s)
		requireInvalidErr(t, err)
		if err != nil {
			return
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, Normalize(s))
		if !mobilePattern.MatchString(m) || !strings.HasSuffix(digits, m) {
			t.Fatalf("Mobile(%q) = %q", s, m)
		}
	})
}

func FuzzBool(f *testing.F) {
	for _, s := range []string{"是", "是的。", "没有啊", "有，没有", "YES", "嗯嗯", "", "我"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Bool(s)
		requireInvalidErr(t, err)
		if err != nil && v {
			t.Fatalf("Bool(%q) failed but returned true", s)
		}
	})
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"张三", "阿依古丽·买买提", "我叫张三", "·", "Zhang", "", "张三😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Name(s)
		requireInvalidErr(t, err)
		if err != nil {
			return
		}
		runes := []rune(n)
		if len(runes) < 2 || len(runes) > 20 || runes[0] == nameDot || runes[len(runes)-1] == nameDot {
			t.Fatalf("Name(%q) = %q", s, n)
		}
		for _, r := range runes {
			if r != nameDot && !unicode.Is(unicode.Han, r) {
				t.Fatalf("Name(%q) = %q has %q", s, n, r)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	list := readList(f, "majors.txt")
	aliases := map[string]string{"电商": "电子商务", "跨境电商": "跨境电子商务"}
	m, err := NewMatcher(list, "专业", "职业").WithAliases(aliases)
	if err != nil {
		f.Fatal(err)
	}
	// named reports whether key contains canonical or one of its aliases.
	named := func(key, canonical string) bool {
		if strings.Contains(key, cleanKey(canonical)) {
			return true
		}
		for a, c := range aliases {
			if c == canonical && strings.Contains(key, cleanKey(a)) {
				return true
			}
		}
		return false
	}
	for _, s := range []string{
		"电子商务", "  电子商务专业 ", "ＸＸ职业学院电子商务", "电子商物", "跨境电子商务", "会计", "营销", "电商",
		"XX大学 市场营销", "电子商务（跨境方向）", "((电子商务)", "电子(x)商务", "电(x)商", "某学院跨境电商专业", "】【", "专业", "", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canonical, ok, suggestions := m.Match(s)
		if ok {
			if !slices.Contains(list, canonical) || suggestions != nil {
				t.Fatalf("Match(%q) = %q, %v, %q", s, canonical, ok, suggestions)
			}
			if !named(cleanKey(s), canonical) {
				t.Fatalf("Match(%q) = %q, which the input does not name", s, canonical)
			}
			return
		}
		if canonical != "" || len(suggestions) > maxSuggestions {
			t.Fatalf("Match(%q) = %q, %v, %q", s, canonical, ok, suggestions)
		}
		for i, sug := range suggestions {
			if !slices.Contains(list, sug) || slices.Contains(suggestions[:i], sug) {
				t.Fatalf("Match(%q) suggestions %q: not in the list or repeated", s, suggestions)
			}
		}
	})
}
