package dialogs_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/materials"
	"regbot/store"
)

// Scripts that bring a candidate to a question (today is 2026-11-28).
var (
	atStart      = []string{}
	atEmployer   = []string{"是"}
	atOccupation = []string{"是", "杭州某某电子商务有限公司"}
	atStartMonth = []string{"是", "杭州某某电子商务有限公司", "电子商务师"}
	atEndMonth   = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03"}
	atMore       = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "2020-12"}
	// Three years of work: 第（一）条 still possible, its certificate asked.
	atPriorCert = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-01", "2022-12", "否"}
	atCertDate  = append(slices.Clone(atPriorCert), "是")
	// Two and a half years: only 第（三）条 is left among the work conditions.
	atTraining = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-01", "2022-06", "否"}
	atHours    = append(slices.Clone(atTraining), "是")
	atSchool   = []string{"否"}
	atMajor    = []string{"否", "1"}
	atGrad     = []string{"否", "1", "电子商务"}
	atName     = slices.Clone(workC2)
	atIDNumber = append(slices.Clone(workC2), "张三")
	atExpiry   = append(slices.Clone(workC2), "张三", "11010519491231002X")
	atMobile   = append(slices.Clone(workC2), "张三", "11010519491231002X", "2035-01-01")
	atUpload   = append(slices.Clone(workC2), "张三", "11010519491231002X", "2035-01-01", "13800138000")
)

// img stands, in a script, for an image: a picture of its own for every
// seed (the same seed is the same file).
func img(seed int) string { return "\x00img:" + strconv.Itoa(seed) }

// script sends texts, and images where img put them.
func (c *conversation) script(msgs ...string) {
	c.t.Helper()
	for _, m := range msgs {
		if seed, ok := strings.CutPrefix(m, "\x00img:"); ok {
			n, _ := strconv.Atoi(seed)
			c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(c.t, 320, 448, uint64(n))}})
			continue
		}
		c.send(dialogs.Inbound{Text: m})
	}
}

// Every material of 第（二）条 sent: the last message is the last upload.
var (
	atLastUpload = append(slices.Clone(atUpload), img(501), img(502), img(503), img(504))
	atFinished   = append(slices.Clone(atLastUpload), img(505))
)

// conditionKey finds a condition's key (C2) standing on its own.
var conditionKey = regexp.MustCompile(`(^|[^A-Za-z0-9])C[1-4]($|[^A-Za-z0-9])`)

// reaction is what a message is expected to cause.
type reaction struct {
	// ask is the question asked at the end ("" for none).
	ask string
	// says are parts of the reply; never parts that must not be in it.
	says, never []string
	// kept: the answers are exactly as before (nothing stored).
	kept bool
	// check looks at the session after the message.
	check func(t *testing.T, s *dialogs.Session)
	// escalates: the message opens a ticket.
	escalates bool
}

// state returns the session's answers, work history and draft as JSON,
// to compare before and after a message.
func state(s *dialogs.Session) string {
	data, _ := json.Marshal(struct {
		A any
		W any
		D any
		M any
	}{s.Answers, s.Work, s.Draft, s.Materials})
	return string(data)
}

func answerIs(key string, want any) func(t *testing.T, s *dialogs.Session) {
	return func(t *testing.T, s *dialogs.Session) {
		t.Helper()
		if got, ok := s.Answers[key]; !ok || got != want {
			t.Errorf("answer %s = %v (set %v), want %v", key, got, ok, want)
		}
	}
}

func draftOccupation(want string, related bool) func(t *testing.T, s *dialogs.Session) {
	return func(t *testing.T, s *dialogs.Session) {
		t.Helper()
		if s.Draft == nil || s.Draft.Occupation != want || s.Draft.Related != related {
			t.Errorf("draft %+v, want occupation %q related %v", s.Draft, want, related)
		}
	}
}

func draftField(field, want string) func(t *testing.T, s *dialogs.Session) {
	return func(t *testing.T, s *dialogs.Session) {
		t.Helper()
		if s.Draft == nil {
			t.Fatalf("no draft, want %s %q", field, want)
		}
		got := map[string]string{"employer": s.Draft.Employer, "start": s.Draft.Start, "end": s.Draft.End}[field]
		if got != want {
			t.Errorf("draft %s %q, want %q", field, got, want)
		}
	}
}

