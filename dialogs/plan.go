package dialogs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"
)

// Plan is one certification plan (an occupation at one level) as written in a
// plan file: the questions, the eligibility conditions, the materials and the
// texts the bot says. A plan is data; adding an occupation or a level means
// writing a new file, never changing Go code.
type Plan struct {
	// ID is the stable key of the plan, e.g. "internet-marketing-l4".
	ID string `yaml:"id"`
	// Title is the plan's display name (zh-CN).
	Title string `yaml:"title"`
	// Occupation is the name of "this occupation" (本职业).
	Occupation string `yaml:"occupation"`
	// Texts are the fixed sentences of the conversation, the parsers'
	// messages and the channels' strings, by dotted key (see TextSpecs and
	// docs/plans.md for the keys a plan must define).
	Texts map[string]string `yaml:"texts"`
	// Lists are named vocabularies that text answers are matched against
	// (occupations, majors), with the everyday words that name their
	// entries.
	Lists map[string]*List `yaml:"lists"`
	// Commands are the words that trigger a command anywhere in the
	// conversation, by command key (see CommandKeys).
	Commands map[string][]string `yaml:"commands"`
	// Understanding is the vocabulary that tells greetings and questions
	// from answers.
	Understanding Understanding `yaml:"understanding"`
	// Slots are the answers the bot collects, in the order it asks them.
	Slots []Slot `yaml:"slots"`
	// Derived are values computed from slots that conditions read.
	Derived []Derived `yaml:"derived"`
	// Conditions are the eligibility conditions; any one suffices.
	Conditions []Condition `yaml:"conditions"`
	// Materials are the documents a candidate may have to prepare.
	Materials []Material `yaml:"materials"`
	// FormRules are the form-filling rules the bot explains with the checklist.
	FormRules []FormRule `yaml:"form_rules"`
	// TemplatePackage is where the blank forms (申报表, 承诺书) can be downloaded.
	TemplatePackage *Link `yaml:"template_package"`
	// Registration is the step-by-step guide to the official site, shown once
	// all materials are ready.
	Registration []string `yaml:"registration"`
	// FAQ answers common questions at any point of the conversation.
	FAQ []FAQ `yaml:"faq"`
	// Submitted are phrases by which a candidate says they submitted the
	// registration on the official site (→ under_review).
	Submitted []string `yaml:"submitted"`
	// Payment is how a candidate pays once the review passed.
	Payment Payment `yaml:"payment"`
	// SoonMonths is how far ahead the bot looks for a condition that time
	// alone will satisfy (related work going on 至今), to say the month and
	// offer a reminder; 0 looks no further than today.
	SoonMonths int `yaml:"soon_months"`
	// MaxMessageRunes is the longest text message the bot reads, in
	// characters (default DefaultMaxMessageRunes): a longer one is recorded
	// as said, not read, and answered with the message_too_long text.
	MaxMessageRunes int `yaml:"max_message_runes"`
	// ReviewReasons are the reasons staff pick from when they reject a
	// material in the console (they may also write their own); the
	// candidate reads the one chosen.
	ReviewReasons []string `yaml:"review_reasons"`
}

// Payment says where candidates pay and how they ask about it.
type Payment struct {
	// URL is the payment page the QR code encodes, unless the status change
	// carries the candidate's own; empty: candidates pay from the official
	// site's 待缴费 button.
	URL string `yaml:"url"`
	// Match are phrases that ask how to pay (the WeChat menu's 缴费 too).
	Match []string `yaml:"match"`
}

// List is a vocabulary a text answer is matched against, e.g. the related
// occupations. In the plan file it is either a plain sequence of entries or
// a mapping with the fields below.
type List struct {
	// Entries are the official names, as the guide writes them.
	Entries []string `yaml:"entries"`
	// Suffixes are words candidates add after an entry that do not change
	// it ("专业", "职业").
	Suffixes []string `yaml:"suffixes"`
	// Aliases are other names that mean an entry for sure, e.g. a 工种 of an
	// occupation ("直播销售员" → "互联网营销师"); the answer is stored as the
	// entry.
	Aliases map[string]string `yaml:"aliases"`
	// Suggest maps everyday words that may mean some entries ("电商",
	// "主播") to those entries, offered as "您是指…？" choices.
	Suggest map[string][]string `yaml:"suggest"`
	// Review are everyday titles no entry covers but that staff may accept
	// ("导购"): the candidate is offered staff review first.
	Review []string `yaml:"review"`
	// Unlisted is the sub-question for an answer not in the list; {value}
	// is what the candidate typed.
	Unlisted string `yaml:"unlisted"`
	// AliasNote, when set, is said when an alias matched; {value} is what
	// was typed, {entry} the entry it means.
	AliasNote string `yaml:"alias_note"`
}

