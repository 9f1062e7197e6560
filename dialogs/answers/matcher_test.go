package answers

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// readList reads a testdata list: one entry a line, # comments.
func readList(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var list []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			list = append(list, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return list
}

// matchers builds the two seed vocabularies the way the engine does.
func matchers(t testing.TB) (majors, occupations *Matcher) {
	t.Helper()
	return NewMatcher(readList(t, "majors.txt"), "专业", "职业"),
		NewMatcher(readList(t, "occupations.txt"), "专业", "职业")
}

func TestSeedLists(t *testing.T) {
	t.Parallel()
	majors, occupations := readList(t, "majors.txt"), readList(t, "occupations.txt")
	if len(majors) != 70 || len(occupations) != 25 {
		t.Fatalf("seed lists have %d majors and %d occupations, want 70 and 25", len(majors), len(occupations))
	}
	m := NewMatcher(majors)
	if len(m.entries) != 69 {
		t.Fatalf("matcher kept %d majors, want 69 (市场营销 is listed twice)", len(m.entries))
	}
	// Every entry matches itself, also when typed with noise.
	for _, list := range [][]string{majors, occupations} {
		m := NewMatcher(list, "专业", "职业")
		for _, e := range list {
			for _, in := range []string{e, " " + e + " ", "“" + e + "”", "某某职业技术学院" + e} {
				if got, ok, _ := m.Match(in); !ok || got != e {
					t.Errorf("Match(%q) = %q, %v; want %q", in, got, ok, e)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	majors, occupations := matchers(t)
	tests := []struct {
		name    string
		m       *Matcher
		in      string
		want    string   // non-empty: a match
		suggest []string // with want empty: the suggestions, exactly
		first   string   // with want empty and suggest nil: the first suggestion
	}{
		{name: "exact", m: majors, in: "电子商务", want: "电子商务"},
		{name: "spaces and suffix", m: majors, in: "  电子商务专业 ", want: "电子商务"},
		{name: "full-width school", m: majors, in: "ＸＸ职业学院电子商务", want: "电子商务"},
		{name: "school and suffix", m: majors, in: "浙江工商职业技术学院电子商务专业", want: "电子商务"},
		{name: "university then space", m: majors, in: "XX大学 市场营销", want: "市场营销"},
		{name: "name then space", m: majors, in: "阿里巴巴 电子商务", want: "电子商务"},
		{name: "longest entry wins", m: majors, in: "跨境电子商务", want: "跨境电子商务"},
		{name: "longest entry after school", m: majors, in: "XX学院跨境电子商务专业", want: "跨境电子商务"},
		{name: "longer exact entry", m: majors, in: "电子商务及法律", want: "电子商务及法律"},
		{name: "quotes", m: majors, in: "“电子商务”专业", want: "电子商务"},
		{name: "book title marks", m: majors, in: "《市场营销》", want: "市场营销"},
		{name: "bracketed remark", m: majors, in: "电子商务（跨境方向）", want: "电子商务"},
		{name: "level in front", m: majors, in: "中职 电子商务", want: "电子商务"},
		{name: "class year in front", m: majors, in: "2019级市场营销专业", want: "市场营销"},
		{name: "listed twice", m: majors, in: "市场营销", want: "市场营销"},
		{name: "ascii noise", m: majors, in: "电子商务!!!", want: "电子商务"},
		{name: "occupation exact", m: occupations, in: "营销员", want: "营销员"},
		{name: "occupation suffix", m: occupations, in: "营销员职业", want: "营销员"},
		{name: "company in front", m: occupations, in: "杭州某某科技有限公司 营销员", want: "营销员"},
		{name: "company glued", m: occupations, in: "杭州某某科技有限公司导游", want: "导游"},
		{name: "occupation ending in 师", m: occupations, in: "电子商务师", want: "电子商务师"},

		{name: "typo 物", m: majors, in: "电子商物", first: "电子商务"},
		{name: "typo 消", m: majors, in: "市场营消", first: "市场营销"},
		{name: "typo with suffix", m: majors, in: "电子商物专业", first: "电子商务"},
		{name: "abbreviation 电商", m: majors, in: "电商", suggest: []string{"电子商务"}},
		{name: "fragment 营销 majors", m: majors, in: "营销", suggest: []string{"市场营销", "网络营销", "市场营销教育"}},
		{name: "fragment 营销 occupations", m: occupations, in: "营销", suggest: []string{"营销员", "市场营销专业人员"}},
		{name: "major asked as occupation", m: occupations, in: "电子商务", suggest: []string{"电子商务师"}},
		{name: "unknown prefix", m: majors, in: "阿里巴巴电子商务", first: "电子商务"},
		{name: "negated", m: majors, in: "非电子商务", first: "电子商务"},
		{name: "trailing words", m: majors, in: "电子商务专业毕业", first: "电子商务"},
		{name: "contains the longer entry first", m: majors, in: "我学的是跨境电子商务方向", first: "跨境电子商务"},
		{name: "remark removal does not join words", m: majors, in: "电子(x)商务", first: "电子商务"},
		{name: "会计 nothing", m: majors, in: "会计", suggest: nil},
		{name: "会计专业 nothing", m: majors, in: "会计专业", suggest: nil},
		{name: "会计 occupations nothing", m: occupations, in: "会计", suggest: nil},
		{name: "unrelated", m: majors, in: "临床医学", suggest: nil},
		{name: "one character", m: majors, in: "电", suggest: nil},
		{name: "suffix only", m: majors, in: "专业", suggest: nil},
		{name: "empty", m: majors, in: "", suggest: nil},
		{name: "punctuation only", m: majors, in: "。。！", suggest: nil},
		{name: "too long", m: majors, in: strings.Repeat("电子商务", 60), suggest: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, suggestions := tt.m.Match(tt.in)
			switch {
			case tt.want != "":
				if !ok || got != tt.want || suggestions != nil {
					t.Fatalf("Match(%q) = %q, %v, %q; want %q", tt.in, got, ok, suggestions, tt.want)
				}
			case ok || got != "":
				t.Fatalf("Match(%q) = %q, %v; want no match", tt.in, got, ok)
			case tt.first != "":
				if len(suggestions) == 0 || suggestions[0] != tt.first || len(suggestions) > 3 {
					t.Fatalf("Match(%q) suggestions %q; want %q first, at most 3", tt.in, suggestions, tt.first)
				}
			default:
				if !slices.Equal(suggestions, tt.suggest) {
					t.Fatalf("Match(%q) suggestions %q; want %q", tt.in, suggestions, tt.suggest)
				}
			}
		})
	}
}

func TestMatcherSuffixesOnlyThoseGiven(t *testing.T) {
	t.Parallel()
	list := readList(t, "majors.txt")
	plain := NewMatcher(list)
	if _, ok, sug := plain.Match("电子商务专业"); ok || len(sug) == 0 || sug[0] != "电子商务" {
		t.Fatalf("without suffixes: ok=%v suggestions=%q; want a suggestion, not a match", ok, sug)
	}
	withSuffix := NewMatcher(list, "专业")
	if got, ok, _ := withSuffix.Match("电子商务专业"); !ok || got != "电子商务" {
		t.Fatalf("with 专业: %q, %v", got, ok)
	}
	if _, ok, _ := withSuffix.Match("电子商务方向"); ok {
		t.Fatal("方向 is not a given suffix but was stripped")
	}
}

func TestMatcherWithAliases(t *testing.T) {
	t.Parallel()
	majors, _ := matchers(t)
	m, err := majors.WithAliases(map[string]string{"电商": "电子商务", "跨境电商": "跨境电子商务"})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"电商":           "电子商务",
		"电商专业":         "电子商务",
		"XX学院电商":       "电子商务",
		"跨境电商":         "跨境电子商务",
		"某某职业学院跨境电商专业": "跨境电子商务",
		"电子商务":         "电子商务",
		"电商（线上方向）":     "电子商务",
	} {
		if got, ok, _ := m.Match(in); !ok || got != want {
			t.Errorf("Match(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok, _ := majors.Match("电商"); ok {
		t.Error("WithAliases changed the original matcher")
	}
	if _, err := majors.WithAliases(map[string]string{"会计": "会计学"}); err == nil {
		t.Error("alias to an entry not in the list accepted")
	}
	if _, err := majors.WithAliases(map[string]string{"电子商务": "市场营销"}); err == nil {
		t.Error("alias that redefines an entry accepted")
	}
	if _, err := majors.WithAliases(map[string]string{"“”": "市场营销"}); err == nil {
		t.Error("empty alias accepted")
	}
}

func TestMatcherConcurrent(t *testing.T) {
	t.Parallel()
	majors, _ := matchers(t)
	inputs := []string{"电子商务专业", "电子商物", "营销", "会计", "XX大学 市场营销"}
	want := make([][]string, len(inputs))
	for i, in := range inputs {
		c, _, s := majors.Match(in)
		want[i] = append([]string{c}, s...)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (i + g) % len(inputs)
				c, _, s := majors.Match(inputs[k])
				if got := append([]string{c}, s...); !slices.Equal(got, want[k]) {
					t.Errorf("Match(%q) = %q concurrently, %q alone", inputs[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkMatch(b *testing.B) {
	majors, _ := matchers(b)
	for _, bc := range []struct{ name, in string }{
		{"exact", "电子商务"},
		{"school_and_suffix", "浙江工商职业技术学院电子商务专业"},
		{"typo", "电子商物"},
		{"miss", "临床医学"},
		{"long_miss", strings.Repeat("我在一家公司做行政工作", 9)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				majors.Match(bc.in)
			}
		})
	}
}