// TestCandidateMessages is the table of what candidates send at each step
// (answers, questions, commands, everyday titles, typos) and the reaction
// each must get. It holds every example of issue 12.
func TestCandidateMessages(t *testing.T) {
	t.Parallel()
	noRaw := []string{"{", "}"}
	tests := []struct {
		name  string
		setup []string
		msg   string
		want  reaction
	}{
		// Issue 12: a question is never stored as an answer.
		{"question in the not-in-list choices is answered, not stored", append(slices.Clone(atOccupation), "厨师"), "要交多少钱？",
			reaction{ask: "work_history.occupation", says: []string{"缴费", "厨师"}, kept: true}},
		{"after the question, choice 2 keeps what was typed, not the question", append(slices.Clone(atOccupation), "厨师", "要交多少钱？"), "2",
			reaction{ask: "work_history.start", never: []string{"多少钱"}, check: draftOccupation("厨师", false)}},
		{"a question in did-you-mean choices", append(slices.Clone(atOccupation), "电商"), "审核要几天？",
			reaction{ask: "work_history.occupation", says: []string{"2 个工作日", "您是指"}, kept: true}},
		{"question typed as an employer goes to staff, not into the answer", atEmployer, "你们是官方的吗？",
			reaction{ask: "work_history.employer", says: []string{"工单号"}, kept: true, escalates: true}},
		// Issue 12: the FAQ never takes over answers.
		{"没有，考试没通过 is a no", atPriorCert, "没有，考试没通过",
			reaction{ask: "has_training_cert", never: []string{"查看原因"}, check: answerIs("has_prior_cert", false)}},
		{"照片有什么要求 at a month question", atStartMonth, "照片有什么要求",
			reaction{ask: "work_history.start", says: []string{"40–80KB"}, never: []string{"格式填写年月"}, kept: true}},
		{"审核要几天 at an upload", atUpload, "审核要几天",
			reaction{ask: "id_card_front", says: []string{"2 个工作日"}, never: []string{"请直接发送图片"}, kept: true}},
		{"费用多少 at a yes/no question", atPriorCert, "费用多少",
			reaction{ask: "has_prior_cert", says: []string{"待缴费"}, kept: true}},
		{"照片要求 typed at a free-text question", atEmployer, "照片要求",
			reaction{ask: "work_history.employer", says: []string{"40–80KB"}, kept: true}},
		{"an employer with a FAQ word in it is an employer", atEmployer, "杭州照片科技有限公司",
			reaction{ask: "work_history.occupation", check: draftField("employer", "杭州照片科技有限公司")}},
		{"an unknown question is not stored and goes to staff", atStartMonth, "你们办公室在哪里？",
			reaction{ask: "work_history.start", says: []string{"暂时答不了", "工单号"}, kept: true, escalates: true}},
		{"related occupations listed at the occupation question", atOccupation, "相关职业有哪些？",
			reaction{ask: "work_history.occupation", says: []string{"网络编辑", "会展设计师"}, kept: true}},
		{"is it related? is a question", atOccupation, "电子商务师算不算相关职业？",
			reaction{ask: "work_history.occupation", says: []string{"相关职业有"}, kept: true}},
		{"what is 互联网营销师", atStart, "什么是互联网营销师？",
			reaction{ask: "work_history.more", says: []string{"四级/中级工职业技能等级认定"}, kept: true}},
		{"website", atSchool, "官网网址是多少",
			reaction{ask: "school_kind", says: []string{"jinengpingjia.com"}, kept: true}},
		{"identity to choose", atName, "选什么身份？",
			reaction{ask: "name", says: []string{"职工身份"}, kept: true}},
		{"training hours question at the hours question", atHours, "培训学时要求是多少？",
			reaction{ask: "training_hours", says: []string{"104"}, kept: true}},
		{"materials question names what is still missing", atName, "需要准备哪些材料？",
			reaction{ask: "name", says: []string{"第（二）条", "身份证人像面照片", "工作经历承诺书"}, kept: true}},
		{"template question before a condition", atStart, "申报表模板在哪下载？",
			reaction{ask: "work_history.more", says: []string{"证件信息上传"}, kept: true}},
		{"handwriting", atUpload, "申报表可以打印吗？",
			reaction{ask: "id_card_front", says: []string{"手写"}, kept: true}},
		{"final-year student", atGrad, "应届生可以报名吗？",
			reaction{ask: "graduation", says: []string{"应届毕业生"}, kept: true}},
		{"expired ID card", atExpiry, "身份证过期了怎么办？",
			reaction{ask: "id_expiry", says: []string{"有效期内"}, kept: true}},
		{"conditions", atSchool, "报名条件是什么？",
			reaction{ask: "school_kind", says: []string{"第（一）条", "第（四）条"}, kept: true}},
		{"order of uploads", atUpload, "材料要按顺序发吗？",
			reaction{ask: "id_card_front", says: []string{"不用按顺序"}, kept: true}},
		// Answers, including what people really type.
		{"yes with its object", atTraining, "有结业证书",
			reaction{ask: "training_hours", check: answerIs("has_training_cert", true)}},
		{"参加过培训", atTraining, "参加过培训",
			reaction{ask: "training_hours", check: answerIs("has_training_cert", true)}},
		{"hours with a unit", atHours, "120学时",
			reaction{ask: "name", check: answerIs("training_hours", 120.0)}},
		{"hours in Chinese numerals", atHours, "一百零四",
			reaction{ask: "name", check: answerIs("training_hours", 104.0)}},
		{"hours below the standard", atHours, "96",
			reaction{ask: "school_kind", check: answerIs("training_hours", 96.0)}},
		{"year and month in Chinese", atStartMonth, "2021年3月",
			reaction{ask: "work_history.end", check: draftField("start", "2021-03")}},
		{"month without a leading zero", atStartMonth, "2021-3",
			reaction{ask: "work_history.end", check: draftField("start", "2021-03")}},
		{"full-width month", atStartMonth, "２０２１－０３",
			reaction{ask: "work_history.end", check: draftField("start", "2021-03")}},
		{"至今", atEndMonth, "至今",
			reaction{ask: "work_history.more", check: func(t *testing.T, s *dialogs.Session) {
				if len(s.Work) != 1 || s.Work[0].End != "至今" {
					t.Errorf("work %+v", s.Work)
				}
			}}},
		{"a future month is refused", atStartMonth, "2099-01",
			reaction{ask: "work_history.start", says: []string{"不能晚于当前月份（2026年11月）"}, kept: true}},
		{"words at a month question are refused", atStartMonth, "前年",
			reaction{ask: "work_history.start", says: []string{"格式"}, kept: true}},
		{"yes with a full stop", atStart, "是的。",
			reaction{ask: "work_history.employer"}},
		{"Y", atStart, "Y", reaction{ask: "work_history.employer"}},
		{"a choice by a part of its label", atGrad, "应届",
			reaction{ask: "name", check: answerIs("graduation", "final_year"), escalates: true}},
		{"a choice by its short name", atSchool, "技工",
			reaction{ask: "major", check: answerIs("school_kind", "technical")}},
		{"a choice by number", atSchool, "2",
			reaction{ask: "major", check: answerIs("school_kind", "vocational")}},
		{"a school in front of the major", atMajor, "浙江某某技师学院 电子商务专业",
			reaction{ask: "graduation", check: answerIs("major", "电子商务")}},
		{"电商 as a major", atMajor, "电商",
			reaction{ask: "graduation", check: answerIs("major", "电子商务")}},
		{"a typo in the major", atMajor, "电子商物",
			reaction{ask: "major", says: []string{"您是指"}, kept: true}},
		{"a name with a space", atName, "张 三",
			reaction{ask: "id_number", check: answerIs("name", "张三")}},
		{"an ID number with spaces", atIDNumber, "110105 19491231 002x",
			reaction{ask: "id_expiry", check: answerIs("id_number", "11010519491231002X")}},
		{"a wrong check digit", atIDNumber, "110105194912310021",
			reaction{ask: "id_number", says: []string{"校验位"}, kept: true}},
		{"长期", atExpiry, "长期", reaction{ask: "mobile", check: answerIs("id_expiry", "长期")}},
		{"a mobile with spaces", atMobile, "138 0013 8000",
			reaction{ask: "id_card_front", check: answerIs("mobile", "13800138000")}},
		// Everyday job titles (more in TestOccupationVocabulary).
		{"直播销售员 is 互联网营销师 itself", atOccupation, "直播销售员",
			reaction{ask: "work_history.start", says: []string{"工种"}, check: draftOccupation("互联网营销师", true)}},
		{"电商 gets suggestions", atOccupation, "电商",
			reaction{ask: "work_history.occupation", says: []string{"您是指"}, kept: true}},
		{"主播 gets suggestions", atOccupation, "主播",
			reaction{ask: "work_history.occupation", says: []string{"您是指"}, kept: true}},
		{"客服 is an occupation here, not a command", atOccupation, "客服",
			reaction{ask: "work_history.occupation", says: []string{"不在相关职业名单中"}, kept: true}},
		// Commands.
		{"progress", atOccupation, "进度",
			reaction{ask: "work_history.occupation", says: []string{"【您的报名进度】"}, kept: true}},
		{"help", atStartMonth, "帮助",
			reaction{ask: "work_history.start", says: []string{"可用指令"}, kept: true}},
		{"back", atOccupation, "上一步",
			reaction{ask: "work_history.employer", kept: true}},
		{"a person", atStartMonth, "转人工",
			reaction{says: []string{"已为您转接人工", "工单号"}, kept: true, escalates: true}},
		{"restart asks first", atName, "重新开始",
			reaction{ask: "name", says: []string{"确定要重新开始吗"}, kept: true}},
		{"restart cancelled", append(slices.Clone(atName), "重新开始"), "取消",
			reaction{ask: "name", says: []string{"保留您的回答"}, kept: true}},
		{"restart confirmed", append(slices.Clone(atName), "重新开始"), "1",
			reaction{ask: "work_history.more", says: []string{"已清空"}, check: func(t *testing.T, s *dialogs.Session) {
				if len(s.Work) != 0 || len(s.Answers) != 0 {
					t.Errorf("not cleared: %+v %+v", s.Work, s.Answers)
				}
			}}},
		{"the package before any upload", atName, "材料包",
			reaction{ask: "name", says: []string{"还没有上传"}, kept: true}},
		{"a greeting mid-conversation", atOccupation, "你好",
			reaction{ask: "work_history.occupation", says: []string{"您好"}, never: []string{"欢迎回来"}, kept: true}},
		// Numbers pick every offered choice.
		{"1) 转人工 at a month question", append(slices.Clone(atStartMonth), "abc", "2099-01", "昨天"), "1",
			reaction{says: []string{"已为您转接人工"}, kept: true, escalates: true}},
		{"3) 转人工 at a yes/no question", append(slices.Clone(atPriorCert), "也许", "不知道", "可能吧"), "3",
			reaction{says: []string{"已为您转接人工"}, escalates: true, kept: true}},
		{"the person offer is said once", append(slices.Clone(atStartMonth), "abc", "2099-01", "昨天"), "前天",
			reaction{ask: "work_history.start", never: []string{"好像一直没填对"}, kept: true}},
		// Uploads.
		{"later at an upload", atUpload, "我明天再发",
			reaction{ask: "id_card_front", says: []string{"不着急"}, never: []string{"请直接发送图片"}, kept: true}},
		{"a material named at an upload", atUpload, "我先发申报表",
			reaction{ask: "application_form", kept: true}},
		{"another material first: which one, no picture was sent", atUpload, "先发其他材料",
			reaction{ask: "id_card_front", says: []string{"您想先发哪一份材料"}, never: []string{"收到一张图片", "身份证人像面照片"}, kept: true}},
		{"another material first, by its number", atUpload, "1",
			reaction{ask: "id_card_front", says: []string{"您想先发哪一份材料"}, kept: true}},
		{"the material chosen next is asked", append(slices.Clone(atUpload), "先发其他材料"), "3",
			reaction{ask: "application_form", kept: true}},
		{"text where an image is asked", atUpload, "好的",
			reaction{ask: "id_card_front", says: []string{"请直接发送图片"}, kept: true}},
		// Issue 12, example by example.
		{"直播销售员 then 要交多少钱？: answered, the occupation kept, the question not stored", append(slices.Clone(atOccupation), "直播销售员"), "要交多少钱？",
			reaction{ask: "work_history.start", says: []string{"缴费"}, kept: true, check: draftOccupation("互联网营销师", true)}},
		{"要交多少钱？ as the start month is not a month", atStartMonth, "要交多少钱？",
			reaction{ask: "work_history.start", says: []string{"现在还不需要缴费"}, never: []string{"格式填写年月"}, kept: true}},
		{"电商运营 gets suggestions", atOccupation, "电商运营",
			reaction{ask: "work_history.occupation", says: []string{"您是指", "电子商务师"}, kept: true}},
		{"新媒体运营 gets suggestions", atOccupation, "新媒体运营",
			reaction{ask: "work_history.occupation", says: []string{"您是指", "互联网营销师"}, kept: true}},
		{"网店店主 gets suggestions", atOccupation, "网店店主",
			reaction{ask: "work_history.occupation", says: []string{"您是指", "电子商务师"}, kept: true}},
		{"导购 gets suggestions", atOccupation, "导购",
			reaction{ask: "work_history.occupation", says: []string{"您是指", "营销员"}, kept: true}},
		{"a 工种 of 互联网营销师 (选品员) counts as it", atOccupation, "选品员",
			reaction{ask: "work_history.start", check: draftOccupation("互联网营销师", true)}},
		{"a suggestion picked by number", append(slices.Clone(atOccupation), "电商"), "1",
			reaction{ask: "work_history.start", check: draftOccupation("电子商务师", true)}},
		{"a number with its label, as a numbered list shows it", atStart, "1. 是",
			reaction{ask: "work_history.employer"}},
		{"a number with its label after 、", atPriorCert, "2、否",
			reaction{ask: "has_training_cert", check: answerIs("has_prior_cert", false)}},
		{"a number whose label does not match is no choice", atPriorCert, "1、否",
			reaction{ask: "has_prior_cert", says: []string{"是"}, kept: true}},
		{"an estimated month", atStartMonth, "大概2020年3月吧",
			reaction{ask: "work_history.end", check: draftField("start", "2020-03")}},
		{"the same picture as both sides of the ID card", append(slices.Clone(atUpload), img(601)), img(601),
			reaction{ask: "id_card_back", says: []string{"同一张"}, kept: true}},
		{"the last material: the registration guide with 个人信息填写 and the condition to tick", atLastUpload, img(505),
			reaction{says: []string{"身份选择", "个人信息填写", "请点选申报条件第（二）条"}, never: []string{"C2"}}},
		{"你好 after finishing is greeted, not welcomed back", atFinished, "你好",
			reaction{says: []string{"您好"}, never: []string{"欢迎回来"}, kept: true}},
		{"材料包 without a link does not promise a download", atFinished, "材料包",
			reaction{says: []string{"转人工"}, never: []string{"可下载", "回复“材料包”"}, kept: true}},
		{"a question after finishing gets the answer for the status", atFinished, "审核要几天",
			reaction{says: []string{"2 个工作日"}, kept: true}},
		{"C1 short of years after the certificate: the years since it shown", append(slices.Clone(atPriorCert[:3]), "2023-06", "至今", "否", "是", "2024-06", "否"), "3",
			reaction{says: []string{"第（一）条", "取得证书后", "您目前是 2年6个月"}, never: noRaw}},
		// Questions people type without a question mark, where any text
		// could be the answer.
		{"证件照要多大 is no name", atName, "证件照要多大",
			reaction{ask: "name", says: []string{"40–80KB"}, kept: true}},
		{"a FAQ word without a question word is no name either", atName, "照片要求",
			reaction{ask: "name", says: []string{"40–80KB"}, kept: true}},
		{"我想知道… is a question, not a name", atName, "我想知道考试地点",
			reaction{ask: "name", says: []string{"暂时答不了"}, kept: true, escalates: true}},
		{"申报表怎么填 gets the form rules for the condition", atName, "申报表怎么填",
			reaction{ask: "name", says: []string{"标红", "第（二）条", "全称"}, kept: true}},
		{"需要培训吗: only for 第（三）条", atName, "需要培训吗",
			reaction{ask: "name", says: []string{"只有按第（三）条"}, kept: true}},
		{"能否… at the ID number is a question, not a bad ID number", atIDNumber, "能否线上考试",
			reaction{ask: "id_number", says: []string{"暂时答不了"}, never: []string{"身份证号码只能"}, kept: true, escalates: true}},
		{"how work is proven", atUpload, "工作经历怎么证明",
			reaction{ask: "id_card_front", says: []string{"工作经历承诺书"}, kept: true}},
		{"no graduation certificate", atSchool, "没有毕业证怎么办",
			reaction{ask: "school_kind", says: []string{"第（四）条"}, kept: true}},
		{"a lost ID card at the ID number is no ID number", atIDNumber, "身份证丢了",
			reaction{ask: "id_number", says: []string{"转人工"}, never: []string{"只能包含数字"}, kept: true}},
		{"a student asks", atStart, "我是学生可以报名吗",
			reaction{ask: "work_history.more", says: []string{"应届毕业生"}, kept: true}},
		{"an employer whose name holds a question word", atEmployer, "杭州某某企业管理咨询有限公司",
			reaction{ask: "work_history.occupation", check: draftField("employer", "杭州某某企业管理咨询有限公司")}},
		{"a listed occupation holding a question word", atOccupation, "管理咨询专业人员",
			reaction{ask: "work_history.start", check: draftOccupation("管理咨询专业人员", true)}},
		{"咨询 said to ask is still a question", atEmployer, "我想咨询一下考试地点",
			reaction{ask: "work_history.employer", says: []string{"暂时答不了"}, kept: true, escalates: true}},
		{"承诺书 names the one letter 第（二）条 needs", atUpload, "承诺书",
			reaction{ask: "work_commitment", kept: true}},
		{"身份证反面 is the 国徽面", atUpload, "身份证反面",
			reaction{ask: "id_card_back", kept: true}},
		// Issue 12: no raw placeholder, every gap named.
		{"no work and no school: every gap of the nearest condition", atSchool, "3",
			reaction{says: []string{"第（一）条", "需先取得", "取得证书后需累计"}, never: noRaw}},
		{"years shown once the history is complete", atMore, "否",
			reaction{ask: "school_kind", says: []string{"相关工作累计 10个月"}, never: noRaw}},
		{"96 hours: the gap names the hours", append(slices.Clone(atHours), "96"), "3",
			reaction{says: []string{"第（三）条", "104 学时", "您填写的是 96 学时"}, never: noRaw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newConversation(t, dialogs.Options{})
			c.script(tt.setup...)
			before, escalations := state(c.s), len(c.events)
			c.script(tt.msg)
			text := c.lastText()
			for _, ch := range c.choices() {
				text += "\n[" + ch.Label + "]"
			}
			// Whatever the message: the candidate is 您, conditions are
			// the guide's 第（…）条, no placeholder is left raw, and no
			// naming rule is claimed that the official guide does not have.
			for _, bad := range []string{"你", "{", "}", "官网要求命名"} {
				if strings.Contains(text, bad) {
					t.Errorf("reply says %q:\n%s", bad, text)
				}
			}
			if key := conditionKey.FindString(text); key != "" { // not inside a ticket code
				t.Errorf("reply names the condition key %q:\n%s", key, text)
			}
			if c.asked() != tt.want.ask {
				t.Errorf("asked %q, want %q\n%s", c.asked(), tt.want.ask, text)
			}
			for _, s := range tt.want.says {
				if !strings.Contains(text, s) {
					t.Errorf("reply lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tt.want.never {
				if strings.Contains(text, s) {
					t.Errorf("reply has %q:\n%s", s, text)
				}
			}
			if after := state(c.s); tt.want.kept && after != before {
				t.Errorf("answers changed:\n before %s\n after  %s", before, after)
			}
			escalated := false
			for _, ev := range c.events[escalations:] {
				escalated = escalated || ev.Kind == dialogs.EventEscalation
			}
			if escalated != tt.want.escalates {
				t.Errorf("escalated %v, want %v", escalated, tt.want.escalates)
			}
			if tt.want.check != nil {
				tt.want.check(t, c.s)
			}
		})
	}
	if len(tests) < 60 {
		t.Fatalf("%d cases, want at least 60", len(tests))
	}
}

// TestStateDependentFAQ checks that one question gets the answer for where
// the candidate is.
func TestStateDependentFAQ(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("模板在哪下载？")
	if strings.Contains(c.lastText(), "还需要准备") || hasLink(c.last) {
		t.Errorf("before a condition, the template answer names materials or links: %s", c.lastText())
	}
	c.say(atName...)
	c.say("模板在哪下载？")
	if !strings.Contains(c.lastText(), "第（二）条") || !strings.Contains(c.lastText(), "工作经历承诺书") || !hasLink(c.last) {
		t.Errorf("after the condition, the template answer lacks the condition, the materials or the link: %s", c.lastText())
	}
	// 多少钱 is the fee FAQ, answered by status.
	c.say("报名要多少钱？")
	if !strings.Contains(c.lastText(), "现在还不需要缴费") {
		t.Errorf("collecting: %s", c.lastText())
	}
	c.s.Status = "awaiting_payment"
	c.say("报名要多少钱？")
	if !strings.Contains(c.lastText(), "审核通过") {
		t.Errorf("awaiting payment: %s", c.lastText())
	}
	c.s.Status = "paid"
	c.say("报名要多少钱？")
	if !strings.Contains(c.lastText(), "无需再缴费") {
		t.Errorf("paid: %s", c.lastText())
	}
}

func hasLink(res dialogs.Result) bool {
	for _, m := range res.Messages {
		if m.Link != nil {
			return true
		}
	}
	return false
}

// TestUploadsInAnyOrder sends materials out of order, one while personal
// data is still asked, and comes back later.
func TestUploadsInAnyOrder(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t))})
	c.say(workC2...)
	if !strings.Contains(c.lastText(), "工作经历承诺书") || !strings.Contains(c.lastText(), "请点选申报条件第（二）条") {
		t.Fatalf("the checklist did not come with the verdict: %s", c.lastText())
	}
	// An image while the name is asked: which material is it?
	form := photoJPEG(t, 1240, 1754, 80)
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: form}})
	if !strings.Contains(c.lastText(), "哪一份材料") {
		t.Fatalf("no which-material question: %s", c.lastText())
	}
	c.say("申报表")
	if c.s.Materials["application_form"].Ref == "" || c.asked() != "name" {
		t.Fatalf("the form was not taken or the name not asked again: asked %q, %s", c.asked(), c.lastText())
	}
	// The same file as another material is refused.
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: form}})
	c.say("工作经历承诺书")
	if c.s.Materials["work_commitment"].Ref != "" || !strings.Contains(c.lastText(), "同一张") {
		t.Fatalf("the 申报表's file was taken as the 承诺书: %s", c.lastText())
	}
	c.say("张三", "11010519491231002X", "2035-01-01", "13800138000")
	if c.asked() != "id_card_front" {
		t.Fatalf("asked %q, want id_card_front", c.asked())
	}
	// Days later: the candidate comes back and is told what is missing.
	c.send(dialogs.Inbound{Event: "subscribe"})
	if !strings.Contains(c.lastText(), "还差 4 份材料") || !strings.Contains(c.lastText(), "工作经历承诺书") {
		t.Fatalf("no reminder of what is missing: %s", c.lastText())
	}
	// The commitment letter first, by name.
	c.say("工作经历承诺书")
	if c.asked() != "work_commitment" {
		t.Fatalf("asked %q, want work_commitment", c.asked())
	}
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 1240, 1754, 3)}})
	if c.s.Materials["work_commitment"].Ref == "" || c.asked() != "id_card_front" {
		t.Fatalf("after the commitment: asked %q (%s)", c.asked(), c.lastText())
	}
}