// UnmarshalYAML reads a list written as a plain sequence of entries or as
// a mapping.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		return n.Decode(&l.Entries)
	}
	type plain List
	return decodeStrict(n, (*plain)(l))
}

// Understanding is what the engine needs to tell greetings and questions
// from answers.
type Understanding struct {
	// Greetings are messages that only greet ("你好"): the bot greets back
	// and asks the current question again.
	Greetings []string `yaml:"greetings"`
	// QuestionWords make a message a question ("怎么", "多少", "吗"), as a
	// question mark does.
	QuestionWords []string `yaml:"question_words"`
	// NotQuestions are words that hold a question word but ask nothing
	// ("管理咨询" in an employer's or an occupation's name, "哪吒"): they
	// are left out when a message is looked at for question words.
	NotQuestions []string `yaml:"not_questions"`
	// Later are words that say "I will send it later" ("明天再发"): at an
	// upload they get a friendly "whenever you are ready", not an error.
	Later []string `yaml:"later"`
	// Synonyms map a word FAQ keywords use to the other ways people say it
	// ("时间": [多久, 几天]); messages are read with every synonym replaced by
	// its word before FAQ keywords are looked for.
	Synonyms map[string][]string `yaml:"synonyms"`
}

// SlotType is the kind of answer a slot takes; it decides the parser and the
// type the rule environment gives the slot.
type SlotType string

// The slot types a plan may use.
const (
	SlotBool     SlotType = "bool"   // 是/否
	SlotChoice   SlotType = "choice" // one of Choices, stored as the choice id
	SlotNumber   SlotType = "number" // a non-negative number within Min..Max
	SlotMonth    SlotType = "month"  // YYYY-MM, also 2023年5月
	SlotText     SlotType = "text"   // free text, matched against List when set
	SlotGroup    SlotType = "group"  // a repeated group (work history)
	SlotName     SlotType = "name"   // a person's name in Chinese characters
	SlotIDNumber SlotType = "id_number"
	SlotDate     SlotType = "date" // YYYY-MM-DD or 长期 (ID card expiry)
	SlotMobile   SlotType = "mobile"
)

// Phase says when a slot is asked: eligibility slots only while they can still
// change the outcome, personal slots always, once a condition holds.
type Phase string

// The phases of the conversation that slots belong to.
const (
	PhaseEligibility Phase = "eligibility"
	PhasePersonal    Phase = "personal"
)

// Slot is one answer the bot collects.
type Slot struct {
	Key   string   `yaml:"key"`
	Type  SlotType `yaml:"type"`
	Phase Phase    `yaml:"phase"`
	// Label is the short name of the answer in summaries (修改, 进度).
	Label string `yaml:"label"`
	// Ask is the question.
	Ask string `yaml:"ask"`
	// Hint is said after a wrong answer, before the question is asked again.
	Hint string `yaml:"hint"`
	// Choices are the options of a choice slot.
	Choices []Choice `yaml:"choices"`
	// Min and Max bound a number slot.
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
	// List names the vocabulary a text slot is matched against.
	List string `yaml:"list"`
	// Fields are the questions of one entry of a group slot.
	Fields []Slot `yaml:"fields"`
	// More is the question that starts a group and asks for another entry
	// ("还有其他工作经历吗？"); First is its wording before any entry.
	More  string `yaml:"more"`
	First string `yaml:"first"`
	// Sensitive slots (ID number, mobile) are masked in summaries.
	Sensitive bool `yaml:"sensitive"`
	// Ongoing lets a month slot take "至今" (a period still running).
	Ongoing bool `yaml:"ongoing"`
}

// Choice is one option offered to the candidate.
type Choice struct {
	ID    string `yaml:"id" json:"id"`
	Label string `yaml:"label" json:"label"`
}

