package dialogs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"regbot/dialogs/answers"
	"regbot/store"
)

// What happens after the materials: the application's status (DOMAIN.md §5)
// as the candidate lives it. Staff and imports move it with system turns;
// the candidate moves it by saying they submitted on the official site; the
// bot moves it when the last material passes or an edit re-opens one. Every
// move is a status event with its actor and reason, checked against the
// status machine (store.CheckTransition) here and again by the store.

// Errors of system turns, for the import and the admin API to report.
var (
	// ErrUnknownCandidate is a system event for someone the bot never
	// talked to.
	ErrUnknownCandidate = errors.New("unknown candidate: the bot never talked to them")
	// ErrBadSystemEvent is a system event the engine cannot apply (an
	// unknown actor, an item to re-open that the plan does not have).
	ErrBadSystemEvent = errors.New("bad system event")
)

// qrFileName is the name the payment QR image is sent under.
const qrFileName = "payment-qr.png"

// qrSize is the QR image's side in pixels: scannable from a phone screen.
const qrSize = 512

// choiceSubmitted is the "I submitted on the official site" button.
const choiceSubmitted = "cmd:submitted"

// system applies a status change made by staff, an import or the system. A
// system turn has no reply: what the candidate must hear goes to the outbox
// as one notification, keyed by the turn's message id so that it is queued
// once whatever retries the caller makes. A change to the current status
// is no change and says nothing.
func (e *Engine) system(t *turn) error {
	ev, s := t.in.System, t.s
	if !s.Welcomed {
		return ErrUnknownCandidate
	}
	if !store.ValidActor(ev.Actor) || ev.Actor == store.ActorCandidate {
		return fmt.Errorf("%w: actor %q (want staff:<id>, import or system)", ErrBadSystemEvent, ev.Actor)
	}
	if ev.Status == "" || ev.Status == s.Status {
		return nil
	}
	if err := store.CheckTransition(s.Status, ev.Status, ev.Reason); err != nil {
		return err
	}
	steps, err := e.reopenSteps(ev)
	if err != nil {
		return err
	}
	e.setStatus(t, ev.Status, ev.Actor, ev.Reason)
	if ev.PaymentURL != "" {
		s.PaymentURL = ev.PaymentURL
	}
	if err := e.notify(t, steps); err != nil {
		return err
	}
	payload, err := EncodeMessages(t.res.Messages)
	if err != nil {
		return err
	}
	out := store.Outgoing{Identity: s.Identity(), Kind: store.OutNotification, Payload: payload}
	if t.in.MsgID != "" {
		out.Key = "status:" + s.Identity().Key() + ":" + t.in.MsgID
	}
	t.res.Outbox = append(t.res.Outbox, out)
	t.res.Messages = nil
	return nil
}

// reopenSteps turns the items staff chose to re-open (material and slot
// keys) into the steps that ask them again, in the plan's order of asking.
func (e *Engine) reopenSteps(ev *SystemEvent) ([]string, error) {
	if len(ev.Reopen) == 0 {
		return nil, nil
	}
	if ev.Status != store.StatusRejected && ev.Status != store.StatusCollecting {
		return nil, fmt.Errorf("%w: items to re-open go with rejected or collecting, not %s", ErrBadSystemEvent, ev.Status)
	}
	var unknown []string
	want := map[string]bool{}
	for _, item := range ev.Reopen {
		item = strings.TrimSpace(item)
		_, isMaterial := e.plan.Material(item)
		_, isSlot := e.plan.Slot(item)
		if !isMaterial && !isSlot {
			unknown = append(unknown, item)
		}
		want[item] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s: not a material or answer of plan %s", ErrBadSystemEvent, strings.Join(unknown, ", "), e.plan.ID)
	}
	var steps []string
	for _, sl := range e.plan.Slots {
		if want[sl.Key] {
			steps = append(steps, sl.Key)
		}
	}
	for _, m := range e.plan.Materials {
		if want[m.Key] {
			steps = append(steps, uploadPrefix+m.Key)
		}
	}
	return steps, nil
}

// setStatus moves the session to status and emits the status event the
// record keeps. The caller has checked the transition.
func (e *Engine) setStatus(t *turn, to store.Status, actor, reason string) {
	t.s.Status = to
	t.emit(Event{Kind: EventStatus, Status: to, Actor: actor, Reason: reason})
}

