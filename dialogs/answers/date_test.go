package answers

import (
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	t.Parallel()
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		in        string
		want      time.Time
		permanent bool
		msg       string // non-empty: want *Invalid containing it
	}{
		{name: "dash", in: "2030-05-01", want: day(2030, 5, 1)},
		{name: "dots as on the card", in: "2030.05.01", want: day(2030, 5, 1)},
		{name: "slash short", in: "2030/5/1", want: day(2030, 5, 1)},
		{name: "chinese", in: "2030年5月1日", want: day(2030, 5, 1)},
		{name: "chinese 号", in: "2030年5月1号", want: day(2030, 5, 1)},
		{name: "eight digits", in: "20300501", want: day(2030, 5, 1)},
		{name: "full-width", in: "２０３０．０５．０１", want: day(2030, 5, 1)},
		{name: "spaces", in: " 2030 年 5 月 1 日 ", want: day(2030, 5, 1)},
		{name: "label", in: "有效期至2030.05.01", want: day(2030, 5, 1)},
		{name: "leap day", in: "2028-02-29", want: day(2028, 2, 29)},
		{name: "whole period dash", in: "2020.05.01-2030.05.01", want: day(2030, 5, 1)},
		{name: "whole period 至", in: "2020年5月1日至2030年5月1日", want: day(2030, 5, 1)},
		{name: "whole period digits", in: "20200501-20300501", want: day(2030, 5, 1)},
		{name: "whole period dashes", in: "2020-05-01-2030-05-01", want: day(2030, 5, 1)},
		{name: "长期", in: "长期", permanent: true},
		{name: "长期有效", in: "长期有效。", permanent: true},
		{name: "period to 长期", in: "2016.01.01-长期", permanent: true},
		{name: "feb 30", in: "2030-02-30", msg: "date_not_exist"},
		{name: "feb 29 not leap", in: "2027年2月29日", msg: "date_not_exist"},
		{name: "april 31", in: "20300431", msg: "date_not_exist"},
		{name: "month 13", in: "2030-13-01", msg: "date_not_exist"},
		{name: "day 0", in: "2030-05-00", msg: "date_not_exist"},
		{name: "two-digit year", in: "30.05.01", msg: "date_year4"},
		{name: "month only", in: "2030-05", msg: "date_format"},
		{name: "year too far", in: "2300-01-01", msg: "date_format"},
		{name: "year too early", in: "1900-01-01", msg: "date_format"},
		{name: "empty", in: "", msg: "date_format"},
		{name: "words", in: "明年", msg: "date_format"},
		{name: "seven digits", in: "2030051", msg: "date_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, permanent, err := Date(tt.in)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				return
			}
			if err != nil || !got.Equal(tt.want) || permanent != tt.permanent {
				t.Fatalf("Date(%q) = %v, %v, %v; want %v, %v", tt.in, got, permanent, err, tt.want, tt.permanent)
			}
		})
	}
}
