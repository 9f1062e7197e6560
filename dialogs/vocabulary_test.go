package dialogs_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"regbot/dialogs"
	"regbot/plans"
)

// outcome is what typing a title at a list question leads to.
type outcome struct {
	// entry is the list entry stored (a sure match).
	entry string
	// suggest are entries that must be among the "您是指…？" choices, the
	// first of them offered first.
	suggest []string
	// review: staff review is offered first (no suggestion).
	review bool
	// unlisted: not in the list, nothing similar: re-enter, keep or review.
	unlisted bool
}

// TestOccupationVocabulary types real job titles at the occupation
// question: list entries and 工种 are sure matches, everyday titles get
// suggestions, some go to staff first, unrelated ones are simply not in
// the list.
func TestOccupationVocabulary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typed string
		want  outcome
	}{
		// The list itself, as people type it.
		{"互联网营销师", outcome{entry: "互联网营销师"}},
		{"电子商务师", outcome{entry: "电子商务师"}},
		{"营销员", outcome{entry: "营销员"}},
		{"网络编辑", outcome{entry: "网络编辑"}},
		{"导游", outcome{entry: "导游"}},
		{"节目主持人", outcome{entry: "节目主持人"}},
		{"广告设计师职业", outcome{entry: "广告设计师"}},
		{"某某文化传媒公司网络编辑", outcome{entry: "网络编辑"}},
		{"互联网营销师（直播销售员）", outcome{entry: "互联网营销师"}},
		{" 电子商务师 ", outcome{entry: "电子商务师"}},
		// The four 工种 of 互联网营销师 are the occupation itself.
		{"直播销售员", outcome{entry: "互联网营销师"}},
		{"选品员", outcome{entry: "互联网营销师"}},
		{"视频创推员", outcome{entry: "互联网营销师"}},
		{"平台管理员", outcome{entry: "互联网营销师"}},
		{"网编", outcome{entry: "网络编辑"}},
		// Everyday titles: did you mean…?
		{"电商", outcome{suggest: []string{"电子商务师", "互联网营销师"}}},
		{"电商运营", outcome{suggest: []string{"电子商务师", "互联网营销师"}}},
		{"电商运营专员", outcome{suggest: []string{"电子商务师"}}},
		{"主播", outcome{suggest: []string{"互联网营销师", "节目主持人"}}},
		{"带货主播", outcome{suggest: []string{"互联网营销师"}}},
		{"直播运营", outcome{suggest: []string{"互联网营销师"}}},
		{"新媒体运营", outcome{suggest: []string{"互联网营销师", "网络编辑"}}},
		{"自媒体博主", outcome{suggest: []string{"互联网营销师"}}},
		{"短视频剪辑", outcome{suggest: []string{"互联网营销师"}}},
		{"网店店主", outcome{suggest: []string{"电子商务师"}}},
		{"淘宝店主", outcome{suggest: []string{"电子商务师"}}},
		{"微商", outcome{suggest: []string{"电子商务师"}}},
		{"跨境电商运营", outcome{suggest: []string{"电子商务师"}}},
		{"导购", outcome{suggest: []string{"营销员"}}},
		{"销售", outcome{suggest: []string{"营销员"}}},
		{"销售经理", outcome{suggest: []string{"营销员"}}},
		{"业务员", outcome{suggest: []string{"营销员"}}},
		{"市场专员", outcome{suggest: []string{"市场营销专业人员"}}},
		{"平面设计", outcome{suggest: []string{"广告设计师"}}},
		{"美工", outcome{suggest: []string{"装饰美工"}}},
		{"摄影师", outcome{suggest: []string{"商业摄影师"}}},
		{"主持人", outcome{suggest: []string{"节目主持人"}}},
		{"文案策划", outcome{suggest: []string{"商务策划专业人员"}}},
		{"数据分析师", outcome{suggest: []string{"数据分析处理工程技术人员"}}},
		{"电子商务员", outcome{suggest: []string{"电子商务师"}}},
		{"营销", outcome{suggest: []string{"营销员"}}},
		{"会展策划", outcome{suggest: []string{"会展策划专业人员"}}},
		{"品牌经理", outcome{suggest: []string{"品牌专业人员"}}},
		// Staff judge.
		{"客服", outcome{review: true}},
		{"电商客服", outcome{review: true}},
		{"营业员", outcome{review: true}},
		{"模特", outcome{review: true}},
		// Nothing to do with the list.
		{"厨师", outcome{unlisted: true}},
		{"司机", outcome{unlisted: true}},
		{"会计", outcome{unlisted: true}},
		{"护士", outcome{unlisted: true}},
	}
	if len(tests) < 40 {
		t.Fatalf("%d inputs, want at least 40", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			t.Parallel()
			c := newConversation(t, dialogs.Options{})
			c.say(atOccupation...)
			c.say(tt.typed)
			checkOutcome(t, c, tt.want)
		})
	}
}