// TestEditOneWorkPeriod changes the end of one of two periods without
// entering the other again.
func TestEditOneWorkPeriod(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("是", "甲公司", "电子商务师", "2019-01", "2020-12", "是", "乙公司", "营销员", "2021-01", "2021-12", "否")
	if c.s.Condition != "" || !c.s.Decided && c.asked() == "" {
		t.Fatalf("setup: condition %q, asked %q", c.s.Condition, c.asked())
	}
	c.say("修改")
	pick := ""
	for i, ch := range c.choices() {
		if strings.Contains(ch.Label, "乙公司") && !strings.Contains(ch.Label, "甲公司") {
			pick = strconv.Itoa(i + 1)
		}
	}
	if pick == "" {
		t.Fatalf("修改 does not list the second period on its own: %v", c.choices())
	}
	c.say(pick)
	if !strings.Contains(c.lastText(), "乙公司") {
		t.Fatalf("the period's parts are not offered: %s", c.lastText())
	}
	c.say("结束年月")
	if c.asked() != "work_history.end" || !strings.Contains(c.lastText(), "2021-12") {
		t.Fatalf("asked %q (%s), want the end with its current value", c.asked(), c.lastText())
	}
	c.say("至今")
	if len(c.s.Work) != 2 || c.s.Work[0].Employer != "甲公司" || c.s.Work[0].End != "2020-12" || c.s.Work[1].End != "至今" {
		t.Fatalf("work after the edit: %+v", c.s.Work)
	}
	if c.s.Condition != "C2" || !strings.Contains(c.lastText(), "7年11个月") {
		t.Fatalf("condition %q after the edit (%s), want C2 with the new years", c.s.Condition, c.lastText())
	}
}

