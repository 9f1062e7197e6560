package plans_test

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"regbot/bot/console"
	"regbot/bot/telegram"
	"regbot/bot/web"
	"regbot/bot/wechat"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
)

// The guide's footnotes, copied from the seed with its line breaks removed.
// The plan's lists must hold exactly these names.
const (
	footnoteOccupations = "电子商务师、营销员、市场营销专业人员、商务策划专业人员、广告设计师、品牌专业人员、" +
		"文化经纪人、播音员、讲解员、节目主持人、数字媒体艺术专业人员、网络编辑、摊商、经济与代理专业" +
		"人员、管理咨询专业人员、数据分析处理工程技术人员、装饰美工、印前处理和制作员、制图员、商业摄" +
		"影师、演出监督、陈列展览设计人员、导游、会展策划专业人员、会展设计师等，下同。"
	footnoteMajors = "市场营销、市场营销教育、电子商务、电子商务及法律、跨境电子商务、工商管理、" +
		"计算机动漫与游戏制作、客户信息服务、网站建设与管理、广播影视节目制作、播音与节目主持、影像与" +
		"影视技术、戏剧表演、动漫游戏、网页平面设计、数字影像技术、工艺美术、国际贸易实务、国际经济与" +
		"贸易、国际商务、经济信息管理、商务经济与代理、市场营销、广告策划与营销、移动商务、网络营销、" +
		"艺术设计、广告设计与制作、产品艺术设计、公共艺术设计、包装艺术设计、工艺美术品设计、动漫设计、" +
		"游戏设计、人物形象设计、表演艺术、文化创意策划、数字媒体艺术设计、新媒体艺术、广播电视编导、" +
		"播音与主持艺术、动画、网络与新媒体、戏剧影视导演、时尚传播、广告学、影视技术、影视摄影与制作、" +
		"摄影、录音艺术、音乐表演、舞蹈表演、戏剧影视文学、表演、戏剧影视美术设计、美术学、绘画、包装" +
		"设计、产品设计、视觉传达设计、环境设计、数字媒体艺术、艺术设计学、公共艺术、文化产业管理、导" +
		"游服务、会展服务与管理、会展策划与管理、旅游管理、会展经济与管理等，下同。"
)

// footnoteNames splits a footnote into its names, in order, each once.
func footnoteNames(footnote string) []string {
	var names []string
	for _, n := range strings.Split(strings.TrimSuffix(footnote, "等，下同。"), "、") {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

func parseDefault(t *testing.T) *dialogs.Plan {
	t.Helper()
	data, err := fs.ReadFile(plans.FS(), plans.DefaultFile)
	if err != nil {
		t.Fatalf("read embedded plan: %v", err)
	}
	p, err := dialogs.ParsePlan(data)
	if err != nil {
		t.Fatalf("parse embedded plan: %v", err)
	}
	return p
}

func TestDefaultLoads(t *testing.T) {
	t.Parallel()
	p, err := plans.Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	if p.ID != "internet-marketing-l4" || p.Occupation != "互联网营销师" || p.Title != "互联网营销师（四级/中级工）" {
		t.Fatalf("id %q, occupation %q, title %q", p.ID, p.Occupation, p.Title)
	}
}

func TestListsAreComplete(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	tests := []struct {
		name  string
		list  string
		want  []string
		count int
	}{
		{"occupations: this one and the 25 related", "occupations", append([]string{"互联网营销师"}, footnoteNames(footnoteOccupations)...), 26},
		{"majors: footnote ② with 市场营销 once", "majors", footnoteNames(footnoteMajors), 69},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := p.Lists[tt.list].Entries
			if len(tt.want) != tt.count {
				t.Fatalf("the footnote yields %d names, want %d", len(tt.want), tt.count)
			}
			if !slices.Equal(got, tt.want) {
				for _, w := range tt.want {
					if !slices.Contains(got, w) {
						t.Errorf("%s lacks %q", tt.list, w)
					}
				}
				for _, g := range got {
					if !slices.Contains(tt.want, g) {
						t.Errorf("%s has %q, not in the guide", tt.list, g)
					}
				}
				t.Fatalf("%s has %d names, want the guide's %d in its order", tt.list, len(got), len(tt.want))
			}
		})
	}
	if got := strings.Count(footnoteMajors, "、市场营销、"); got != 1 || !strings.HasPrefix(footnoteMajors, "市场营销、") {
		t.Fatalf("the seed copy should hold 市场营销 twice")
	}
}