// TestMajorVocabulary does the same at the major question.
func TestMajorVocabulary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typed string
		want  outcome
	}{
		{"电子商务", outcome{entry: "电子商务"}},
		{"浙江某某技师学院电子商务专业", outcome{entry: "电子商务"}},
		{"市场营销（数字营销方向）", outcome{entry: "市场营销"}},
		{"电商", outcome{entry: "电子商务"}},
		{"跨境电商", outcome{entry: "跨境电子商务"}},
		{"国贸", outcome{entry: "国际经济与贸易"}},
		{"播音主持", outcome{entry: "播音与主持艺术"}},
		{"新媒体", outcome{suggest: []string{"新媒体艺术", "网络与新媒体"}}},
		{"广告", outcome{suggest: []string{"广告学"}}},
		{"数字媒体", outcome{suggest: []string{"数字媒体艺术", "数字媒体艺术设计"}}},
		{"旅游", outcome{suggest: []string{"旅游管理"}}},
		{"营销", outcome{suggest: []string{"市场营销"}}},
		{"电子商物", outcome{suggest: []string{"电子商务"}}},
		{"计算机应用", outcome{review: true}},
		{"会计", outcome{review: true}},
		{"护理", outcome{unlisted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			t.Parallel()
			c := newConversation(t, dialogs.Options{})
			c.say(atMajor...)
			c.say(tt.typed)
			checkOutcome(t, c, tt.want)
		})
	}
}

func checkOutcome(t *testing.T, c *conversation, want outcome) {
	t.Helper()
	stored := ""
	if c.s.Draft != nil {
		stored = c.s.Draft.Occupation
	} else if v, ok := c.s.Answers["major"].(string); ok {
		stored = v
	}
	var labels []string
	for _, ch := range c.choices() {
		labels = append(labels, ch.Label)
	}
	switch {
	case want.entry != "":
		if stored != want.entry {
			t.Errorf("stored %q, want %q (%s)", stored, want.entry, c.lastText())
		}
	case len(want.suggest) > 0:
		if stored != "" || !strings.Contains(c.lastText(), "您是指") {
			t.Fatalf("stored %q, no suggestions: %s", stored, c.lastText())
		}
		for _, s := range want.suggest {
			if !slices.Contains(labels, s) {
				t.Errorf("suggestions %v lack %q", labels, s)
			}
		}
		if labels[0] != want.suggest[0] {
			t.Errorf("suggestions %v, want %q first", labels, want.suggest[0])
		}
	case want.review:
		if stored != "" || len(labels) == 0 || labels[0] != "转人工审核" {
			t.Errorf("stored %q, choices %v: want staff review first (%s)", stored, labels, c.lastText())
		}
	case want.unlisted:
		if stored != "" || !strings.Contains(c.lastText(), "不在") || slices.Contains(labels, "都不是") || labels[0] != "重新填写" {
			t.Errorf("stored %q, choices %v: want re-enter / keep / review (%s)", stored, labels, c.lastText())
		}
	}
}

// TestEveryListEntryIsAnAnswer types every entry of both lists, and
// employers named like real companies, at their questions: none is taken
// for a question (a question word inside a name, 咨询 in 管理咨询专业人员
// or in "企业管理咨询有限公司", must not make it one), each is stored.
func TestEveryListEntryIsAnAnswer(t *testing.T) {
	t.Parallel()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	type typed struct {
		setup      []string
		text, want string
	}
	var cases []typed
	for _, e := range plan.Lists["occupations"].Entries {
		cases = append(cases, typed{atOccupation, e, e})
	}
	for _, e := range plan.Lists["majors"].Entries {
		cases = append(cases, typed{atMajor, e, e})
	}
	for _, e := range []string{"杭州某某企业管理咨询有限公司", "浙江某某信息咨询服务有限公司", "某某咨询公司", "上海某某网络科技有限公司",
		"某某文化传媒工作室", "某某市场营销策划有限公司", "某某电子商务商行（个体工商户）", "哪吒某某科技有限公司"} {
		cases = append(cases, typed{atEmployer, e, ""})
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			c := newConversation(t, dialogs.Options{})
			c.say(tc.setup...)
			asked := c.asked()
			c.say(tc.text)
			for _, ev := range c.events {
				if ev.Kind == dialogs.EventEscalation {
					t.Fatalf("%q at %s went to staff as a question: %s", tc.text, asked, c.lastText())
				}
			}
			if c.asked() == asked {
				t.Fatalf("%q at %s was not taken: %s", tc.text, asked, c.lastText())
			}
			stored := ""
			switch {
			case c.s.Draft != nil && asked == "work_history.employer":
				stored = c.s.Draft.Employer
			case c.s.Draft != nil:
				stored = c.s.Draft.Occupation
			default:
				stored, _ = c.s.Answers["major"].(string)
			}
			if want := cmp.Or(tc.want, tc.text); stored != want {
				t.Errorf("stored %q, want %q", stored, want)
			}
		})
	}
}