// TestAfterEveryMaterial checks what a candidate hears once every material
// is in: a greeting is greeted (not welcomed back), the terminal's package
// sentence does not promise a download it cannot give, and the guide's
// button can be picked by typing its number.
func TestAfterEveryMaterial(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say(atUpload...)
	for i := 0; strings.HasPrefix(c.s.Step, "upload:") && i < 10; i++ {
		c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 320, 448, uint64(300+i))}})
	}
	if c.s.Status != "materials_ready" {
		t.Fatalf("status %q after every upload (%s)", c.s.Status, c.lastText())
	}
	if !strings.Contains(c.lastText(), "个人信息填写") || !strings.Contains(c.lastText(), "请点选申报条件第（二）条") {
		t.Errorf("the registration guide lacks its own 个人信息填写 step or the condition to tick: %s", c.lastText())
	}
	c.say("你好")
	if got := c.lastText(); strings.Contains(got, "欢迎回来") || !strings.Contains(got, "您好") {
		t.Errorf("你好 after finishing: %s", got)
	}
	// No package link in this engine: nothing promises a download.
	if got := c.lastText(); strings.Contains(got, "可下载") {
		t.Errorf("the package is promised although it cannot be downloaded here: %s", got)
	}
	c.say("材料包")
	if got := c.lastText(); !strings.Contains(got, "转人工") || strings.Contains(got, "可下载") {
		t.Errorf("材料包 without a link: %s", got)
	}
	c.say("1")
	if c.s.Status != "under_review" {
		t.Errorf("typing 1 for 我已在官网提交: status %q (%s)", c.s.Status, c.lastText())
	}
}

