package dialogs

import (
	"fmt"

	"regbot/store"
)

// runCommand carries out a command; every command ends by asking the
// current question again (or its replacement).
func (e *Engine) runCommand(t *turn, cmd command) error {
	s := t.s
	switch cmd {
	case cmdBack:
		e.back(t)
	case cmdEdit:
		e.editMenu(t)
	case cmdRestart:
		if !e.hasProgress(s) {
			e.restart(t)
			return nil
		}
		s.Pending = &Pending{Kind: PendingRestart, Choices: []Choice{
			e.choice(choiceConfirm, "label_confirm_restart"),
			e.choice(choiceCancel, "label_cancel"),
		}}
		e.ask(t)
	case cmdProgress:
		t.say(e.progress(s))
		if s.Status == store.StatusAwaitingPayment {
			return e.payment(t)
		}
		if s.Step != stepDone || s.Status == store.StatusCollecting {
			e.ask(t)
		}
	case cmdHelp:
		t.say(e.text("help"))
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

// hasProgress reports whether a restart would lose anything.
func (e *Engine) hasProgress(s *Session) bool {
	return len(s.Answers) > 0 || len(s.Work) > 0 || s.Draft != nil || s.WorkDone || len(s.Materials) > 0
}

// answerRestart handles the confirmation of 重新开始: only a clear yes
// clears the answers.
func (e *Engine) answerRestart(t *turn) error {
	s := t.s
	id, ok := pickChoice(t.in, s.Pending.Choices)
	if !ok && t.in.Text != "" {
		if yes, err := e.parseBool(t.in); err == nil && yes {
			id, ok = choiceConfirm, true
		}
	}
	s.Pending = nil
	if ok && id == choiceConfirm {
		e.restart(t)
		return nil
	}
	t.say(e.text("restart_cancelled"))
	e.ask(t)
	return nil
}

// restart clears the answers and uploads and starts again; tickets stay,
// and the status unless the materials are what it is about.
func (e *Engine) restart(t *turn) {
	s := t.s
	fresh := e.NewSession(s.Identity())
	fresh.Welcomed = true
	fresh.Escalations = s.Escalations
	// The open tickets stay where more of the same go.
	fresh.Questions, fresh.Failures = s.Questions, s.Failures
	// The official site's status stays; only what the bot collected
	// starts again.
	fresh.Status, fresh.PaymentURL = s.Status, s.PaymentURL
	*s = *fresh
	if s.Status == store.StatusMaterialsReady || s.Status == store.StatusRejected {
		e.setStatus(t, store.StatusCollecting, store.ActorCandidate, "")
	}
	t.say(e.text("restart"))
	e.advance(t)
}

// packageLink sends the link to the candidate's material package.
func (e *Engine) packageLink(t *turn) error {
	has := false
	for _, st := range t.s.Materials {
		has = has || st.Ref != ""
	}
	switch {
	case !has:
		t.say(e.text("package_empty"))
	case e.opts.PackageLink == nil:
		t.say(e.text("package_unavailable"))
	default:
		link, err := e.opts.PackageLink(t.ctx, t.s)
		if err != nil {
			return fmt.Errorf("package link: %w", err)
		}
		t.res.Messages = append(t.res.Messages, Outbound{Text: e.text("package_ready"), Link: link})
	}
	e.ask(t)
	return nil
}

// back returns to the previous question; its answer is kept and shown as the
// default.
func (e *Engine) back(t *turn) {
	s := t.s
	s.Pending = nil
	s.Fails = 0
	s.Help = false
	s.EditWork = 0
	if len(s.Trail) == 0 {
		t.say(e.text("back_none"))
		e.ask(t)
		return
	}
	prev := s.Trail[len(s.Trail)-1]
	s.Trail = s.Trail[:len(s.Trail)-1]
	st, ok := e.parseStep(prev)
	if ok && st.slot != nil && st.slot.Type == SlotGroup {
		switch {
		case st.more:
			// Undo the answer to "another entry?".
			if s.Draft != nil && *s.Draft == (store.WorkEntry{}) {
				s.Draft = nil
			}
			s.WorkDone = false
		case s.Draft == nil && len(s.Work) > 0:
			// Reopen the last finished entry at its last field.
			last := s.Work[len(s.Work)-1]
			s.Work = s.Work[:len(s.Work)-1]
			s.Draft = &last
			s.WorkDone = false
		}
	}
	s.Step = prev
	e.ask(t)
}
