package dialogs

import (
	"strings"
	"testing"
)

// fillReplacer is fill as strings.Replacer would do it.
func fillReplacer(text string, kv ...string) string {
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

func TestFill(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text string
		kv         []string
		want       string
	}{
		{"no placeholder", "您好", []string{"name", "张三"}, "您好"},
		{"one", "{name}您好", []string{"name", "张三"}, "张三您好"},
		{"twice", "{n}-{n}", []string{"n", "1"}, "1-1"},
		{"several", "{a}{b}，{c}", []string{"a", "1", "b", "2", "c", "3"}, "12，3"},
		{"unknown stays", "{a}{x}", []string{"a", "1"}, "1{x}"},
		{"first pair wins", "{a}", []string{"a", "1", "a", "2"}, "1"},
		{"nested brace", "{{a}}", []string{"a", "1"}, "{1}"},
		{"unclosed", "{a", []string{"a", "1"}, "{a"},
		{"empty name", "{}", []string{"", "e"}, "e"},
		{"value with a placeholder is not filled again", "{a}{b}", []string{"a", "{b}", "b", "2"}, "{b}2"},
		{"odd kv", "{a}", []string{"a"}, "{a}"},
		{"no kv", "{a}", nil, "{a}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fill(tc.text, tc.kv...); got != tc.want {
				t.Errorf("fill(%q, %q) = %q, want %q", tc.text, tc.kv, got, tc.want)
			}
			if ref := fillReplacer(tc.text, tc.kv...); ref != tc.want {
				t.Errorf("strings.Replacer gives %q: the table is wrong", ref)
			}
		})
	}
}

func FuzzFill(f *testing.F) {
	f.Add("{a}{b}x{c", "a", "1", "b", "{a}")
	f.Add("{{a}}", "a", "", "", "z")
	f.Fuzz(func(t *testing.T, text, k1, v1, k2, v2 string) {
		if strings.Contains(k1+k2, "}") {
			t.Skip("placeholder names hold no }")
		}
		if got, want := fill(text, k1, v1, k2, v2), fillReplacer(text, k1, v1, k2, v2); got != want {
			t.Errorf("fill(%q, %q, %q, %q, %q) = %q, strings.Replacer %q", text, k1, v1, k2, v2, got, want)
		}
	})
}
