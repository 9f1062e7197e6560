package answers

import "testing"

func TestMobile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
		msg  string // non-empty: want *Invalid containing it
	}{
		{name: "plain", in: "13800138000", want: "13800138000"},
		{name: "19x", in: "19912345678", want: "19912345678"},
		{name: "full-width", in: "１３８００１３８０００", want: "13800138000"},
		{name: "spaces", in: "138 0013 8000", want: "13800138000"},
		{name: "dashes", in: "138-0013-8000", want: "13800138000"},
		{name: "+86", in: "+86 138 0013 8000", want: "13800138000"},
		{name: "full-width +86", in: "＋８６１３８００１３８０００", want: "13800138000"},
		{name: "86 prefix", in: "8613800138000", want: "13800138000"},
		{name: "0086 prefix", in: "0086-13800138000", want: "13800138000"},
		{name: "+86 in brackets", in: "(+86)13800138000", want: "13800138000"},
		{name: "12x prefix", in: "12800138000", msg: "mobile_prefix"},
		{name: "starts with 2", in: "23800138000", msg: "mobile_prefix"},
		{name: "10 digits", in: "1380013800", msg: "mobile_length"},
		{name: "12 digits", in: "138001380001", msg: "mobile_length"},
		{name: "+86 too short", in: "+861380013800", msg: "mobile_length"},
		{name: "86 alone", in: "86", msg: "mobile_length"},
		{name: "landline with area code", in: "010-12345678", msg: "mobile_prefix"},
		{name: "landline", in: "8765-4321", msg: "mobile_length"},
		{name: "letters", in: "1380013800a", msg: "mobile_format"},
		{name: "words", in: "手机号13800138000", msg: "mobile_format"},
		{name: "empty", in: "", msg: "mobile_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Mobile(tt.in)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Mobile(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