func TestSlotsInOrder(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	want := []struct {
		key   string
		typ   dialogs.SlotType
		phase dialogs.Phase
	}{
		{"work_history", dialogs.SlotGroup, dialogs.PhaseEligibility},
		{"has_prior_cert", dialogs.SlotBool, dialogs.PhaseEligibility},
		{"prior_cert_date", dialogs.SlotMonth, dialogs.PhaseEligibility},
		{"has_training_cert", dialogs.SlotBool, dialogs.PhaseEligibility},
		{"training_hours", dialogs.SlotNumber, dialogs.PhaseEligibility},
		{"school_kind", dialogs.SlotChoice, dialogs.PhaseEligibility},
		{"major", dialogs.SlotText, dialogs.PhaseEligibility},
		{"graduation", dialogs.SlotChoice, dialogs.PhaseEligibility},
		{"name", dialogs.SlotName, dialogs.PhasePersonal},
		{"id_number", dialogs.SlotIDNumber, dialogs.PhasePersonal},
		{"id_expiry", dialogs.SlotDate, dialogs.PhasePersonal},
		{"mobile", dialogs.SlotMobile, dialogs.PhasePersonal},
	}
	if len(p.Slots) != len(want) {
		t.Fatalf("%d slots, want %d", len(p.Slots), len(want))
	}
	for i, w := range want {
		s := p.Slots[i]
		if s.Key != w.key || s.Type != w.typ || s.Phase != w.phase {
			t.Errorf("slot %d is %s/%s/%s, want %s/%s/%s", i+1, s.Key, s.Type, s.Phase, w.key, w.typ, w.phase)
		}
		if s.Label == "" || s.Hint == "" {
			t.Errorf("slot %s needs a label and a hint", s.Key)
		}
	}
	group := p.Slots[0]
	var fields []string
	for _, f := range group.Fields {
		fields = append(fields, f.Key)
		if f.Label == "" || f.Ask == "" || f.Hint == "" {
			t.Errorf("work_history.%s needs label, ask and hint", f.Key)
		}
	}
	if !slices.Equal(fields, []string{"employer", "occupation", "start", "end"}) {
		t.Errorf("work_history fields %v", fields)
	}
	if occ := group.Fields[1]; occ.List != "occupations" {
		t.Errorf("work_history.occupation list %q, want occupations", occ.List)
	}
	if end := group.Fields[3]; !strings.Contains(end.Ask, "至今") {
		t.Errorf("work_history.end does not say how to answer 至今: %q", end.Ask)
	}
	// The engine's tests answer choices by number: the order is part of the plan.
	choiceIDs := func(key string) []string {
		s, _ := p.Slot(key)
		var ids []string
		for _, c := range s.Choices {
			ids = append(ids, c.ID)
		}
		return ids
	}
	if got := choiceIDs("school_kind"); !slices.Equal(got, []string{"technical", "vocational", "none"}) {
		t.Errorf("school_kind choices %v", got)
	}
	if got := choiceIDs("graduation"); !slices.Equal(got, []string{"graduated", "final_year", "other"}) {
		t.Errorf("graduation choices %v", got)
	}
	for _, key := range []string{"id_number", "mobile"} {
		if s, _ := p.Slot(key); !s.Sensitive {
			t.Errorf("%s must be sensitive", key)
		}
	}
}

