package dialogs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

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
	// Texts are the fixed sentences of the conversation, by key (see
	// TextKeys for the keys every plan must define).
	Texts map[string]string `yaml:"texts"`
	// Lists are named vocabularies that text answers are matched against
	// (occupations, majors).
	Lists map[string][]string `yaml:"lists"`
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
	// Miss explains a failed clause; {key} placeholders are replaced by the
	// candidate's values.
	Miss string `yaml:"miss"`
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

// FAQ is a question the bot answers wherever it comes up.
type FAQ struct {
	Key string `yaml:"key"`
	// Match are phrases; a message containing any of them (after
	// normalisation) is this question.
	Match  []string `yaml:"match"`
	Answer string   `yaml:"answer"`
}

// TextKeys are the text keys every plan must define.
var TextKeys = []string{
	"welcome", "welcome_back", "help", "busy", "unknown_input", "offer_human",
	"restart", "back_none", "edit_menu", "progress_title", "eligible_one", "eligible_also",
	"not_eligible", "review_occupation", "checklist_title", "upload_received",
	"uploads_done", "yes", "no", "did_you_mean", "none_of_these", "not_in_list_occupation",
	"not_in_list_major", "unsupported_input", "expect_image", "all_done", "current_answer",
	"empty_text", "end_before_start", "expect_text", "fix_confirm", "fix_done",
	"fix_failed", "fix_offer", "form_rules_title", "none_next", "pick_choice",
	"progress_answers", "progress_condition", "progress_none", "progress_status",
	"progress_undecided", "start_after_end", "text_too_long", "status_collecting",
	"status_materials_ready", "status_under_review", "status_rejected",
	"status_awaiting_payment", "status_paid", "status_ticket_ready", "status_withdrawn", "id_expired", "material_by_staff", "package_empty", "package_unavailable",
	"package_ready", "progress_escalated", "reupload",
	"label_edit", "label_human", "label_restart", "label_retry", "label_keep",
	"label_human_review", "label_fix", "label_resend", "label_use_fixed",
	// Statuses: the notification's headline, what to do at each status,
	// rejections, payment and "I submitted".
	"status_changed", "status_next_collecting", "status_next_materials_ready",
	"status_next_under_review", "status_next_rejected", "status_next_awaiting_payment",
	"status_next_paid", "status_next_ticket_ready", "status_next_withdrawn",
	"status_reopened", "rejected_reason", "rejected_fix", "rejected_fixed", "progress_fix",
	"payment_link_label", "payment_qr", "payment_no_link", "payment_not_yet",
	"submitted_too_early", "submitted_already", "label_submitted",
	// Tickets (dialogs/tickets.go) and staff review (dialogs/system.go).
	"ticket_opened", "ticket_already_open", "ticket_forwarded", "ticket_waiting",
	"ticket_command_blocked", "ticket_not_open", "ticket_ended", "ticket_closed",
	"ticket_staff_reply", "ticket_failures", "ticket_question", "ticket_question_added",
	"ticket_review", "ticket_expect_soon", "ticket_expect_later", "ticket_expect_unknown",
	"ticket_when_today", "ticket_when_tomorrow", "ticket_when_date", "duration_hours",
	"duration_minutes", "label_end_human", "reopened",
	// The answers summary in the material package (Engine.Summary).
	"package_summary_title", "package_summary_condition", "package_summary_work",
	"package_summary_work_entry", "package_summary_materials", "package_summary_uploaded",
	"package_summary_by_staff", "package_summary_missing",
}

