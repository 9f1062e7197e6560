package dialogs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"regbot/store"
)

// "You will qualify on …": when no condition holds yet but one will with
// time alone (related work going on 至今), the bot names the month and
// offers a reminder. The reminder is an outbox message of kind reminder,
// due that month; a turn that changes the answers cancels it
// (Result.CancelReminders), since the month it promised may be wrong now.

// Forecast is the condition a candidate will meet with time alone, as the
// session keeps it.
type Forecast struct {
	Condition string `json:"condition"`
	// Month is the first month it holds, "YYYY-MM".
	Month string `json:"month"`
	// Reminder is set while a reminder for Month is queued; Declined when
	// the candidate said no to one.
	Reminder bool `json:"reminder,omitempty"`
	Declined bool `json:"declined,omitempty"`
}

// The buttons of the reminder offer.
const (
	choiceRemind   = "remind"
	choiceNoRemind = "no_remind"
	choiceContinue = "cmd:continue"
)

// reminderHour is when, on the first day of the month, a reminder is due
// (China time).
const reminderHour = 10

// forecast keeps what the session knows of el's Soon: the reminder and the
// refusal stay while the promise is the same.
func forecast(soon *Soon, old *Forecast) *Forecast {
	if soon == nil {
		return nil
	}
	f := &Forecast{Condition: soon.Condition, Month: soon.Month}
	if old != nil && old.Condition == f.Condition && old.Month == f.Month {
		f.Reminder, f.Declined = old.Reminder, old.Declined
	}
	return f
}

// sayQualifySoon tells when a condition will hold.
func (e *Engine) sayQualifySoon(t *turn) {
	f := t.s.Soon
	if f == nil {
		return
	}
	c, _ := e.plan.Condition(f.Condition)
	year, month := monthParts(f.Month)
	t.say(strings.NewReplacer("{year}", year, "{month}", month, "{condition}", c.Label, "{title}", c.Short).
		Replace(e.plan.Text("qualify_soon")))
}

func monthParts(ym string) (year, month string) {
	y, m, _ := strings.Cut(ym, "-")
	n, _ := strconv.Atoi(m)
	return y, strconv.Itoa(n)
}

// noneStepChoices are the buttons when no condition holds: a reminder
// offer first when one is worth making, then edit, human, restart.
func (e *Engine) noneStepChoices(s *Session) []Choice {
	if f := s.Soon; f != nil && !f.Reminder && !f.Declined {
		return append([]Choice{e.choice(choiceRemind, "label_remind"), e.choice(choiceNoRemind, "label_no_remind")}, e.noneChoices()...)
	}
	return e.noneChoices()
}

// askNone is the question when no condition holds.
func (e *Engine) askNone(t *turn) {
	text := e.plan.Text("none_next")
	if f := t.s.Soon; f != nil && !f.Reminder && !f.Declined {
		text = e.plan.Text("remind_offer")
	}
	t.res.Messages = append(t.res.Messages, Outbound{Text: text, Choices: e.noneStepChoices(t.s)})
}

// answerNone handles a message when no condition holds: time may have made
// one hold (a reminder brought the candidate back), else the buttons.
func (e *Engine) answerNone(t *turn) error {
	s := t.s
	if el := e.Evaluate(s, t.now); !el.Decided || el.Condition != "" {
		e.advance(t)
		return nil
	}
	id, ok := pickChoice(t.in, e.noneStepChoices(s))
	switch {
	case ok && id == choiceRemind:
		return e.remind(t)
	case ok && id == choiceNoRemind:
		s.Soon.Declined = true
		t.say(e.plan.Text("reminder_declined"))
		e.ask(t)
		return nil
	case ok:
		return e.runCommand(t, choiceCommands[id])
	}
	t.say(e.plan.Text("unknown_input"))
	e.ask(t)
	return nil
}

// remind queues the reminder for the forecast's month.
func (e *Engine) remind(t *turn) error {
	s := t.s
	f := s.Soon
	c, _ := e.plan.Condition(f.Condition)
	year, month := monthParts(f.Month)
	fill := strings.NewReplacer("{year}", year, "{month}", month, "{condition}", c.Label, "{title}", c.Short)
	due, err := time.ParseInLocation("2006-01", f.Month, ChinaTime)
	if err != nil {
		return fmt.Errorf("reminder month %q: %w", f.Month, err)
	}
	payload, err := EncodeMessages([]Outbound{{Text: fill.Replace(e.plan.Text("reminder")),
		Choices: []Choice{e.choice(choiceContinue, "label_continue")}}})
	if err != nil {
		return err
	}
	s.Reminders++
	t.res.Outbox = append(t.res.Outbox, store.Outgoing{
		Identity: s.Identity(), Kind: store.OutReminder, Payload: payload,
		NotBefore: due.Add(reminderHour * time.Hour),
		Key:       fmt.Sprintf("reminder:%s:%s:%d", s.Identity().Key(), s.PlanID, s.Reminders),
	})
	f.Reminder = true
	t.say(fill.Replace(e.plan.Text("reminder_set")))
	e.ask(t)
	return nil
}

// answersPrint is what a reminder depends on: the answers and the work
// history.
func answersPrint(s *Session) []byte {
	data, _ := json.Marshal(struct {
		A map[string]any    `json:"a"`
		W []store.WorkEntry `json:"w"`
		D *store.WorkEntry  `json:"d"`
	}{s.Answers, s.Work, s.Draft})
	return data
}

// cancelMootReminder cancels the queued reminder when the turn changed
// the answers it was promised on (before is answersPrint before the turn;
// nil when no reminder was queued).
func (e *Engine) cancelMootReminder(t *turn, before []byte) {
	if before == nil || bytes.Equal(before, answersPrint(t.s)) {
		return
	}
	t.res.CancelReminders = true
	if t.s.Soon != nil {
		t.s.Soon.Reminder = false
	}
}