// notify says what the new status means for the candidate, and for a
// rejection starts the walk through the items to give again.
func (e *Engine) notify(t *turn, steps []string) error {
	s := t.s
	head := strings.ReplaceAll(e.plan.Text("status_changed"), "{status}", e.statusLabel(s.Status))
	switch s.Status {
	case store.StatusRejected:
		s.Reason = t.in.System.Reason
		t.say(head + "\n" + strings.ReplaceAll(e.plan.Text("rejected_reason"), "{reason}", s.Reason))
		if len(steps) == 0 {
			t.say(e.plan.Text("status_next_rejected"))
			return nil
		}
		e.reopen(t, steps)
		return nil
	case store.StatusCollecting:
		t.say(head + "\n" + e.plan.Text("status_next_collecting"))
		e.reopen(t, steps)
		return nil
	case store.StatusMaterialsReady:
		t.say(head)
		e.registrationGuide(t)
		return nil
	case store.StatusAwaitingPayment:
		t.say(head)
		return e.payment(t)
	}
	t.say(head + "\n" + e.plan.Text("status_next_"+string(s.Status)))
	return nil
}

// reopen clears the re-opened materials (the record keeps the old
// documents; the new upload supersedes them), restarts a re-opened work
// history, keeps re-opened answers to show as the current value, and asks
// the first item.
func (e *Engine) reopen(t *turn, steps []string) {
	s := t.s
	s.Fix = steps
	s.Pending, s.Fails = nil, 0
	for _, st := range steps {
		if m, ok := strings.CutPrefix(st, uploadPrefix); ok {
			delete(s.Materials, m)
			continue
		}
		if sl, ok := e.plan.Slot(st); ok && sl.Type == SlotGroup {
			s.Work, s.Draft, s.WorkDone = nil, nil, false
		}
	}
	if len(steps) > 0 {
		t.say(strings.ReplaceAll(e.plan.Text("rejected_fix"), "{items}", e.fixItems(s)))
	}
	s.Step = e.next(t)
	e.ask(t)
}

// fixItems names the items still to give again.
func (e *Engine) fixItems(s *Session) string {
	var names []string
	for _, st := range s.Fix {
		if m, ok := strings.CutPrefix(st, uploadPrefix); ok {
			mat, _ := e.plan.Material(m)
			names = append(names, mat.Name)
			continue
		}
		if sl, ok := e.plan.Slot(st); ok {
			names = append(names, sl.Label)
		}
	}
	return strings.Join(names, "、")
}

// nextFix returns the step of the first re-opened item still to give, ""
// when none is left. Called once eligibility is decided.
func (e *Engine) nextFix(s *Session) string {
	if len(s.Fix) == 0 {
		return ""
	}
	st := s.Fix[0]
	if sl, ok := e.plan.Slot(st); ok && sl.Type == SlotGroup {
		return st + "." + groupMore
	}
	return st
}

// fixDone drops the re-opened items the candidate has given again: the
// answer to the step just answered, an accepted upload, a finished work
// history, and uploads the chosen condition no longer needs. It reports
// whether the last one went in this turn.
func (e *Engine) fixDone(s *Session) bool {
	if len(s.Fix) == 0 {
		return false
	}
	c, _ := e.plan.Condition(s.Condition)
	s.Fix = slices.DeleteFunc(s.Fix, func(st string) bool {
		if m, ok := strings.CutPrefix(st, uploadPrefix); ok {
			return s.Materials[m].Ref != "" || s.Materials[m].Escalated || (c != nil && !slices.Contains(c.Materials, m))
		}
		if sl, ok := e.plan.Slot(st); ok && sl.Type == SlotGroup {
			return s.WorkDone && s.Draft == nil
		}
		return s.Step == st
	})
	return len(s.Fix) == 0
}

// statusAfterEdit moves the status back when an edit re-opened the
// application: from materials_ready when a material is missing again or no
// condition holds any more, from rejected when no condition holds.
func (e *Engine) statusAfterEdit(t *turn) {
	s := t.s
	if !s.Decided {
		return
	}
	ineligible := s.Step == stepNone
	missing := strings.HasPrefix(s.Step, uploadPrefix)
	switch {
	case s.Status == store.StatusMaterialsReady && (ineligible || missing),
		s.Status == store.StatusRejected && ineligible:
		e.setStatus(t, store.StatusCollecting, store.ActorSystem, "")
		t.say(e.plan.Text("status_reopened"))
	}
}

// statusLabel is the status as the candidate reads it.
func (e *Engine) statusLabel(st store.Status) string {
	return e.plan.Text("status_" + string(st))
}

// payment sends the payment link and its QR code, or where to pay when
// no payment page is known.
func (e *Engine) payment(t *turn) error {
	url := cmp.Or(t.s.PaymentURL, e.plan.Payment.URL)
	if url == "" {
		t.say(e.plan.Text("status_next_awaiting_payment") + "\n" + e.plan.Text("payment_no_link"))
		return nil
	}
	png, err := qrcode.Encode(url, qrcode.Medium, qrSize)
	if err != nil {
		return fmt.Errorf("payment qr: %w", err)
	}
	ref, err := e.opts.Blobs.Put(t.ctx, png, false)
	if err != nil {
		return fmt.Errorf("store payment qr: %w", err)
	}
	t.res.Messages = append(t.res.Messages,
		Outbound{Text: e.plan.Text("status_next_awaiting_payment"), Link: &Link{Label: e.plan.Text("payment_link_label"), URL: url}},
		Outbound{Text: e.plan.Text("payment_qr"), Image: &OutImage{Name: qrFileName, Ref: ref, Data: png}})
	return nil
}

