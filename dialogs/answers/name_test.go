package answers

import "testing"

func TestName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
		msg  string // non-empty: want *Invalid containing it
	}{
		{name: "two characters", in: "张三", want: "张三"},
		{name: "three characters", in: "欧阳娜娜", want: "欧阳娜娜"},
		{name: "spaces trimmed", in: "  李 四 ", want: "李四"},
		{name: "ideographic space", in: "\u3000王五\u3000", want: "王五"},
		{name: "ethnic name", in: "阿依古丽·买买提", want: "阿依古丽·买买提"},
		{name: "bullet as dot", in: "阿依古丽•买买提", want: "阿依古丽·买买提"},
		{name: "katakana dot", in: "阿依古丽・买买提", want: "阿依古丽·买买提"},
		{name: "ascii dot", in: "阿依古丽.买买提", want: "阿依古丽·买买提"},
		{name: "lead-in 我叫", in: "我叫张三", want: "张三"},
		{name: "label", in: "姓名：张三", want: "张三"},
		{name: "trailing full stop", in: "张三。", want: "张三"},
		{name: "rare character", in: "王𠀀", want: "王𠀀"},
		{name: "twenty characters", in: "一二三四五六七八九十一二三四五六七八九十", want: "一二三四五六七八九十一二三四五六七八九十"},
		{name: "empty", in: "", msg: "name_empty"},
		{name: "spaces only", in: "   ", msg: "name_empty"},
		{name: "one character", in: "张", msg: "name_length"},
		{name: "twenty-one characters", in: "一二三四五六七八九十一二三四五六七八九十一", msg: "name_length"},
		{name: "latin", in: "Zhang San", msg: "name_chars"},
		{name: "digits", in: "张三1", msg: "name_chars"},
		{name: "leading dot", in: "·买买提", msg: "name_chars"},
		{name: "trailing dot", in: "买买提·", msg: "name_chars"},
		{name: "double dot", in: "阿依古丽··买买提", msg: "name_chars"},
		{name: "emoji", in: "张三😀", msg: "name_chars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Name(tt.in)
			if tt.msg != "" {
				requireInvalid(t, err, tt.msg)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Name(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
