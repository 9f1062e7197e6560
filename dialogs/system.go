package dialogs

import (
	"fmt"
	"strings"

	"regbot/store"
)

// systemEvent runs a turn that does not come from the candidate. A status
// change goes to system (dialogs/status.go); a staff reply or close on a
// ticket, and a material staff rejected in their review, are handled here.
// Either way the candidate hears about it through the outbox: a system turn
// has no reply.
func (e *Engine) systemEvent(t *turn) error {
	ev, s := t.in.System, t.s
	review := len(ev.Reopen) > 0 && ev.Status == ""
	if ev.Ticket == "" && !review {
		return e.system(t)
	}
	if !s.Welcomed {
		return ErrUnknownCandidate
	}
	if !strings.HasPrefix(ev.Actor, "staff:") || !store.ValidActor(ev.Actor) {
		return fmt.Errorf("%w: actor %q (want staff:<id>)", ErrBadSystemEvent, ev.Actor)
	}
	if ev.Ticket != "" {
		e.staffTicket(t)
	}
	if review {
		if err := e.reviewReopen(t); err != nil {
			return err
		}
	}
	if len(t.res.Messages) == 0 {
		return nil
	}
	payload, err := EncodeMessages(t.res.Messages)
	if err != nil {
		return err
	}
	out := store.Outgoing{Identity: s.Identity(), Kind: store.OutStaff, Payload: payload}
	if t.in.MsgID != "" {
		out.Key = "staff:" + s.Identity().Key() + ":" + t.in.MsgID
	}
	t.res.Outbox = append(t.res.Outbox, out)
	t.res.Messages = nil
	return nil
}

// reviewReopen is staff rejecting materials (or answers) in their review of
// the application: the candidate hears why and is walked through giving
// them again; a complete application goes back to collecting. Unlike a
// rejection by the official review it does not change the status
// otherwise.
func (e *Engine) reviewReopen(t *turn) error {
	ev, s := t.in.System, t.s
	steps, err := e.reopenSteps(&SystemEvent{Reopen: ev.Reopen, Status: store.StatusCollecting})
	if err != nil {
		return err
	}
	t.say(strings.ReplaceAll(e.plan.Text("reopened"), "{reason}", ev.Reason))
	if s.Status == store.StatusMaterialsReady {
		e.setStatus(t, store.StatusCollecting, ev.Actor, ev.Reason)
	}
	e.reopen(t, steps)
	return nil
}