// statusWords answers what a candidate says about the application itself
// wherever they are: "I submitted on the official site" and "how do I
// pay". It reports whether the message was one of them.
func (e *Engine) statusWords(t *turn) (bool, error) {
	in := t.in
	if in.Choice == choiceSubmitted {
		e.submitted(t)
		return true, nil
	}
	if in.Choice != "" || in.Image != nil {
		return false, nil
	}
	text := answers.Normalize(in.Text)
	if text == "" || (e.freeTextStep(t.s.Step) && t.s.Pending == nil && !e.words.isQuestion(text) && !e.saysOnly(text)) {
		return false, nil
	}
	switch {
	case matchesAny(text, e.submittedMatch):
		e.submitted(t)
		return true, nil
	case matchesAny(text, e.paymentMatch):
		return true, e.paymentAnswer(t)
	}
	return false, nil
}

// saysOnly reports whether text is exactly one of the status phrases: on a
// free-text step only that counts, so an employer's name is never taken
// for one.
func (e *Engine) saysOnly(text string) bool {
	return slices.Contains(e.submittedMatch, text) || slices.Contains(e.paymentMatch, text)
}

func matchesAny(text string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

// submitted is the candidate saying they submitted on the official site:
// under_review from materials_ready or rejected.
func (e *Engine) submitted(t *turn) {
	s := t.s
	switch s.Status {
	case store.StatusMaterialsReady, store.StatusRejected:
		e.setStatus(t, store.StatusUnderReview, store.ActorCandidate, "")
		s.Fix = nil
		t.say(strings.ReplaceAll(e.plan.Text("submitted_already"), "{status}", e.statusLabel(s.Status)) + "\n" +
			e.plan.Text("status_next_under_review"))
	case store.StatusCollecting:
		t.say(e.plan.Text("submitted_too_early"))
		e.ask(t)
	default:
		t.say(strings.ReplaceAll(e.plan.Text("submitted_already"), "{status}", e.statusLabel(s.Status)) + "\n" +
			e.plan.Text("status_next_"+string(s.Status)))
	}
}

// paymentAnswer answers 怎么缴费 for the candidate's status: the QR code
// while awaiting payment, else "not yet" and where they are.
func (e *Engine) paymentAnswer(t *turn) error {
	s := t.s
	switch s.Status {
	case store.StatusAwaitingPayment:
		return e.payment(t)
	case store.StatusPaid, store.StatusTicketReady, store.StatusWithdrawn:
		t.say(strings.ReplaceAll(e.plan.Text("submitted_already"), "{status}", e.statusLabel(s.Status)) + "\n" +
			e.plan.Text("status_next_"+string(s.Status)))
		return nil
	}
	t.say(strings.ReplaceAll(e.plan.Text("payment_not_yet"), "{status}", e.statusLabel(s.Status)))
	e.ask(t)
	return nil
}

// statusNow says, at the end of the questions, where the application is
// and what to do now.
func (e *Engine) statusNow(t *turn) {
	s := t.s
	switch s.Status {
	case store.StatusCollecting:
		t.say(e.allDone())
	case store.StatusMaterialsReady:
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.allDone(),
			Choices: []Choice{e.choice(choiceSubmitted, "label_submitted")}})
	case store.StatusRejected:
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.plan.Text("status_next_rejected"),
			Choices: []Choice{e.choice(choiceSubmitted, "label_submitted")}})
	default:
		t.say(e.plan.Text("status_next_" + string(s.Status)))
	}
}

// progressStatus is the status part of 进度: the status, what to do now,
// the rejection's reason and what is still to give again.
func (e *Engine) progressStatus(s *Session) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(e.plan.Text("progress_status"), "{status}", e.statusLabel(s.Status)))
	if s.Status == store.StatusCollecting {
		return b.String()
	}
	if s.Status == store.StatusRejected && s.Reason != "" {
		b.WriteString("\n" + strings.ReplaceAll(e.plan.Text("rejected_reason"), "{reason}", s.Reason))
	}
	if len(s.Fix) > 0 {
		b.WriteString("\n" + strings.ReplaceAll(e.plan.Text("progress_fix"), "{items}", e.fixItems(s)))
	}
	if s.Status != store.StatusAwaitingPayment { // the payment message follows
		b.WriteString("\n" + e.plan.Text("status_next_"+string(s.Status)))
	}
	return b.String()
}
