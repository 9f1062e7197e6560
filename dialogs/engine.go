package dialogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"regbot/dialogs/answers"
	"regbot/rules"
	"regbot/store"
)

// Options are the engine's dependencies; zero values get working defaults.
type Options struct {
	// Now is the clock (default time.Now); `regbot chat --now` fixes it.
	Now func() time.Time
	// Inspector checks uploads (default DefaultInspector).
	Inspector Inspector
	// Fixer makes a compliant photo; nil means no fix is offered.
	Fixer PhotoFixer
	// Blobs stores uploads (default an in-memory store).
	Blobs BlobStore
	// Log receives engine warnings (default slog.Default()).
	Log *slog.Logger
	// PackageLink returns where the candidate can download their material
	// package (材料包); nil means the package is only available from staff.
	PackageLink func(ctx context.Context, s *Session) (*Link, error)
	// StaffHours are when staff answer tickets; nil says "as soon as
	// possible" without a time.
	StaffHours *StaffHours
	// TicketCode makes ticket numbers (default NewTicketCode).
	TicketCode func() string
}

// BlobStore is Blobs plus reading back, which the photo fix needs.
type BlobStore interface {
	Blobs
	Get(ctx context.Context, ref string) ([]byte, error)
}

// Engine runs the conversation of one plan. It holds only what was compiled
// from the plan and is safe for concurrent use; all per-candidate state is in
// the Session passed to Handle.
type Engine struct {
	plan     *Plan
	opts     Options
	rules    *rules.Set
	escalate *rules.Set
	// escalateOf maps an escalation rule key to its condition and index.
	escalateOf map[string]escalationRef
	vars       rules.Vars
	matchers   map[string]*answers.Matcher
	listSets   map[string]map[string]bool
	// needSlots maps a rule variable to the slots that decide it.
	needSlots map[string][]string
	slotOrder map[string]int
	// faqMatch are the FAQ phrases normalised once, per FAQ entry.
	faqMatch [][]string
	// submittedMatch and paymentMatch are the plan's status phrases,
	// normalised once.
	submittedMatch, paymentMatch []string
	// outcomes and envs recycle rule outcomes and environments between
	// evaluations.
	outcomes sync.Pool
	envs     sync.Pool
}

type escalationRef struct {
	condition string
	index     int
}

// command is a word a candidate may say anywhere.
type command int

const (
	cmdNone command = iota
	cmdBack
	cmdEdit
	cmdRestart
	cmdProgress
	cmdHelp
	cmdHuman
	cmdPackage
	cmdEndHuman
)

// commandWords are the words (after normalisation) that trigger commands.
var commandWords = map[string]command{
	"上一步": cmdBack, "返回": cmdBack, "上一题": cmdBack,
	"修改": cmdEdit, "修改答案": cmdEdit,
	"重新开始": cmdRestart, "重来": cmdRestart, "开始报名": cmdRestart,
	"进度": cmdProgress, "我的进度": cmdProgress, "查询进度": cmdProgress,
	"帮助": cmdHelp, "help": cmdHelp, "菜单": cmdHelp,
	"转人工": cmdHuman, "人工": cmdHuman, "人工客服": cmdHuman, "客服": cmdHuman,
	"材料包": cmdPackage, "下载材料": cmdPackage, "打包材料": cmdPackage, "材料下载": cmdPackage,
	"结束人工": cmdEndHuman, "结束人工服务": cmdEndHuman, "退出人工": cmdEndHuman,
}

// Choice ids the engine uses for its own buttons.
const (
	choiceYes      = "yes"
	choiceNo       = "no"
	choiceHuman    = "cmd:human"
	choiceEndHuman = "cmd:end_human"
	choiceRetry    = "retry"
	choiceKeep     = "keep"
	choiceNone     = "none"
	choiceFix      = "fix"
	choiceResend   = "resend"
	choiceUseFix   = "use_fixed"
	stepDone       = "done"
	stepNone       = "ineligible"
	uploadPrefix   = "upload:"
	maxFailsInRow  = 3
)

