package dialogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// BlobStore is Blobs plus reading back, which the photo fix and a material
// named after it was sent need.
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
	// lists are the compiled vocabularies, by list name.
	lists map[string]*vocabulary
	// needSlots maps a rule variable to the slots that decide it.
	needSlots map[string][]string
	slotOrder map[string]int
	// words is the compiled understanding: commands, greetings, question
	// words and the FAQ index.
	words *understanding
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

// Choice ids the engine uses for its own buttons.
const (
	choiceYes       = "yes"
	choiceNo        = "no"
	choiceHuman     = "cmd:human"
	choiceEndHuman  = "cmd:end_human"
	choiceRetry     = "retry"
	choiceKeep      = "keep"
	choiceNone      = "none"
	choiceFix       = "fix"
	choiceResend    = "resend"
	choiceUseFix    = "use_fixed"
	choiceConfirm   = "confirm"
	choiceCancel    = "cancel"
	choiceOther     = "other_material"
	choiceAddWork   = "work:add"
	choiceDelete    = "work:delete"
	materialPrefix  = "material:"
	editPrefix      = "edit:"
	workPrefix      = "work:"
	fieldPrefix     = "field:"
	stepDone        = "done"
	stepNone        = "ineligible"
	uploadPrefix    = "upload:"
	maxFailsInRow   = 3
	maxTextAnswer   = 100
	fingerprintBits = 6
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
		opts.Inspector = DefaultInspector{Unreadable: plan.Text("unreadable_image")}
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
		lists:      map[string]*vocabulary{},
		needSlots:  map[string][]string{},
		slotOrder:  map[string]int{},
		escalateOf: map[string]escalationRef{},
	}
	var errs []error
	for name, list := range plan.Lists {
		v, err := newVocabulary(list)
		if err != nil {
			errs = append(errs, fmt.Errorf("lists.%s: %w", name, err))
			continue
		}
		e.lists[name] = v
	}
	e.words = newUnderstanding(plan)
	e.submittedMatch = normalizeAll(plan.Submitted)
	e.paymentMatch = normalizeAll(plan.Payment.Match)
	e.compileVars()
	errs = append(errs, e.compileRules()...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("plan %s: %w", plan.ID, err)
	}
	return e, nil
}

// compileVars declares the rule variables: the slots and derived values.
func (e *Engine) compileVars() {
	for i, s := range e.plan.Slots {
		e.slotOrder[s.Key] = i
		if t, ok := slotVarType(s.Type); ok {
			e.vars[s.Key] = t
			e.needSlots[s.Key] = []string{s.Key}
		}
	}
	for _, d := range e.plan.Derived {
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
}

// compileRules compiles the conditions and their escalations.
func (e *Engine) compileRules() []error {
	var specs, escSpecs []rules.ConditionSpec
	for _, c := range e.plan.Conditions {
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
	return errs
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
	// workChanged is set when the work history changed in this turn: the
	// computed work years are said again.
	workChanged bool
}

func (t *turn) say(text string) { t.res.Messages = append(t.res.Messages, Outbound{Text: text}) }

func (t *turn) emit(ev Event) { t.res.Events = append(t.res.Events, ev) }

// text is the plan's text for key with its placeholders filled.
func (e *Engine) text(key string, kv ...string) string { return fill(e.plan.Texts[key], kv...) }

// Handle runs one candidate message against the session, which it updates in
// place, and returns the bot's messages and the turn's events. Errors are
// only for failures of the engine's dependencies (the blob store); every
// candidate mistake is a message.
func (e *Engine) Handle(ctx context.Context, s *Session, in Inbound) (Result, error) {
	t := &turn{ctx: ctx, s: s, in: in, now: e.opts.Now().In(ChinaTime)}
	if s.Answers == nil {
		s.Answers = map[string]any{}
	}
	run := e.dispatch
	if in.System != nil {
		run = e.systemEvent
	}
	var before []byte
	if s.Soon != nil && s.Soon.Reminder {
		before = answersPrint(s)
	}
	if err := run(t); err != nil {
		return Result{}, err
	}
	e.cancelMootReminder(t, before)
	return t.res, nil
}

// dispatch is the order in which a message is understood: the welcome,
// platform events, images, then for text a command, a greeting, a question
// (never stored as an answer) and only then an answer to what was asked.
func (e *Engine) dispatch(t *turn) error {
	s, in := t.s, t.in
	if s.Handover != nil {
		if handled, err := e.duringHandover(t); handled {
			return err
		}
	}
	if !s.Welcomed {
		s.Welcomed = true
		t.say(e.text("welcome"))
		if in.Event != "" || in.Other != "" || (in.Image == nil && in.Choice == "" && e.words.greeting(in.Text)) {
			e.advance(t)
			return nil
		}
		// The first message is already an answer, a command or a question:
		// handle it against the first step.
		s.Step = e.next(t)
	}
	switch {
	case in.Event == "subscribe":
		t.say(e.text("welcome_back"))
		e.remindMissing(t)
		e.ask(t)
		return nil
	case in.Other != "":
		t.say(e.text("unsupported_input"))
		e.ask(t)
		return nil
	case in.Image != nil:
		return e.image(t)
	}
	// 转人工审核 under an unlisted answer is the pending question's own
	// choice (a review ticket, the answer kept), not the 转人工 command.
	reviewAsked := s.Pending != nil && s.Pending.Kind == PendingUnlisted && in.Choice == choiceHuman
	if cmd := e.command(in); cmd != cmdNone && !reviewAsked {
		return e.runCommand(t, cmd)
	}
	if done, err := e.statusWords(t); done || err != nil {
		return err
	}
	if in.Choice == "" && e.words.greeting(in.Text) {
		// A greeting mid-conversation: greet back and ask again.
		t.say(e.text("greeting"))
		e.remindMissing(t)
		e.ask(t)
		return nil
	}
	if in.Choice == "" && e.question(t) {
		return nil
	}
	if s.Pending != nil {
		return e.answerPending(t)
	}
	return e.answer(t)
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
		// Staff, an import or the system: nothing the candidate said.
		t.System, t.StatusActor, t.StatusReason = true, in.System.Actor, in.System.Reason
	} else {
		t.Inbound = e.InboundRecord(in, res.ImageRef)
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

// InboundRecord is how the record shows an inbound message (for staff,
// not for candidates): its text, or the plan's record_* text for a system
// turn, an image (by its blob reference), a choice or an event.
func (e *Engine) InboundRecord(in Inbound, imageRef string) string {
	switch {
	case in.System != nil:
		return fill(e.plan.Text("record_system"), "actor", in.System.Actor)
	case in.Image != nil:
		return fill(e.plan.Text("record_image"), "ref", imageRef)
	case in.Choice != "":
		return fill(e.plan.Text("record_choice"), "choice", in.Choice)
	case in.Event != "":
		return fill(e.plan.Text("record_event"), "event", in.Event)
	case in.Other != "":
		return "[" + in.Other + "]"
	}
	return in.Text
}

// normalized is the comparison form of what a candidate typed: Normalize
// without spaces and surrounding punctuation.
func normalized(text string) string {
	return trimPunctSpace(answers.Normalize(text))
}