// DerivedKind says how a derived value is computed.
type DerivedKind string

// The kinds of derived values.
const (
	// DerivedYears is the cumulative years of the related entries of a group
	// slot, overlapping months counted once, optionally only from the month in
	// Since on.
	DerivedYears DerivedKind = "years"
	// DerivedInList is whether the text slot From matched its list.
	DerivedInList DerivedKind = "in_list"
)

// Derived is a value the rules read that is computed from slots.
type Derived struct {
	Key   string      `yaml:"key"`
	Kind  DerivedKind `yaml:"kind"`
	From  string      `yaml:"from"`
	Since string      `yaml:"since"`
	// Label names the value in explanations.
	Label string `yaml:"label"`
}

// Condition is one eligibility condition (报考条件), e.g. C2.
type Condition struct {
	Key string `yaml:"key"`
	// Label is how the guide names the condition to candidates
	// ("第（二）条"); events and the record use Key.
	Label string `yaml:"label"`
	// Title is the condition as the guide states it.
	Title string `yaml:"title"`
	// Short is a one-line summary used when telling a candidate which
	// condition they meet.
	Short string `yaml:"short"`
	// All are the clauses; the condition holds when every clause holds.
	All []Clause `yaml:"all"`
	// Materials are the keys of the materials this condition needs.
	Materials []string `yaml:"materials"`
	// FormRules are the keys of the form-filling rules that apply.
	FormRules []string `yaml:"form_rules"`
	// Escalate lists cases the bot must not guess about: when If holds, the
	// bot says Text, opens a ticket and skips Material's upload.
	Escalate []Escalation `yaml:"escalate"`
}

// Clause is one part of a condition, compiled on its own so that a failed
// condition can be explained.
type Clause struct {
	// Expr is an expr-lang expression over slots and derived values.
	Expr string `yaml:"expr"`
	// Miss explains what the clause needs when it does not hold.
	Miss string `yaml:"miss"`
	// Have, when set, says what the candidate has against it ("，您目前是
	// {work_years}"), written to follow Miss; it is added only when every
	// value it names is known.
	Have string `yaml:"have"`
}

// Escalation is a case within a condition that goes to staff.
type Escalation struct {
	If       string `yaml:"if"`
	Material string `yaml:"material"`
	Text     string `yaml:"text"`
}

// Material is a document the candidate uploads.
type Material struct {
	Key  string `yaml:"key"`
	Name string `yaml:"name"`
	// FileName is the name the official site expects in the package.
	FileName string `yaml:"file_name"`
	// Ask is the upload request.
	Ask string `yaml:"ask"`
	// Note is shown with the checklist (e.g. 需参照示例中标红内容手填).
	Note string `yaml:"note"`
	// Sensitive uploads (a face, an ID card) are encrypted at rest.
	Sensitive bool `yaml:"sensitive"`
	// Checks configure the photo checks of this material.
	Checks MaterialChecks `yaml:"checks"`
	// Aliases are other words candidates use for this material ("身份证正面"):
	// typed at the upload steps they choose it.
	Aliases []string `yaml:"aliases"`
}

// MaterialChecks are the checks an upload of a material gets. Zero values
// mean "no limit".
type MaterialChecks struct {
	// Formats are the accepted image formats ("jpeg", "png", "webp").
	Formats   []string `yaml:"formats"`
	MinBytes  int64    `yaml:"min_bytes"`
	MaxBytes  int64    `yaml:"max_bytes"`
	MinWidth  int      `yaml:"min_width"`
	MinHeight int      `yaml:"min_height"`
	// Ratio is the width:height the image must have ("5:7"), within
	// RatioTolerance (a fraction, e.g. 0.03).
	Ratio          string  `yaml:"ratio"`
	RatioTolerance float64 `yaml:"ratio_tolerance"`
	// WhiteBackground asks for a white border region.
	WhiteBackground bool `yaml:"white_background"`
	// Fixable means the bot may offer to produce a compliant file.
	Fixable bool `yaml:"fixable"`
	// CheckIDExpiry compares the ID expiry date the candidate gave with today.
	CheckIDExpiry bool `yaml:"check_id_expiry"`
	// Handwritten reminds of the no-corrections rule.
	Handwritten bool `yaml:"handwritten"`
}