// ChinaTime is the candidates' time zone (China has no daylight saving
// time): "the current month" and "today" are taken in it, whatever zone the
// server runs in.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// NewEngine compiles plan and returns its engine. A rule that does not
// compile (a misspelt slot, a type error) is an error naming the rule.
func NewEngine(plan *Plan, opts Options) (*Engine, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Inspector == nil {
		opts.Inspector = DefaultInspector{}
	}
	if opts.Blobs == nil {
		opts.Blobs = NewMemoryBlobs()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.TicketCode == nil {
		opts.TicketCode = NewTicketCode
	}
	e := &Engine{
		outcomes:   sync.Pool{New: func() any { return new(rules.Outcome) }},
		envs:       sync.Pool{New: func() any { return rules.Env{} }},
		plan:       plan,
		opts:       opts,
		vars:       rules.Vars{},
		matchers:   map[string]*answers.Matcher{},
		listSets:   map[string]map[string]bool{},
		needSlots:  map[string][]string{},
		slotOrder:  map[string]int{},
		escalateOf: map[string]escalationRef{},
	}
	for name, list := range plan.Lists {
		e.matchers[name] = answers.NewMatcher(list, "专业", "职业")
		set := make(map[string]bool, len(list))
		for _, v := range list {
			set[v] = true
		}
		e.listSets[name] = set
	}
	for _, f := range plan.FAQ {
		var phrases []string
		for _, m := range f.Match {
			if n := answers.Normalize(m); n != "" {
				phrases = append(phrases, n)
			}
		}
		e.faqMatch = append(e.faqMatch, phrases)
	}
	e.submittedMatch = normalizeAll(plan.Submitted)
	e.paymentMatch = normalizeAll(plan.Payment.Match)
	for i, s := range plan.Slots {
		e.slotOrder[s.Key] = i
		if t, ok := slotVarType(s.Type); ok {
			e.vars[s.Key] = t
			e.needSlots[s.Key] = []string{s.Key}
		}
	}
	for _, d := range plan.Derived {
		switch d.Kind {
		case DerivedYears:
			e.vars[d.Key] = rules.Number
			e.needSlots[d.Key] = []string{d.From}
			if d.Since != "" {
				e.needSlots[d.Key] = append(e.needSlots[d.Key], d.Since)
			}
		case DerivedInList:
			e.vars[d.Key] = rules.Bool
			e.needSlots[d.Key] = []string{d.From}
		}
	}
	var specs, escSpecs []rules.ConditionSpec
	for _, c := range plan.Conditions {
		spec := rules.ConditionSpec{Key: c.Key}
		for _, cl := range c.All {
			spec.Clauses = append(spec.Clauses, cl.Expr)
		}
		specs = append(specs, spec)
		for i, esc := range c.Escalate {
			key := fmt.Sprintf("%s escalate %d", c.Key, i+1)
			escSpecs = append(escSpecs, rules.ConditionSpec{Key: key, Clauses: []string{esc.If}})
			e.escalateOf[key] = escalationRef{condition: c.Key, index: i}
		}
	}
	var errs []error
	set, err := rules.Compile(e.vars, specs)
	if err != nil {
		errs = append(errs, err)
	}
	e.rules = set
	if len(escSpecs) > 0 {
		esc, err := rules.Compile(e.vars, escSpecs)
		if err != nil {
			errs = append(errs, err)
		}
		e.escalate = esc
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("plan %s: %w", plan.ID, err)
	}
	return e, nil
}

func normalizeAll(phrases []string) []string {
	var out []string
	for _, p := range phrases {
		if n := answers.Normalize(p); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Plan returns the engine's plan.
func (e *Engine) Plan() *Plan { return e.plan }

func slotVarType(t SlotType) (rules.Type, bool) {
	switch t {
	case SlotBool:
		return rules.Bool, true
	case SlotNumber:
		return rules.Number, true
	case SlotChoice, SlotMonth, SlotText, SlotName, SlotDate:
		return rules.String, true
	}
	return 0, false
}

// turn accumulates one turn's output.
type turn struct {
	ctx context.Context
	s   *Session
	in  Inbound
	now time.Time
	res Result
	// el is the eligibility decide computed for next to reuse; advance
	// clears it once the answers it was computed from may change.
	el *Eligibility
}

func (t *turn) say(text string) { t.res.Messages = append(t.res.Messages, Outbound{Text: text}) }

func (t *turn) emit(ev Event) { t.res.Events = append(t.res.Events, ev) }

// Handle runs one candidate message against the session, which it updates in
// place, and returns the bot's messages and the turn's events. Errors are
// only for failures of the engine's dependencies (the blob store); every
// candidate mistake is a message.
func (e *Engine) Handle(ctx context.Context, s *Session, in Inbound) (Result, error) {
	t := &turn{ctx: ctx, s: s, in: in, now: e.opts.Now().In(ChinaTime)}
	if s.Answers == nil {
		s.Answers = map[string]any{}
	}
	if in.Image != nil && !strings.HasPrefix(s.Step, uploadPrefix) {
		// Not an upload: kept all the same (encrypted, its content is
		// unknown), so nothing a candidate sent is lost.
		ref, err := e.opts.Blobs.Put(ctx, in.Image.Data, true)
		if err != nil {
			return Result{}, fmt.Errorf("store image: %w", err)
		}
		t.res.ImageRef = ref
	}
	run := e.dispatch
	if in.System != nil {
		run = e.systemEvent
	}
	if err := run(t); err != nil {
		return Result{}, err
	}
	return t.res, nil
}

func (e *Engine) dispatch(t *turn) error {
	s, in := t.s, t.in
	if s.Handover != nil {
		if handled, err := e.duringHandover(t); handled {
			return err
		}
	}
	if !s.Welcomed {
		s.Welcomed = true
		t.say(e.plan.Text("welcome"))
		if in.Event != "" || in.Other != "" || (in.Image == nil && in.Choice == "" && isGreeting(in.Text)) {
			e.advance(t)
			return nil
		}
		// The first message is already an answer, a command or a question:
		// handle it against the first step.
		s.Step = e.next(t)
	}
	switch {
	case in.Event == "subscribe":
		t.say(e.plan.Text("welcome_back"))
		e.ask(t)
		return nil
	case in.Other != "":
		t.say(e.plan.Text("unsupported_input"))
		e.ask(t)
		return nil
	}
	if cmd := e.command(in); cmd != cmdNone {
		return e.runCommand(t, cmd)
	}
	if done, err := e.statusWords(t); done || err != nil {
		return err
	}
	if in.Image == nil && in.Choice == "" && isGreeting(in.Text) && in.Text != "" {
		// A greeting mid-conversation: ask again, no failure counted.
		t.say(e.plan.Text("welcome_back"))
		e.ask(t)
		return nil
	}
	if s.Pending != nil {
		return e.answerPending(t)
	}
	if in.Image == nil && in.Choice == "" && e.faq(t) {
		return nil
	}
	return e.answer(t)
}

func isGreeting(text string) bool {
	switch answers.Normalize(text) {
	case "", "你好", "您好", "hi", "hello", "在吗", "在么", "嗨", "/start", "开始":
		return true
	}
	return false
}

// choiceCommands are the engine's command buttons.
var choiceCommands = map[string]command{
	"cmd:back": cmdBack, "cmd:edit": cmdEdit, "cmd:restart": cmdRestart,
	"cmd:progress": cmdProgress, "cmd:help": cmdHelp, choiceHuman: cmdHuman,
	"cmd:package": cmdPackage, choiceEndHuman: cmdEndHuman,
}

func (e *Engine) command(in Inbound) command {
	if in.Choice != "" {
		return choiceCommands[in.Choice]
	}
	if in.Image != nil || in.Text == "" {
		return cmdNone
	}
	return commandWords[strings.TrimSpace(answers.Normalize(in.Text))]
}

func (e *Engine) runCommand(t *turn, cmd command) error {
	s := t.s
	switch cmd {
	case cmdBack:
		e.back(t)
	case cmdEdit:
		e.editMenu(t)
	case cmdRestart:
		fresh := e.NewSession(s.Identity())
		fresh.Welcomed = true
		fresh.Escalations = s.Escalations
		// The official site's status stays; only what the bot collected
		// starts again.
		fresh.Status, fresh.PaymentURL = s.Status, s.PaymentURL
		*s = *fresh
		if s.Status == store.StatusMaterialsReady || s.Status == store.StatusRejected {
			e.setStatus(t, store.StatusCollecting, store.ActorCandidate, "")
		}
		t.say(e.plan.Text("restart"))
		e.advance(t)
	case cmdProgress:
		t.say(e.progress(s))
		if s.Status == store.StatusAwaitingPayment {
			return e.payment(t)
		}
		if s.Step != stepDone || s.Status == store.StatusCollecting {
			e.ask(t)
		}
	case cmdHelp:
		t.say(e.plan.Text("help"))
		e.ask(t)
	case cmdHuman:
		e.requestHuman(t)
	case cmdEndHuman:
		e.endHuman(t)
	case cmdPackage:
		return e.packageLink(t)
	}
	return nil
}

// packageLink sends the link to the candidate's material package.
func (e *Engine) packageLink(t *turn) error {
	has := false
	for _, st := range t.s.Materials {
		has = has || st.Ref != ""
	}
	switch {
	case !has:
		t.say(e.plan.Text("package_empty"))
	case e.opts.PackageLink == nil:
		t.say(e.plan.Text("package_unavailable"))
	default:
		link, err := e.opts.PackageLink(t.ctx, t.s)
		if err != nil {
			return fmt.Errorf("package link: %w", err)
		}
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.plan.Text("package_ready"), Link: link})
	}
	e.ask(t)
	return nil
}

// faq answers a question that matches an FAQ entry and asks the pending
// question again. Free-text steps only take the FAQ when the message reads
// like a question, so an employer name is never mistaken for one.
func (e *Engine) faq(t *turn) bool {
	text := answers.Normalize(t.in.Text)
	if text == "" {
		return false
	}
	if e.freeTextStep(t.s.Step) && !looksLikeQuestion(text) {
		return false
	}
	for i, phrases := range e.faqMatch {
		for _, m := range phrases {
			if strings.Contains(text, m) {
				t.say(e.plan.FAQ[i].Answer)
				e.ask(t)
				return true
			}
		}
	}
	return false
}

func looksLikeQuestion(text string) bool {
	return strings.ContainsAny(text, "?？吗呢") ||
		strings.Contains(text, "怎么") || strings.Contains(text, "如何") ||
		strings.Contains(text, "什么") || strings.Contains(text, "哪") ||
		strings.Contains(text, "多少") || strings.Contains(text, "多久")
}

func (e *Engine) freeTextStep(step string) bool {
	sl, ok := e.slotForStep(step)
	return ok && (sl.Type == SlotText || sl.Type == SlotName)
}

// TurnRecord is what the record keeps of a turn: the answers, the work
// history, the condition, and the turn's documents, tickets and status.
func (e *Engine) TurnRecord(s *Session, in Inbound, res Result) store.Turn {
	t := store.Turn{
		Identity:        s.Identity(),
		PlanID:          s.PlanID,
		MsgID:           in.MsgID,
		Answers:         s.Answers,
		WorkHistory:     s.Work,
		Condition:       s.Condition,
		Outbox:          res.Outbox,
		CancelReminders: res.CancelReminders,
		At:              e.opts.Now(),
	}
	if in.System != nil {
		t.System = true
	} else {
		t.Inbound = inboundText(in, res.ImageRef)
	}
	if in.System != nil {
		// Staff, an import or the system: nothing the candidate said.
		t.System, t.StatusActor, t.StatusReason = true, in.System.Actor, in.System.Reason
	}
	for _, ev := range res.Events {
		switch ev.Kind {
		case EventMaterial:
			if ev.Document != nil {
				t.Documents = append(t.Documents, *ev.Document)
			}
		case EventEscalation:
			t.Escalations = append(t.Escalations, store.Escalation{Reason: ev.Reason, Text: ev.Text, Code: ev.Code, Handover: ev.Handover, At: t.At})
		case EventTicket:
			if ev.Ticket != nil {
				t.Tickets = append(t.Tickets, *ev.Ticket)
			}
		case EventStatus:
			t.Status, t.StatusActor, t.StatusReason = ev.Status, ev.Actor, ev.Reason
		}
	}
	return t
}

func inboundText(in Inbound, imageRef string) string {
	switch {
	case in.System != nil:
		return "[系统 " + in.System.Actor + "]"
	case in.Image != nil:
		return "[图片 " + imageRef + "]"
	case in.Choice != "":
		return "[选择] " + in.Choice
	case in.Event != "":
		return "[事件] " + in.Event
	case in.Other != "":
		return "[" + in.Other + "]"
	}
	return in.Text
}
