package answers

import "testing"

func TestNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		min, max float64
		want     float64
		msg      string // non-empty: want *Invalid containing it
	}{
		{"plain", "104", 0, 1000, 104, ""},
		{"full-width", "１０４", 0, 1000, 104, ""},
		{"hours unit", "104小时", 0, 1000, 104, ""},
		{"spaced unit", "104 学时", 0, 1000, 104, ""},
		{"个学时", "96个学时", 0, 1000, 96, ""},
		{"english unit", "104 Hours", 0, 1000, 104, ""},
		{"decimal", "96.5", 0, 1000, 96.5, ""},
		{"full-width decimal", "９６．５", 0, 1000, 96.5, ""},
		{"prefix 共", "共104学时", 0, 1000, 104, ""},
		{"prefix 大约", "大约 96 小时", 0, 1000, 96, ""},
		{"trailing full stop", "104。", 0, 1000, 104, ""},
		{"thousands separator", "1,000", 0, 10000, 1000, ""},
		{"years unit", "4年", 0, 60, 4, ""},
		{"zero", "0", 0, 10, 0, ""},
		{"min boundary", "104", 104, 200, 104, ""},
		{"max boundary", "200", 104, 200, 200, ""},
		{"han 一百零四", "一百零四", 0, 1000, 104, ""},
		{"han with unit", "九十六个学时", 0, 1000, 96, ""},
		{"han 十二", "十二", 0, 1000, 12, ""},
		{"han 两千", "两千", 0, 10000, 2000, ""},
		{"han colloquial 一百五", "一百五", 0, 1000, 150, ""},
		{"han 九千九百九十九", "九千九百九十九", 0, 10000, 9999, ""},
		{"han 一千零十", "一千零十", 0, 10000, 1010, ""},
		{"han digit by digit", "一零四", 0, 1000, 104, ""},
		{"han financial", "壹佰零肆", 0, 1000, 104, ""},
		{"han decimal", "三点五", 0, 10, 3.5, ""},
		{"below min", "96", 104, 200, 0, "number_range max=200 min=104"},
		{"above max", "201", 104, 200, 0, "number_range max=200 min=104"},
		{"negative", "-5", 0, 1000, 0, "number_range max=1000 min=0"},
		{"negative han", "负五", 0, 1000, 0, "number_range max=1000 min=0"},
		{"huge", "99999999999999999999", 0, 1e6, 0, "number_range max=1000000 min=0"},
		{"exponent", "1e309", 0, 1e6, 0, "number_format"},
		{"exponent small", "1e2", 0, 1e6, 0, "number_format"},
		{"NaN", "NaN", 0, 1e6, 0, "number_format"},
		{"Inf", "Inf", 0, 1e6, 0, "number_format"},
		{"plus sign", "+5", 0, 1e6, 0, "number_format"},
		{"empty", "", 0, 1e6, 0, "number_format"},
		{"words", "很多", 0, 1e6, 0, "number_format"},
		{"months are not years", "18个月", 0, 60, 0, "number_format"},
		{"two numbers", "96 104", 0, 1e6, 0, "number_format"},
		{"two points", "1.2.3", 0, 1e6, 0, "number_format"},
		{"bad grouping", "1,00", 0, 1e6, 0, "number_format"},
		{"mixed digits", "1百", 0, 1e6, 0, "number_format"},
		{"han two digits in a row", "一二百", 0, 1e6, 0, "number_format"},
		{"han trailing zero", "一百零", 0, 1e6, 0, "number_format"},
		{"han units out of order", "十百", 0, 1e6, 0, "number_format"},
		{"han 万 not supported", "一万", 0, 1e6, 0, "number_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Number(tt.in, tt.min, tt.max)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Number(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseHanInt(t *testing.T) {
	t.Parallel()
	// Every integer 0..9999 written out positionally must parse back.
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	write := func(n int) string {
		if n == 0 {
			return "零"
		}
		units := []string{"千", "百", "十", ""}
		pow := []int{1000, 100, 10, 1}
		s, zero, started := "", false, false
		for i, p := range pow {
			d := n / p % 10
			switch {
			case d == 0:
				zero = started
			default:
				if zero {
					s += "零"
				}
				if !(d == 1 && p == 10 && !started) {
					s += digits[d]
				}
				s += units[i]
				started, zero = true, false
			}
		}
		return s
	}
	for n := 0; n <= 9999; n++ {
		s := write(n)
		got, ok := parseHanInt(s)
		if !ok || got != n {
			t.Fatalf("parseHanInt(%q) = %d, %v; want %d", s, got, ok, n)
		}
	}
}
