package dialogs

import "strconv"

// offerUnlisted asks about an answer that is not in the slot's list: "您是
// 指…？" when entries come close or an everyday word suggests some, else
// whether to re-enter it, keep it, or have staff judge it (first, for a
// title staff usually accept).
func (e *Engine) offerUnlisted(t *turn, sl *Slot, u *unlistedError) {
	if len(u.miss.suggestions) > 0 {
		p := &Pending{Kind: PendingSuggest, Value: u.text}
		for i, sug := range u.miss.suggestions {
			p.Choices = append(p.Choices, Choice{ID: "s" + strconv.Itoa(i+1), Label: sug})
		}
		p.Choices = append(p.Choices, Choice{ID: choiceNone, Label: e.text("none_of_these")})
		t.s.Pending = p
		e.ask(t)
		return
	}
	e.askUnlisted(t, u.text, u.miss.review)
}

func (e *Engine) askUnlisted(t *turn, text string, review bool) {
	retry, keep, human := e.choice(choiceRetry, "label_retry"), e.choice(choiceKeep, "label_keep"), e.choice(choiceHuman, "label_human_review")
	choices := []Choice{retry, keep, human}
	if review {
		choices = []Choice{human, retry, keep}
	}
	t.s.Pending = &Pending{Kind: PendingUnlisted, Value: text, Choices: choices}
	e.ask(t)
}

func (e *Engine) pendingText(s *Session, p *Pending) string {
	switch p.Kind {
	case PendingSuggest:
		return e.text("did_you_mean")
	case PendingUnlisted:
		if sl, ok := e.slotForStep(s.Step); ok && sl.List != "" {
			return fill(e.plan.Lists[sl.List].Unlisted, "value", p.Value)
		}
	case PendingEdit:
		return e.text("edit_menu")
	case PendingEditField:
		return e.text("edit_work_fields", "period", p.Value)
	case PendingFixOffer:
		return e.text("fix_offer")
	case PendingFixConfirm:
		return e.text("fix_confirm")
	case PendingRestart:
		return e.text("restart_confirm")
	case PendingWhich:
		if p.Value == "" { // no image waiting: 先发其他材料
			return e.text("which_material_next")
		}
		return e.text("which_material")
	}
	return ""
}

// answerPending handles the answer to a sub-question.
func (e *Engine) answerPending(t *turn) error {
	s := t.s
	p := s.Pending
	switch p.Kind {
	case PendingFixOffer, PendingFixConfirm:
		return e.answerFix(t)
	case PendingEdit:
		return e.answerEdit(t)
	case PendingEditField:
		return e.answerEditField(t)
	case PendingRestart:
		return e.answerRestart(t)
	case PendingWhich:
		return e.answerWhich(t)
	}
	st, ok := e.parseStep(s.Step)
	if !ok {
		e.advance(t)
		return nil
	}
	id, ok := pickChoice(t.in, p.Choices)
	if !ok {
		if t.in.Text != "" && t.in.Choice == "" {
			// A new answer typed instead of a choice: take it afresh.
			s.Pending = nil
			return e.answer(t)
		}
		return e.fail(t, e.text("pick_choice"))
	}
	switch {
	case p.Kind == PendingSuggest && id == choiceNone:
		e.askUnlisted(t, p.Value, false)
		return nil
	case p.Kind == PendingSuggest:
		for _, c := range p.Choices {
			if c.ID == id {
				s.Pending = nil
				return e.commit(t, st, c.Label)
			}
		}
	case id == choiceHuman:
		// Staff judge the answer; it is kept as typed (not counted as
		// related) until they do, and the conversation goes on.
		s.Pending = nil
		code := e.escalateTo(t, TicketReview+":"+st.answerSlot().List, p.Value, false)
		t.say(e.ticketText(t, "ticket_review", code))
		return e.commit(t, st, unlisted(p.Value))
	case id == choiceRetry:
		s.Pending = nil
		e.ask(t)
		return nil
	case id == choiceKeep:
		s.Pending = nil
		return e.commit(t, st, unlisted(p.Value))
	}
	return nil
}
