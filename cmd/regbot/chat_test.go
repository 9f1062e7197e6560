package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// regbotBin is the regbot binary built once for the tests that run it as a
// subprocess.
var regbotBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "regbot-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	regbotBin = filepath.Join(dir, "regbot")
	build := exec.Command("go", "build", "-o", regbotBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build regbot:", err)
		os.Exit(1)
	}
	// Every serve a test starts with a database needs the record key; the
	// tests' configs name it, and the environment gives it to any config
	// that does not.
	os.Setenv("REGBOT_RECORD_KEY", testRecordKey)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// line is one JSON line of `regbot chat --json`.
type line struct {
	Text    string `json:"text"`
	Choices []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"choices"`
	Ask *struct {
		Slot string `json:"slot"`
		Type string `json:"type"`
	} `json:"ask"`
	Event     string   `json:"event"`
	Condition *string  `json:"condition"`
	Also      []string `json:"also"`
	Materials []string `json:"materials"`
	Missing   []string `json:"missing"`
	Reason    string   `json:"reason"`
	Status    string   `json:"status"`
	Material  string   `json:"material"`
	Accepted  bool     `json:"accepted"`
	Problems  []string `json:"problems"`
	Error     string   `json:"error"`
	Image     *struct {
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"image"`
}

// transcript is the output of one scripted conversation.
type transcript []line

// chat runs `regbot chat --json --now 2026-11-28` with the messages as stdin
// and returns every line it printed.
func chat(t *testing.T, messages ...string) transcript {
	t.Helper()
	return chatPlan(t, "", messages...)
}

// chatPlan is chat with the plan file at plan ("" for the embedded one).
func chatPlan(t *testing.T, plan string, messages ...string) transcript {
	t.Helper()
	args := []string{"chat", "--json", "--now", "2026-11-28", "--image-dir", t.TempDir()}
	if plan != "" {
		args = append(args, "--plan", plan)
	}
	cmd := exec.Command(regbotBin, args...)
	cmd.Stdin = strings.NewReader(strings.Join(messages, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("regbot chat: %v\nstderr: %s", err, stderr.String())
	}
	var tr transcript
	for _, raw := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("output line is not JSON: %q: %v", raw, err)
		}
		tr = append(tr, l)
	}
	return tr
}

// asks lists the slots asked, in order.
func (tr transcript) asks() []string {
	var out []string
	for _, l := range tr {
		if l.Ask != nil {
			out = append(out, l.Ask.Slot)
		}
	}
	return out
}

// eligibility returns the last eligibility event.
func (tr transcript) eligibility(t *testing.T) line {
	t.Helper()
	for i := len(tr) - 1; i >= 0; i-- {
		if tr[i].Event == "eligibility" {
			return tr[i]
		}
	}
	t.Fatalf("no eligibility event in %s", tr)
	return line{}
}

func (tr transcript) lastAsk() string {
	a := tr.asks()
	if len(a) == 0 {
		return ""
	}
	return a[len(a)-1]
}

func (tr transcript) contains(s string) bool {
	for _, l := range tr {
		if strings.Contains(l.Text, s) {
			return true
		}
	}
	return false
}