// TestConditionsMatchTheGuide checks the materials table (DOMAIN.md §3), the
// form rules that apply and that every miss placeholder names a value.
func TestConditionsMatchTheGuide(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	common := []string{"id_card_front", "id_card_back", "photo", "application_form"}
	want := map[string][]string{
		"C1": append(slices.Clone(common), "work_commitment", "personal_work_commitment", "prior_cert"),
		"C2": append(slices.Clone(common), "work_commitment"),
		"C3": append(slices.Clone(common), "work_commitment", "training_commitment"),
		"C4": append(slices.Clone(common), "graduation_cert", "education_commitment"),
	}
	rulesWant := map[string][]string{
		"C1": {"handwritten", "occupation_field", "employer_periods", "only_chosen_condition", "paper_forms"},
		"C2": {"handwritten", "occupation_field", "employer_periods", "only_chosen_condition", "paper_forms"},
		"C3": {"handwritten", "occupation_field", "employer_periods", "training_only", "only_chosen_condition", "paper_forms"},
		"C4": {"handwritten", "major_field", "only_chosen_condition", "paper_forms"},
	}
	values := map[string]bool{}
	for _, s := range p.Slots {
		values[s.Key] = true
	}
	for _, d := range p.Derived {
		values[d.Key] = true
	}
	placeholder := regexp.MustCompile(`\{([a-z_]+)\}`)
	var keys []string
	for _, c := range p.Conditions {
		keys = append(keys, c.Key)
		if !slices.Equal(c.Materials, want[c.Key]) {
			t.Errorf("%s materials %v, want %v", c.Key, c.Materials, want[c.Key])
		}
		if !slices.Equal(c.FormRules, rulesWant[c.Key]) {
			t.Errorf("%s form rules %v, want %v", c.Key, c.FormRules, rulesWant[c.Key])
		}
		if c.Title == "" || c.Short == "" {
			t.Errorf("%s needs a title and a short", c.Key)
		}
		for _, cl := range c.All {
			if cl.Miss == "" {
				t.Errorf("%s: clause %q has no miss text", c.Key, cl.Expr)
			}
			for _, m := range placeholder.FindAllStringSubmatch(cl.Miss+cl.Have, -1) {
				if !values[m[1]] {
					t.Errorf("%s: miss %q names {%s}, not a slot or derived value", c.Key, cl.Miss+cl.Have, m[1])
				}
			}
		}
	}
	// Conditions are shown as the guide numbers them.
	for i, label := range []string{"第（一）条", "第（二）条", "第（三）条", "第（四）条"} {
		if got := p.Conditions[i].Label; got != label {
			t.Errorf("%s label %q, want %q", p.Conditions[i].Key, got, label)
		}
	}
	if !slices.Equal(keys, []string{"C1", "C2", "C3", "C4"}) {
		t.Fatalf("conditions %v", keys)
	}
	c3, _ := p.Condition("C3")
	if !slices.ContainsFunc(c3.All, func(cl dialogs.Clause) bool {
		return cl.Expr == "training_hours >= 104" && strings.Contains(cl.Have, "{training_hours}")
	}) {
		t.Errorf("C3 does not require 104 hours with the candidate's hours in its explanation")
	}
	c4, _ := p.Condition("C4")
	if len(c4.Escalate) != 1 || c4.Escalate[0].Material != "graduation_cert" || !strings.Contains(c4.Escalate[0].If, "final_year") {
		t.Errorf("C4 does not send final-year students' 毕业证书 to staff: %+v", c4.Escalate)
	}
}

func TestMaterials(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	files := map[string]string{
		"id_card_front": "身份证人像面.jpg", "id_card_back": "身份证国徽面.jpg", "photo": "一寸照片.jpg",
		"application_form": "申报表.jpg", "work_commitment": "工作经历承诺书.jpg",
		"personal_work_commitment": "个人工作经历承诺书.jpg", "prior_cert": "上一级别证书.jpg",
		"training_commitment": "培训经历承诺书.jpg", "graduation_cert": "毕业证书.jpg",
		"education_commitment": "个人学历承诺书.jpg",
	}
	if len(p.Materials) != len(files) {
		t.Fatalf("%d materials, want %d", len(p.Materials), len(files))
	}
	for _, m := range p.Materials {
		if files[m.Key] != m.FileName {
			t.Errorf("%s file name %q, want %q", m.Key, m.FileName, files[m.Key])
		}
		// A face or an ID card is encrypted at rest.
		if sensitive := m.Key == "photo" || strings.HasPrefix(m.Key, "id_card_"); m.Sensitive != sensitive {
			t.Errorf("%s sensitive %v, want %v", m.Key, m.Sensitive, sensitive)
		}
		handwritten := m.Key == "application_form" || strings.HasSuffix(m.Key, "_commitment")
		if m.Checks.Handwritten != handwritten {
			t.Errorf("%s handwritten %v, want %v", m.Key, m.Checks.Handwritten, handwritten)
		}
		if len(m.Checks.Formats) == 0 || m.Checks.MaxBytes == 0 || m.Checks.MinWidth == 0 {
			t.Errorf("%s has no format, size or resolution check: %+v", m.Key, m.Checks)
		}
	}
	photo, _ := p.Material("photo")
	want := dialogs.MaterialChecks{
		Formats: []string{"jpeg"}, MinBytes: 40960, MaxBytes: 81920, MinWidth: 295, MinHeight: 413,
		Ratio: "5:7", RatioTolerance: 0.03, WhiteBackground: true, Fixable: true,
	}
	if got := photo.Checks; !slices.Equal(got.Formats, want.Formats) || got.MinBytes != want.MinBytes ||
		got.MaxBytes != want.MaxBytes || got.MinWidth != want.MinWidth || got.MinHeight != want.MinHeight ||
		got.Ratio != want.Ratio || got.RatioTolerance != want.RatioTolerance ||
		got.WhiteBackground != want.WhiteBackground || got.Fixable != want.Fixable {
		t.Errorf("photo checks %+v, want %+v", got, want)
	}
	for _, key := range []string{"id_card_front", "id_card_back"} {
		if m, _ := p.Material(key); !m.Checks.CheckIDExpiry {
			t.Errorf("%s does not check the ID expiry", key)
		}
	}
}