// FormRule is one form-filling rule (说明).
type FormRule struct {
	Key  string `yaml:"key"`
	Text string `yaml:"text"`
}

// Link is a named URL.
type Link struct {
	Label string `yaml:"label" json:"label"`
	URL   string `yaml:"url" json:"url"`
}

// FAQ is a question the bot answers wherever it comes up. It is found by
// meaning: a message is this question when it holds every word of one of
// its keyword sets, after the plan's synonyms are replaced by their words.
type FAQ struct {
	Key string `yaml:"key"`
	// Keywords are sets of words; a message holding all the words of one
	// set is this question. Longer matches win over shorter ones.
	Keywords [][]string `yaml:"keywords"`
	// Answer is said when no variant applies.
	Answer string `yaml:"answer"`
	// Link names a link sent with the answer: "template" for the plan's
	// template package.
	Link string `yaml:"link"`
	// Variants answer the same question differently depending on where
	// the candidate is; the first whose conditions all hold wins.
	Variants []FAQVariant `yaml:"variants"`
}

// FAQVariant is an answer for candidates in some state. Each field left
// empty matches every candidate.
type FAQVariant struct {
	// Status are application statuses (collecting, under_review, …).
	Status []string `yaml:"status"`
	// Stage are stages of the conversation: eligibility (still asking
	// eligibility questions), ineligible, personal (asking personal data),
	// uploads (materials missing), done (every material in).
	Stage []string `yaml:"stage"`
	// Condition are condition keys the chosen condition must be one of.
	Condition []string `yaml:"condition"`
	// Answer is said instead of the FAQ's answer.
	Answer string `yaml:"answer"`
	// Link overrides the FAQ's link ("none" for no link).
	Link string `yaml:"link"`
}

// The stages of a conversation FAQ variants select on.
const (
	StageEligibility = "eligibility"
	StageIneligible  = "ineligible"
	StagePersonal    = "personal"
	StageUploads     = "uploads"
	StageDone        = "done"
)

// Stages lists every stage.
var Stages = []string{StageEligibility, StageIneligible, StagePersonal, StageUploads, StageDone}

// LoadPlanFile reads and parses a plan file. It does not compile the rules:
// NewEngine does, so that every problem is reported with the file name.
//
// texts are the text keys of the other packages that talk to candidates
// (materials, the channels): given, the plan is checked against every one
// of them, and a text nobody uses is refused too (`regbot plan check`).
func LoadPlanFile(path string, texts ...map[string][]string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := ParsePlan(data, texts...)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", path, err)
	}
	return p, nil
}

// LoadPlanFS reads a plan from a file system (the embedded default).
func LoadPlanFS(fsys fs.FS, name string) (*Plan, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := ParsePlan(data)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", name, err)
	}
	return p, nil
}

// ParsePlan parses plan YAML, refusing unknown keys, and checks its structure
// (keys unique, references resolve, texts present). It reports every
// structural problem at once.
//
// With texts (the other packages' text keys, see LoadPlanFile) the plan's
// texts are checked against them and the engine's all at once, and a text
// nobody uses is refused.
func ParsePlan(data []byte, texts ...map[string][]string) (*Plan, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := p.validate(texts); err != nil {
		return nil, err
	}
	return &p, nil
}

// Slot returns the slot with the given key (top level only).
func (p *Plan) Slot(key string) (*Slot, bool) {
	for i := range p.Slots {
		if p.Slots[i].Key == key {
			return &p.Slots[i], true
		}
	}
	return nil, false
}

// Material returns the material with the given key.
func (p *Plan) Material(key string) (*Material, bool) {
	for i := range p.Materials {
		if p.Materials[i].Key == key {
			return &p.Materials[i], true
		}
	}
	return nil, false
}

// Condition returns the condition with the given key.
func (p *Plan) Condition(key string) (*Condition, bool) {
	for i := range p.Conditions {
		if p.Conditions[i].Key == key {
			return &p.Conditions[i], true
		}
	}
	return nil, false
}

// Text returns the plan's text for key; a missing key is caught by validate.
func (p *Plan) Text(key string) string { return p.Texts[key] }

// decodeStrict decodes n into v refusing unknown keys, as the plan file's
// decoder does (a custom UnmarshalYAML would otherwise lose that).
func decodeStrict(n *yaml.Node, v any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}