func (tr transcript) String() string {
	var b strings.Builder
	for _, l := range tr {
		data, _ := json.Marshal(l)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// workC2 are the messages of a candidate with 6 years of e-commerce work.
var workC2 = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"}

// personal are valid personal data answers.
var personal = []string{"张三", "11010519491231002X", "2035-01-01", "13800138000"}

func TestChatTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		messages []string
		check    func(t *testing.T, tr transcript)
	}{
		{
			name:     "eligible by C2, then personal data and the first upload",
			messages: append(slices.Clone(workC2), personal...),
			check: func(t *testing.T, tr transcript) {
				want := []string{"work_history.more", "work_history.employer", "work_history.occupation",
					"work_history.start", "work_history.end", "work_history.more",
					"name", "id_number", "id_expiry", "mobile", "id_card_front"}
				if got := tr.asks(); !slices.Equal(got, want) {
					t.Fatalf("asks %v, want %v", got, want)
				}
				el := tr.eligibility(t)
				if el.Condition == nil || *el.Condition != "C2" {
					t.Fatalf("condition %v, want C2", el.Condition)
				}
				wantMats := []string{"id_card_front", "id_card_back", "photo", "application_form", "work_commitment"}
				if !sameSet(el.Materials, wantMats) {
					t.Errorf("materials %v, want %v", el.Materials, wantMats)
				}
			},
		},
		{
			name:     "not eligible: no work, no school; the nearest miss is explained",
			messages: []string{"否", "3"},
			check: func(t *testing.T, tr transcript) {
				if got, want := tr.asks(), []string{"work_history.more", "school_kind"}; !slices.Equal(got, want) {
					t.Fatalf("asks %v, want %v", got, want)
				}
				el := tr.eligibility(t)
				if el.Condition != nil {
					t.Fatalf("condition %v, want null", *el.Condition)
				}
				if len(el.Missing) == 0 {
					t.Errorf("no missing explanation")
				}
			},
		},
		{
			name:     "going back keeps the answer as the default",
			messages: []string{"否", "上一步", "是", "某某广告有限公司"},
			check: func(t *testing.T, tr transcript) {
				want := []string{"work_history.more", "school_kind", "work_history.more", "work_history.employer", "work_history.occupation"}
				if got := tr.asks(); !slices.Equal(got, want) {
					t.Fatalf("asks %v, want %v", got, want)
				}
			},
		},
		{
			name:     "editing an answer re-evaluates the outcome",
			messages: []string{"否", "3", "修改", "2", "1", "浙江某某技师学院 电子商务专业", "1"},
			check: func(t *testing.T, tr transcript) {
				el := tr.eligibility(t)
				if el.Condition == nil || *el.Condition != "C4" {
					t.Fatalf("after editing the school: condition %v, want C4\n%s", el.Condition, tr)
				}
				first := 0
				for _, l := range tr {
					if l.Event == "eligibility" {
						first++
					}
				}
				if first != 2 {
					t.Errorf("%d eligibility events, want 2 (none, then C4)", first)
				}
			},
		},
		{
			name:     "FAQ in the middle of a question, then the same question again",
			messages: []string{"是", "审核需要多久？"},
			check: func(t *testing.T, tr transcript) {
				if !tr.contains("工作日") {
					t.Fatalf("FAQ not answered:\n%s", tr)
				}
				want := []string{"work_history.more", "work_history.employer", "work_history.employer"}
				if got := tr.asks(); !slices.Equal(got, want) {
					t.Fatalf("asks %v, want %v", got, want)
				}
			},
		},
		{
			name:     "three wrong answers in a row offer a person",
			messages: []string{"是", "某某公司全称", "电子商务师", "abc", "2099-01", "昨天"},
			check: func(t *testing.T, tr transcript) {
				asks := tr.asks()
				if tr.lastAsk() != "work_history.start" || len(asks) != 7 {
					t.Fatalf("asks %v: wrong input must not advance", asks)
				}
				offered := false
				for _, l := range tr {
					for _, c := range l.Choices {
						if c.ID == "cmd:human" {
							offered = true
						}
					}
				}
				if !offered {
					t.Fatalf("no 转人工 offer after three failures:\n%s", tr)
				}
			},
		},
		{
			name:     "a near-miss major gets did-you-mean choices",
			messages: []string{"否", "技工学校", "电子商物"},
			check: func(t *testing.T, tr transcript) {
				last := tr[len(tr)-1]
				labels := []string{}
				for _, c := range last.Choices {
					labels = append(labels, c.Label)
				}
				if !slices.Contains(labels, "电子商务") {
					t.Fatalf("choices %v do not offer 电子商务", labels)
				}
			},
		},
		{
			name:     "转人工 is recorded as an escalation, says the ticket number and hands the conversation to staff",
			messages: []string{"转人工"},
			check: func(t *testing.T, tr transcript) {
				found, number := false, false
				for _, l := range tr {
					if l.Event == "escalation" {
						found = true
					}
					number = number || strings.Contains(l.Text, "工单号")
				}
				if !found || !number {
					t.Fatalf("escalation event %v, ticket number told %v:\n%s", found, number, tr)
				}
				// The question asked before is not asked again: staff have
				// the conversation.
				if got := tr.asks(); !slices.Equal(got, []string{"work_history.more"}) {
					t.Fatalf("asks %v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, chat(t, tt.messages...))
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestPlanCheck(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("..", "..", "plans", "internet-marketing-l4.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(path string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command(regbotBin, "plan", "check", path)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := run(write("good.yaml", string(good))); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("the embedded plan: %v\n%s", err, out)
	}
	tests := []struct {
		name  string
		edit  func(string) string
		wants []string
	}{
		{
			name: "misspelt slot in a rule",
			edit: func(s string) string {
				return strings.Replace(s, "expr: training_hours >= 104", "expr: training_hour >= 104", 1)
			},
			wants: []string{"C3", "training_hour"},
		},
		{
			name: "type error in a rule",
			edit: func(s string) string {
				return strings.Replace(s, "expr: work_years >= 4", `expr: work_years >= "4"`, 1)
			},
			wants: []string{"C2"},
		},
		{
			name: "several problems at once",
			edit: func(s string) string {
				s = strings.Replace(s, `ratio: "5:7"`, `ratio: "5x7"`, 1)
				return strings.Replace(s, "materials: [id_card_front, id_card_back, photo, application_form, work_commitment]",
					"materials: [id_card_front, id_card_back, photo, application_form, work_commitment, selfie]", 1)
			},
			wants: []string{"selfie"},
		},
		{
			name: "unknown key",
			edit: func(s string) string {
				return strings.Replace(s, "occupation: 互联网营销师", "occupation: 互联网营销师\nocupation: x", 1)
			},
			wants: []string{"ocupation"},
		},
		{
			name:  "work history field renamed",
			edit:  func(s string) string { return strings.Replace(s, "      - key: start\n", "      - key: begin\n", 1) },
			wants: []string{"work_history.begin"},
		},
		{
			name:  "bad photo checks",
			edit:  func(s string) string { return strings.Replace(s, `ratio: "5:7"`, `ratio: "5x7"`, 1) },
			wants: []string{"materials.photo.checks", "5x7"},
		},
		{
			name: "a condition's explanation with an unknown placeholder",
			edit: func(s string) string {
				return strings.Replace(s, "have: ，您目前是 {work_years}", "have: ，您目前是 {wrk_years}", 1)
			},
			wants: []string{"conditions.C2.all[0].have: unknown placeholder {wrk_years}"},
		},
		{
			name: "an engine text missing, another with an unknown placeholder",
			edit: func(s string) string {
				s = regexp.MustCompile(`(?m)^  welcome_back: .*\n`).ReplaceAllString(s, "")
				return strings.Replace(s, "好消息！您符合报考条件{condition}", "好消息！您符合报考条件{conditon}", 1)
			},
			wants: []string{"texts.welcome_back is missing", "texts.eligible_one: unknown placeholder {conditon}"},
		},
		{
			name: "a parser's message and a channel's text missing, a key misspelt",
			edit: func(s string) string {
				s = regexp.MustCompile(`(?m)^  answer_month_future: .*\n`).ReplaceAllString(s, "")
				s = regexp.MustCompile(`(?m)^  web_menu_human: .*\n`).ReplaceAllString(s, "")
				return strings.Replace(s, "\n  greeting: ", "\n  greting: ", 1)
			},
			wants: []string{"texts.answer_month_future is missing", "texts.web_menu_human is missing",
				"texts.greeting is missing", "texts.greting is not a text regbot uses"},
		},
		{
			name: "an FAQ answer with an unknown placeholder",
			edit: func(s string) string {
				return strings.Replace(s, "您按{condition}报名，还需要：{missing}", "您按{condition}报名，还需要：{missed}", 1)
			},
			wants: []string{"faq.materials.variants[0].answer: unknown placeholder {missed}"},
		},
		{
			name: "a photo check's sentence missing, another with an unknown placeholder",
			edit: func(s string) string {
				s = regexp.MustCompile(`(?m)^  check_format: .*\n`).ReplaceAllString(s, "")
				return strings.Replace(s, "check_ratio_example: ，例如 {width}×", "check_ratio_example: ，例如 {wide}×", 1)
			},
			wants: []string{"texts.check_format is missing", "texts.check_ratio_example: unknown placeholder {wide}"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := tt.edit(string(good))
			if edited == string(good) {
				t.Fatal("the edit changed nothing: the plan file moved on, update the test")
			}
			out, err := run(write(strconv.Itoa(i)+".yaml", edited))
			if err == nil {
				t.Fatalf("plan check accepted a broken plan:\n%s", out)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, out)
				}
			}
		})
	}
}
