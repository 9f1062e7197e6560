package answers

import (
	"testing"
	"time"
)

func TestMonth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		m     Month
		str   string
		index int
	}{
		{"may 2023", Month{2023, 5}, "2023-05", 2023*12 + 4},
		{"january", Month{2024, 1}, "2024-01", 2024 * 12},
		{"december", Month{1999, 12}, "1999-12", 1999*12 + 11},
		{"year zero", Month{0, 1}, "0000-01", 0},
		{"before year zero", Month{-1, 12}, "-001-12", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.m.Index(); got != tt.index {
				t.Errorf("Index() = %d, want %d", got, tt.index)
			}
			if got := MonthFromIndex(tt.index); got != tt.m {
				t.Errorf("MonthFromIndex(%d) = %v, want %v", tt.index, got, tt.m)
			}
		})
	}
	t.Run("period arithmetic", func(t *testing.T) {
		t.Parallel()
		// 2020-01 .. 2023-12 inclusive is 48 months (DOMAIN.md: 4 years).
		if got := (Month{2023, 12}).Index() - (Month{2020, 1}).Index() + 1; got != 48 {
			t.Fatalf("months = %d, want 48", got)
		}
		if got := MonthFromIndex((Month{2023, 11}).Index() + 2); got != (Month{2024, 1}) {
			t.Fatalf("2023-11 + 2 = %v", got)
		}
	})
}

