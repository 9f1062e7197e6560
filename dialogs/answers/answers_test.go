package answers

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// cst is China Standard Time, the zone candidates live in.
var cst = time.FixedZone("CST", 8*3600)

// testNow is the "now" of every test: mid-June 2025 in China.
var testNow = time.Date(2025, 6, 15, 10, 0, 0, 0, cst)

// requireInvalid fails unless err is an *Invalid with a known code whose
// description ("id_length count=17") starts with want (any code when want
// is empty).
func requireInvalid(t *testing.T, err error, want string) {
	t.Helper()
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v (%T), want *Invalid", err, err)
	}
	if _, known := Codes[inv.Code]; !known {
		t.Fatalf("code %q is not in Codes", inv.Code)
	}
	for name := range inv.Args {
		if !slices.Contains(Codes[inv.Code], name) {
			t.Fatalf("code %q has argument %q, not declared in Codes", inv.Code, name)
		}
	}
	if got := strings.TrimPrefix(inv.Error(), "invalid answer: "); !strings.HasPrefix(got, want) {
		t.Fatalf("invalid answer %q, want %q", got, want)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "abc", "abc"},
		{"full-width digits", "１０４", "104"},
		{"full-width letters lower-cased", "ＸＸ大学", "xx大学"},
		{"ascii upper-cased", "YES", "yes"},
		{"ideographic space collapsed and trimmed", "\u3000电子\u3000\u3000商务 ", "电子 商务"},
		{"tabs and newlines", "a\t\n b", "a b"},
		{"full-width punctuation", "２０２３－０５／０１．", "2023-05/01."},
		{"chinese punctuation kept", "是的。、", "是的。、"},
		{"full-width comma folded", "是，有", "是,有"},
		{"zero-width removed", "1\u200b3\ufeff8", "138"},
		{"non-breaking space", "a\u00a0b", "a b"},
		{"han untouched", "互联网营销师", "互联网营销师"},
		{"non-ascii letters kept in case", "ÄÉ", "ÄÉ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    bool
		invalid bool
	}{
		{"是", "是", true, false},
		{"是的 with full stop", "是的。", true, false},
		{"对", "对", true, false},
		{"有", "有", true, false},
		{"有的 with particle", "有的呢", true, false},
		{"好", "好", true, false},
		{"嗯", "嗯", true, false},
		{"嗯嗯嗯 repeated", "嗯嗯嗯", true, false},
		{"yes upper-case", "YES", true, false},
		{"y", "y", true, false},
		{"full-width Y", "Ｙ", true, false},
		{"true", "true", true, false},
		{"已取得", "已取得", true, false},
		{"我有", "我有", true, false},
		{"first clause decides", "是的，2019年取得的", true, false},
		{"yes with its object", "有结业证书", true, false},
		{"参加过 with its object", "参加过培训", true, false},
		{"有 with a certificate", "有五级证书", true, false},
		{"no with its object", "没有证书", false, false},
		{"没参加过 with its object", "没参加过培训", false, false},
		{"no, then why", "没有，考试没通过", false, false},
		{"doubt is no answer", "有点不确定", false, true},
		{"不知道 is no answer", "不知道啊", false, true},
		{"not sure is no answer", "不确定", false, true},
		{"object with digits is no answer", "有2个", false, true},
		{"spaces around", "  是  ", true, false},
		{"否", "否", false, false},
		{"不是", "不是", false, false},
		{"没有", "没有", false, false},
		{"没有啊 particle", "没有啊", false, false},
		{"我没有", "我没有", false, false},
		{"无", "无", false, false},
		{"不", "不", false, false},
		{"no", "No", false, false},
		{"n", "n", false, false},
		{"false", "FALSE", false, false},
		{"未取得", "未取得", false, false},
		{"没了", "没了", false, false},
		{"empty", "", false, true},
		{"spaces only", "   ", false, true},
		{"punctuation only", "。。", false, true},
		{"unrelated", "不知道", false, true},
		{"question", "是吗", false, true},
		{"contradiction", "有，没有", false, true},
		{"digit", "1", false, true},
		{"maybe", "可能吧", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Bool(tt.in)
			if tt.invalid {
				requireInvalid(t, err, CodeBool)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Bool(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}