// TestLaterQueuesAReminderOfWhatIsMissing: "I will send it later" queues
// one reminder of the missing materials three days on; an accepted upload
// cancels it, since what it lists has changed.
func TestLaterQueuesAReminderOfWhatIsMissing(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say(atUpload...)
	res := c.send(dialogs.Inbound{Text: "我明天再发"})
	if len(res.Outbox) != 1 || res.Outbox[0].Kind != store.OutReminder {
		t.Fatalf("outbox %+v, want one reminder", res.Outbox)
	}
	r := res.Outbox[0]
	if want := time.Date(2026, 12, 1, 10, 0, 0, 0, dialogs.ChinaTime); !r.NotBefore.Equal(want) {
		t.Errorf("reminder due %v, want %v", r.NotBefore, want)
	}
	msgs, err := dialogs.DecodeMessages(r.Payload)
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "还差 5 份") || !strings.Contains(msgs[0].Text, "工作经历承诺书") {
		t.Fatalf("reminder %+v (%v)", msgs, err)
	}
	if res := c.send(dialogs.Inbound{Text: "等下再发"}); len(res.Outbox) != 0 {
		t.Errorf("a second 'later' queued another reminder: %+v", res.Outbox)
	}
	res = c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 320, 448, 400)}})
	if !res.CancelReminders {
		t.Errorf("an accepted upload did not cancel the reminder (%s)", c.lastText())
	}
}