// LoadPlanFile reads and parses a plan file. It does not compile the rules:
// NewEngine does, so that every problem is reported with the file name.
func LoadPlanFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := ParsePlan(data)
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
func ParsePlan(data []byte) (*Plan, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := p.validate(); err != nil {
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

func (p *Plan) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.ID == "" {
		bad("id is empty")
	}
	for _, k := range TextKeys {
		if strings.TrimSpace(p.Texts[k]) == "" {
			bad("texts.%s is missing", k)
		}
	}
	seen := map[string]bool{}
	for _, s := range p.Slots {
		if s.Key == "" {
			bad("a slot has no key")
			continue
		}
		if seen[s.Key] {
			bad("slot %s is defined twice", s.Key)
		}
		seen[s.Key] = true
		errs = append(errs, p.validateSlot(s, "slots."+s.Key)...)
		if s.Phase != PhaseEligibility && s.Phase != PhasePersonal {
			bad("slots.%s: phase must be eligibility or personal, not %q", s.Key, s.Phase)
		}
		if s.Type == SlotGroup {
			if s.More == "" || s.First == "" {
				bad("slots.%s: a group needs first and more questions", s.Key)
			}
			// A group is a work history: its entries are stored as
			// store.WorkEntry, so its fields are these four.
			want := map[string]SlotType{"employer": SlotText, "occupation": SlotText, "start": SlotMonth, "end": SlotMonth}
			if len(s.Fields) != len(want) {
				bad("slots.%s: a group has exactly the fields employer, occupation, start and end", s.Key)
			}
			for _, f := range s.Fields {
				if t, ok := want[f.Key]; !ok || t != f.Type {
					bad("slots.%s.%s: a group's fields are employer (text), occupation (text), start (month) and end (month)", s.Key, f.Key)
				}
			}
			for _, f := range s.Fields {
				errs = append(errs, p.validateSlot(f, "slots."+s.Key+"."+f.Key)...)
			}
		}
	}
	for _, d := range p.Derived {
		if seen[d.Key] {
			bad("derived %s: the key is already used", d.Key)
		}
		seen[d.Key] = true
		src, ok := p.Slot(d.From)
		switch {
		case !ok:
			bad("derived %s: from %q is not a slot", d.Key, d.From)
		case d.Kind == DerivedYears && src.Type != SlotGroup:
			bad("derived %s: years needs a group slot, %s is %s", d.Key, d.From, src.Type)
		case d.Kind == DerivedInList && src.List == "":
			bad("derived %s: in_list needs a text slot with a list, %s has none", d.Key, d.From)
		case d.Kind != DerivedYears && d.Kind != DerivedInList:
			bad("derived %s: kind must be years or in_list, not %q", d.Key, d.Kind)
		}
		if d.Since != "" {
			if s, ok := p.Slot(d.Since); !ok || s.Type != SlotMonth {
				bad("derived %s: since %q is not a month slot", d.Key, d.Since)
			}
		}
	}
	mats := map[string]bool{}
	for _, m := range p.Materials {
		if mats[m.Key] {
			bad("material %s is defined twice", m.Key)
		}
		mats[m.Key] = true
		if m.Name == "" || m.FileName == "" || m.Ask == "" {
			bad("materials.%s: name, file_name and ask are required", m.Key)
		}
	}
	rulesByKey := map[string]bool{}
	for _, r := range p.FormRules {
		rulesByKey[r.Key] = true
	}
	if len(p.Conditions) == 0 {
		bad("no conditions")
	}
	conds := map[string]bool{}
	for _, c := range p.Conditions {
		if conds[c.Key] {
			bad("condition %s is defined twice", c.Key)
		}
		conds[c.Key] = true
		if len(c.All) == 0 {
			bad("conditions.%s: no clauses", c.Key)
		}
		for _, m := range c.Materials {
			if !mats[m] {
				bad("conditions.%s: material %q is not defined", c.Key, m)
			}
		}
		for _, r := range c.FormRules {
			if !rulesByKey[r] {
				bad("conditions.%s: form rule %q is not defined", c.Key, r)
			}
		}
		for _, e := range c.Escalate {
			if e.Material != "" && !mats[e.Material] {
				bad("conditions.%s: escalate material %q is not defined", c.Key, e.Material)
			}
		}
	}
	if u := p.Payment.URL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		bad("payment.url: %q is not an http(s) URL", u)
	}
	return errors.Join(errs...)
}

func (p *Plan) validateSlot(s Slot, where string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(where+": "+format, args...))
	}
	if s.Ask == "" && s.Type != SlotGroup {
		bad("ask is empty")
	}
	switch s.Type {
	case SlotBool, SlotMonth, SlotName, SlotIDNumber, SlotDate, SlotMobile, SlotGroup:
	case SlotChoice:
		if len(s.Choices) < 2 {
			bad("a choice slot needs at least two choices")
		}
	case SlotNumber:
		if s.Min != nil && s.Max != nil && *s.Min > *s.Max {
			bad("min is above max")
		}
	case SlotText:
		if s.List != "" && len(p.Lists[s.List]) == 0 {
			bad("list %q is not defined or empty", s.List)
		}
	default:
		bad("unknown type %q", s.Type)
	}
	return errs
}