func TestParseMonthString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Month
		invalid bool
	}{
		{"valid", "2023-05", Month{2023, 5}, false},
		{"december", "2024-12", Month{2024, 12}, false},
		{"one-digit month", "2023-5", Month{}, true},
		{"month 13", "2023-13", Month{}, true},
		{"month 00", "2023-00", Month{}, true},
		{"slash", "2023/05", Month{}, true},
		{"chinese", "2023年5月", Month{}, true},
		{"trailing space", "2023-05 ", Month{}, true},
		{"sign", "+023-05", Month{}, true},
		{"ongoing word", "至今", Month{}, true},
		{"empty", "", Month{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMonthString(tt.in)
			if tt.invalid {
				requireInvalid(t, err, "")
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMonthString(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseMonth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           string
		now          time.Time // zero: testNow (2025-06-15 CST)
		allowOngoing bool
		want         Month
		ongoing      bool
		msg          string // non-empty: want *Invalid containing it
	}{
		{name: "dash two-digit month", in: "2023-05", want: Month{2023, 5}},
		{name: "dash one-digit month", in: "2023-5", want: Month{2023, 5}},
		{name: "slash", in: "2023/05", want: Month{2023, 5}},
		{name: "dot", in: "2023.5", want: Month{2023, 5}},
		{name: "six digits", in: "202305", want: Month{2023, 5}},
		{name: "chinese", in: "2023年5月", want: Month{2023, 5}},
		{name: "chinese zero-padded", in: "2023年05月", want: Month{2023, 5}},
		{name: "full-width chinese", in: "２０２３年５月", want: Month{2023, 5}},
		{name: "spaces inside", in: " 2023 年 5 月 ", want: Month{2023, 5}},
		{name: "no 月", in: "2023年5", want: Month{2023, 5}},
		{name: "月底", in: "2023年5月底", want: Month{2023, 5}},
		{name: "月份", in: "2023年12月份", want: Month{2023, 12}},
		{name: "chinese numerals", in: "二〇二三年五月", want: Month{2023, 5}},
		{name: "chinese numeral month", in: "2023年十二月", want: Month{2023, 12}},
		{name: "full date dash", in: "2023-05-20", want: Month{2023, 5}},
		{name: "full date chinese", in: "2023年5月20日", want: Month{2023, 5}},
		{name: "eight digits", in: "20230520", want: Month{2023, 5}},
		{name: "month first", in: "05/2023", want: Month{2023, 5}},
		{name: "full-width dash", in: "２０２３－０５", want: Month{2023, 5}},
		{name: "trailing full stop", in: "2023.5。", want: Month{2023, 5}},
		{name: "1950 accepted", in: "1950-01", want: Month{1950, 1}},
		{name: "current month accepted", in: "2025-06", want: Month{2025, 6}},
		{name: "next month refused", in: "2025-07", msg: "month_future month=6 year=2025"},
		{name: "next year refused", in: "2026年1月", msg: "month_future"},
		{name: "current month by now's zone", in: "2025-07", now: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC).In(cst), want: Month{2025, 7}},
		{name: "same instant in UTC is still june", in: "2025-07", now: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC), msg: "month_future month=6 year=2025"},
		{name: "estimated month", in: "大概2020年3月", want: Month{2020, 3}},
		{name: "with a particle", in: "2020年3月吧", want: Month{2020, 3}},
		{name: "hedges and tails together", in: "应该是2020年3月左右开始的吧", want: Month{2020, 3}},
		{name: "from", in: "从2020.3开始", want: Month{2020, 3}},
		{name: "joined", in: "2019年7月入职", want: Month{2019, 7}},
		{name: "left", in: "2021-06离职", want: Month{2021, 6}},
		{name: "hedged future still refused", in: "大概2026年1月吧", msg: "month_future"},
		{name: "hedged year only", in: "大概2023年吧", msg: "month_need_month"},
		{name: "hedge alone", in: "大概吧", msg: "month_format"},
		{name: "在职 is ongoing, not 在 + 职", in: "在职", allowOngoing: true, ongoing: true},
		{name: "至今 with a particle", in: "至今吧", allowOngoing: true, ongoing: true},
		{name: "到现在了", in: "到现在了", allowOngoing: true, ongoing: true},
		{name: "至今 ongoing", in: "至今", allowOngoing: true, ongoing: true},
		{name: "现在 ongoing", in: "现在", allowOngoing: true, ongoing: true},
		{name: "目前 ongoing", in: "目前", allowOngoing: true, ongoing: true},
		{name: "今 ongoing", in: "今", allowOngoing: true, ongoing: true},
		{name: "now ongoing", in: "NOW", allowOngoing: true, ongoing: true},
		{name: "至今 with punctuation", in: "至今。", allowOngoing: true, ongoing: true},
		{name: "至今 not allowed", in: "至今", msg: "month_no_ongoing"},
		{name: "现在 not allowed", in: "现在", msg: "month_no_ongoing"},
		{name: "two-digit year chinese", in: "23年5月", msg: "month_year4"},
		{name: "two-digit year dot", in: "23.5", msg: "month_year4"},
		{name: "before 1950", in: "1949-12", msg: "month_too_early year=1950"},
		{name: "month 13", in: "2023-13", msg: "month_range"},
		{name: "month 0", in: "2023年0月", msg: "month_range"},
		{name: "year only", in: "2023", msg: "month_need_month"},
		{name: "year only with 年", in: "2023年", msg: "month_need_month"},
		{name: "four digits not a year", in: "0523", msg: "month_format"},
		{name: "five digits", in: "20235", msg: "month_format"},
		{name: "feb 30", in: "2023-02-30", msg: "month_format"},
		{name: "empty", in: "", msg: "month_format"},
		{name: "words", in: "去年", msg: "month_format"},
		{name: "double separator", in: "2023--05", msg: "month_format"},
		{name: "three-digit month", in: "2023-005", msg: "month_format"},
		{name: "four parts", in: "2023.05.01.02", msg: "month_format"},
		{name: "day with no 日", in: "2023年5月20", msg: "month_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			got, ongoing, err := ParseMonth(tt.in, now, tt.allowOngoing)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				return
			}
			if err != nil || got != tt.want || ongoing != tt.ongoing {
				t.Fatalf("ParseMonth(%q) = %v, %v, %v; want %v, %v", tt.in, got, ongoing, err, tt.want, tt.ongoing)
			}
		})
	}
}