// TestPlausibleAnswersAreNeverTakenForFAQ sends, at each question, the
// answers people really give, including ones that hold FAQ keywords or
// synonyms: each is stored, none gets an FAQ answer instead.
func TestPlausibleAnswersAreNeverTakenForFAQ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		setup   []string
		answers []string
	}{
		{atStart, []string{"是", "否", "有", "没有", "做过", "是的", "没做过"}},
		{atPriorCert, []string{"是", "否", "有", "没有", "有的", "没有证书", "有五级证书", "没有，考试没通过", "没，还没考"}},
		{atTraining, []string{"有结业证书", "参加过培训", "没参加过", "没有培训"}},
		{atHours, []string{"120", "120学时", "104课时", "一百零四", "共96小时"}},
		{atStartMonth, []string{"2021-03", "2021年3月", "2021.3", "202103"}},
		{atEndMonth, []string{"至今", "现在", "2023-06"}},
		{atSchool, []string{"1", "2", "3", "技工学校", "都不是"}},
		{atGrad, []string{"1", "2", "3", "应届", "已取得毕业证书", "其他"}},
		{atMajor, []string{"电子商务", "市场营销专业", "摄影"}},
		{atEmployer, []string{"杭州某某照片科技有限公司", "某某网络科技（审核部）", "浙江某某电子商务有限公司"}},
		{atExpiry, []string{"长期", "2035-06-01", "2035年6月1日"}},
		{atMobile, []string{"13800138000"}},
	}
	for _, tt := range tests {
		for _, a := range tt.answers {
			t.Run(a, func(t *testing.T) {
				t.Parallel()
				c := newConversation(t, dialogs.Options{})
				c.say(tt.setup...)
				before, asked := state(c.s), c.asked()
				c.say(a)
				if state(c.s) == before && c.asked() == asked {
					t.Errorf("%q at %s was not taken as the answer: %s", a, asked, c.lastText())
				}
			})
		}
	}
}