// TestTexts checks the plan's texts against every text the engine says:
// none missing, no unknown placeholder, no key the engine does not use.
func TestTexts(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	if err := p.CheckTexts(true, dialogs.TextKeys, materials.TextKeys, web.TextKeys, telegram.TextKeys, wechat.TextKeys, console.TextKeys); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"上一步", "返回", "修改", "重新开始", "进度", "帮助", "转人工"} {
		if !strings.Contains(p.Texts["help"], cmd) {
			t.Errorf("help does not list %s", cmd)
		}
	}
	if p.Texts["busy"] != "系统繁忙，请稍后再试。" {
		t.Errorf("busy is %q", p.Texts["busy"])
	}
	// The candidate is addressed as 您 everywhere, and no text claims a
	// naming rule the official guide does not have.
	for key, text := range p.Texts {
		if strings.Contains(strings.ReplaceAll(text, "您", ""), "你") {
			t.Errorf("texts.%s says 你: %q", key, text)
		}
		if strings.Contains(text, "官网要求命名") {
			t.Errorf("texts.%s claims an official naming rule: %q", key, text)
		}
	}
	// Not only the texts: FAQ answers, questions, hints, material asks,
	// conditions and the guide say 您 too (only the greetings candidates
	// type hold 你).
	data, err := fs.ReadFile(plans.FS(), plans.DefaultFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "greetings:") {
			continue
		}
		if strings.Contains(line, "你") {
			t.Errorf("line %d says 你: %s", i+1, trimmed)
		}
	}
	for key, words := range p.Commands {
		if len(words) == 0 {
			t.Errorf("commands.%s has no words", key)
		}
	}
}

// TestRegistrationFollowsTheGuide checks the guide's separate steps
// (身份选择, then 个人信息填写) and that the upload step names the condition
// to tick.
func TestRegistrationFollowsTheGuide(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	identity, personal, tick := -1, -1, -1
	for i, step := range p.Registration {
		switch {
		case strings.HasPrefix(step, "身份选择"):
			identity = i
		case strings.HasPrefix(step, "个人信息填写"):
			personal = i
		case strings.Contains(step, "{condition}"):
			tick = i
		}
	}
	if identity < 0 || personal != identity+1 {
		t.Errorf("个人信息填写 is not its own step after 身份选择 (%d, %d)", identity, personal)
	}
	if tick < personal {
		t.Errorf("no step after 个人信息填写 names the condition to tick")
	}
}

// TestFAQ checks the FAQ: the questions people ask are there, each with
// keywords, and the list answers name every list entry.
func TestFAQ(t *testing.T) {
	t.Parallel()
	p := parseDefault(t)
	if len(p.FAQ) < 12 {
		t.Fatalf("%d FAQ entries, want at least 12", len(p.FAQ))
	}
	keys := map[string]bool{}
	for _, f := range p.FAQ {
		keys[f.Key] = true
		if len(f.Keywords) == 0 || strings.TrimSpace(f.Answer) == "" {
			t.Errorf("faq %s needs keywords and an answer", f.Key)
		}
	}
	for _, k := range []string{"fee", "review_time", "review_rejected", "ticket", "photo", "id_card", "handwriting",
		"related_occupations", "related_majors", "website", "worker_identity", "training", "template", "about",
		"materials", "registered"} {
		if !keys[k] {
			t.Errorf("faq %s is missing", k)
		}
	}
	lists := map[string]string{"related_occupations": "occupations", "related_majors": "majors"}
	for _, f := range p.FAQ {
		list, ok := lists[f.Key]
		if !ok {
			continue
		}
		for _, name := range p.Lists[list].Entries {
			if !strings.Contains(f.Answer, name) {
				t.Errorf("faq %s does not name %s", f.Key, name)
			}
		}
	}
}