// TestNearIdenticalCopyIsRefusedForAnotherMaterial: the 申报表's photo
// re-encoded, or scaled down as a phone's "send smaller" does, is the same
// picture to the perceptual hash: it is refused as the 工作经历承诺书, while
// a different sheet is taken.
func TestNearIdenticalCopyIsRefusedForAnotherMaterial(t *testing.T) {
	t.Parallel()
	form := sceneJPEG(t, 1240, 1754, 77)
	src, err := jpeg.Decode(bytes.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	half := image.NewRGBA(image.Rect(0, 0, 620, 877))
	for y := range 877 {
		for x := range 620 {
			half.Set(x, y, src.At(2*x, 2*y))
		}
	}
	for name, copyData := range map[string][]byte{
		"re-encoded at quality 50": encodeJPEGQuality(t, src, 50),
		"halved":                   encodeJPEGQuality(t, half, 85),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t))})
			c.toUploads()
			c.say("申报表")
			c.send(dialogs.Inbound{Image: &dialogs.Image{Data: form}})
			if c.s.Materials["application_form"].Ref == "" {
				t.Fatalf("the form was not taken: %s", c.lastText())
			}
			c.say("工作经历承诺书")
			c.send(dialogs.Inbound{Image: &dialogs.Image{Data: copyData}})
			if c.s.Materials["work_commitment"].Ref != "" || !strings.Contains(c.lastText(), "同一张") || c.asked() != "work_commitment" {
				t.Fatalf("a copy of the 申报表 was taken as the 承诺书 (asked %q): %s", c.asked(), c.lastText())
			}
			c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 1240, 1754, 78)}})
			if c.s.Materials["work_commitment"].Ref == "" {
				t.Fatalf("a different sheet was not taken: %s", c.lastText())
			}
		})
	}
}

func encodeJPEGQuality(t *testing.T, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
