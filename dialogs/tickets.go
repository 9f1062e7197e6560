package dialogs

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"regbot/store"
)

// Tickets: the candidate asks for a person (转人工), fails the same question
// three times, asks something nobody wrote an answer for, or reaches a case
// the plan sends to staff. Each opens a ticket whose number the candidate is
// told, with when to expect an answer. 转人工 hands the conversation over:
// until staff close the ticket (or the candidate says 结束人工) the bot
// forwards what the candidate says to the ticket instead of answering, and
// only 进度, 帮助, 材料包 and 结束人工 keep working. The other tickets are
// reviews the bot goes on beside. Staff answer and close tickets in the
// console; both arrive here as system turns.

// TicketRef is an open ticket the session keeps track of.
type TicketRef struct {
	Code  string    `json:"code"`
	Since time.Time `json:"since"`
	// AckedAt is when the bot last said it forwarded a message.
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Handover is the ticket a candidate is talking to staff on.
type Handover = TicketRef

// The reasons of tickets the engine opens (staff see them in the inbox).
const (
	TicketRequested   = "requested"    // 转人工
	TicketFailures    = "failures"     // the same question failed three times: "failures:<step>"
	TicketQuestion    = "question"     // a question the bot cannot answer
	TicketSpecialCase = "special_case" // a case the plan sends to staff: "special_case:<condition>"
	TicketReview      = "review"       // an answer not in its list, for staff to judge: "review:<list>"
)

const (
	// ackEvery spaces the "forwarded to staff" notes while a candidate
	// writes to staff, so that three messages in a row get one.
	ackEvery = 10 * time.Minute
	// reuseTicketFor is how long unknown questions, and repeated wrong
	// answers, go to the ticket the first of them opened rather than each
	// opening one (unless staff close it sooner).
	reuseTicketFor = 30 * time.Minute
	// ticketCodeAlphabet has no 0/O, 1/I/L: a ticket number is read out
	// on the phone.
	ticketCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	ticketCodeLen      = 6
)

// NewTicketCode returns a random ticket number such as "K7Q3MD" (31^6, about
// 887 million, numbers).
func NewTicketCode() string {
	var b [ticketCodeLen]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = ticketCodeAlphabet[int(b[i])%len(ticketCodeAlphabet)]
	}
	return string(b[:])
}

// StaffHours are when staff answer tickets: what a candidate is told to
// expect when a ticket opens.
type StaffHours struct {
	// Days are the working days, 1 (Monday) to 7 (Sunday).
	Days []int `yaml:"days"`
	// Start and End bound the working day, "09:00" and "17:30", China time.
	Start string `yaml:"start"`
	End   string `yaml:"end"`
	// ReplyWithin is the answer time promised during working hours.
	ReplyWithin time.Duration `yaml:"reply_within"`
}

// Validate reports every problem of the hours, each naming its key under
// prefix.
func (h StaffHours) Validate(prefix string) error {
	var errs []error
	if len(h.Days) == 0 {
		errs = append(errs, fmt.Errorf("%sdays: at least one working day (1 = Monday … 7 = Sunday)", prefix))
	}
	for _, d := range h.Days {
		if d < 1 || d > 7 {
			errs = append(errs, fmt.Errorf("%sdays: %d is not a day (1 = Monday … 7 = Sunday)", prefix, d))
		}
	}
	start, err1 := clockMinutes(h.Start)
	end, err2 := clockMinutes(h.End)
	if err1 != nil {
		errs = append(errs, fmt.Errorf("%sstart %q: want HH:MM", prefix, h.Start))
	}
	if err2 != nil {
		errs = append(errs, fmt.Errorf("%send %q: want HH:MM", prefix, h.End))
	}
	if err1 == nil && err2 == nil && end <= start {
		errs = append(errs, fmt.Errorf("%send %s: must be after start %s", prefix, h.End, h.Start))
	}
	if h.ReplyWithin <= 0 {
		errs = append(errs, fmt.Errorf("%sreply_within: must be positive", prefix))
	}
	return errors.Join(errs...)
}

// clockMinutes reads "HH:MM" as minutes after midnight.
func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Working reports whether staff are at work at now, and otherwise when they
// start next (in China time).
func (h StaffHours) Working(now time.Time) (bool, time.Time) {
	now = now.In(ChinaTime)
	start, _ := clockMinutes(h.Start)
	end, _ := clockMinutes(h.End)
	workDay := func(t time.Time) bool {
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		for _, d := range h.Days {
			if d == wd {
				return true
			}
		}
		return false
	}
	mins := now.Hour()*60 + now.Minute()
	if workDay(now) && mins >= start && mins < end {
		return true, time.Time{}
	}
	for i := range 8 {
		day := time.Date(now.Year(), now.Month(), now.Day()+i, 0, 0, 0, 0, ChinaTime)
		at := day.Add(time.Duration(start) * time.Minute)
		if workDay(day) && at.After(now) {
			return false, at
		}
	}
	return false, time.Time{}
}

// expectation is the sentence saying when staff will answer.
func (e *Engine) expectation(now time.Time) string {
	h := e.opts.StaffHours
	if h == nil {
		return e.plan.Text("ticket_expect_unknown")
	}
	working, next := h.Working(now)
	switch {
	case working:
		return strings.ReplaceAll(e.plan.Text("ticket_expect_soon"), "{within}", e.duration(h.ReplyWithin))
	case next.IsZero():
		return e.plan.Text("ticket_expect_unknown")
	}
	return strings.ReplaceAll(e.plan.Text("ticket_expect_later"), "{when}", e.when(now, next))
}

// duration says d in hours or minutes, as the plan words them.
func (e *Engine) duration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return strings.ReplaceAll(e.plan.Text("duration_hours"), "{n}", strconv.Itoa(int(d/time.Hour)))
	}
	return strings.ReplaceAll(e.plan.Text("duration_minutes"), "{n}", strconv.Itoa(int(d.Round(time.Minute)/time.Minute)))
}

// when says at (later than now) as today, tomorrow or a date, as the plan
// words them.
func (e *Engine) when(now, at time.Time) string {
	now, at = now.In(ChinaTime), at.In(ChinaTime)
	key := "ticket_when_date"
	switch {
	case sameDay(now, at):
		key = "ticket_when_today"
	case sameDay(now.AddDate(0, 0, 1), at):
		key = "ticket_when_tomorrow"
	}
	return strings.NewReplacer("{month}", strconv.Itoa(int(at.Month())), "{day}", strconv.Itoa(at.Day()),
		"{time}", at.Format("15:04")).Replace(e.plan.Text(key))
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// ticketText fills a ticket sentence: its number and when to expect staff.
func (e *Engine) ticketText(t *turn, key, code string) string {
	return strings.NewReplacer("{ticket}", code, "{expect}", e.expectation(t.now)).Replace(e.plan.Text(key))
}

// escalateTo opens a ticket and returns its number. handover gives the
// conversation to staff.
func (e *Engine) escalateTo(t *turn, reason, text string, handover bool) string {
	code := e.opts.TicketCode()
	t.s.Escalations++
	t.emit(Event{Kind: EventEscalation, Reason: reason, Text: text, Code: code, Handover: handover})
	if handover {
		t.s.Handover = &TicketRef{Code: code, Since: t.now, AckedAt: t.now}
	}
	return code
}

// toTicket adds a message to an open ticket.
func (e *Engine) toTicket(t *turn, code, author string, staffID int64, text, imageRef string) {
	t.emit(Event{Kind: EventTicket, Ticket: &store.TicketUpdate{Code: code, Author: author, StaffID: staffID, Text: text, ImageRef: imageRef}})
}

// requestHuman is 转人工: it hands the conversation to staff, or says it
// already is.
func (e *Engine) requestHuman(t *turn) {
	if h := t.s.Handover; h != nil {
		t.res.Messages = append(t.res.Messages, e.waitingMessage(h.Code, "ticket_already_open"))
		return
	}
	code := e.escalateTo(t, TicketRequested, strings.TrimSpace(t.in.Text), true)
	t.res.Messages = append(t.res.Messages, Outbound{
		Text:    e.ticketText(t, "ticket_opened", code),
		Choices: []Choice{e.choice(choiceEndHuman, "label_end_human")},
	})
}

// waitingMessage reminds a candidate talking to staff how to go back to
// the bot.
func (e *Engine) waitingMessage(code, key string) Outbound {
	return Outbound{
		Text:    strings.ReplaceAll(e.plan.Text(key), "{ticket}", code),
		Choices: []Choice{e.choice(choiceEndHuman, "label_end_human")},
	}
}

// endHuman is 结束人工: the candidate closes their hand-over ticket and the
// bot asks where they left.
func (e *Engine) endHuman(t *turn) {
	h := t.s.Handover
	if h == nil {
		t.say(e.plan.Text("ticket_not_open"))
		e.ask(t)
		return
	}
	t.s.Handover = nil
	t.emit(Event{Kind: EventTicket, Ticket: &store.TicketUpdate{Code: h.Code, Author: store.AuthorCandidate,
		Close: true, ClosedBy: store.AuthorCandidate}})
	t.say(strings.ReplaceAll(e.plan.Text("ticket_ended"), "{ticket}", h.Code))
	e.ask(t)
}

// duringHandover handles a candidate message while staff have the
// conversation. It reports false for the commands that work as usual.
func (e *Engine) duringHandover(t *turn) (bool, error) {
	in, h := t.in, t.s.Handover
	switch e.command(in) {
	case cmdProgress, cmdHelp, cmdPackage:
		return false, nil // answered as usual; ask stays quiet
	case cmdHuman:
		e.requestHuman(t)
		return true, nil
	case cmdEndHuman:
		e.endHuman(t)
		return true, nil
	case cmdBack, cmdEdit, cmdRestart:
		t.res.Messages = append(t.res.Messages, e.waitingMessage(h.Code, "ticket_command_blocked"))
		return true, nil
	}
	switch {
	case in.Event == "subscribe":
		t.say(e.plan.Text("welcome_back"))
		t.res.Messages = append(t.res.Messages, e.waitingMessage(h.Code, "ticket_waiting"))
		return true, nil
	case in.Other != "":
		t.say(e.plan.Text("unsupported_input"))
		return true, nil
	case in.Image != nil:
		if t.res.ImageRef == "" {
			ref, err := e.opts.Blobs.Put(t.ctx, in.Image.Data, true)
			if err != nil {
				return true, fmt.Errorf("store image: %w", err)
			}
			t.res.ImageRef = ref
		}
		e.toTicket(t, h.Code, store.AuthorCandidate, 0, "", t.res.ImageRef)
	case in.Choice != "":
		e.toTicket(t, h.Code, store.AuthorCandidate, 0, e.InboundRecord(in, ""), "")
	default:
		e.toTicket(t, h.Code, store.AuthorCandidate, 0, in.Text, "")
	}
	if t.now.Sub(h.AckedAt) >= ackEvery {
		h.AckedAt = t.now
		t.res.Messages = append(t.res.Messages, e.waitingMessage(h.Code, "ticket_forwarded"))
	}
	return true, nil
}

// staffTicket runs a staff reply or close that the console sent as a
// system turn.
func (e *Engine) staffTicket(t *turn) {
	ev, s := t.in.System, t.s
	staffID := staffIDOf(ev.Actor)
	handover := s.Handover != nil && s.Handover.Code == ev.Ticket
	if ev.Reply != "" {
		msg := Outbound{Text: strings.ReplaceAll(e.plan.Text("ticket_staff_reply"), "{text}", ev.Reply)}
		if handover && !ev.Close {
			msg.Choices = []Choice{e.choice(choiceEndHuman, "label_end_human")}
		}
		t.res.Messages = append(t.res.Messages, msg)
		e.toTicket(t, ev.Ticket, store.AuthorStaff, staffID, ev.Reply, "")
	}
	if !ev.Close {
		return
	}
	t.emit(Event{Kind: EventTicket, Ticket: &store.TicketUpdate{Code: ev.Ticket, Author: store.AuthorStaff, StaffID: staffID,
		Close: true, ClosedBy: ev.Actor}})
	// A closed ticket takes no more messages: the next question or run of
	// wrong answers opens a new one.
	if q := s.Questions; q != nil && q.Code == ev.Ticket {
		s.Questions = nil
	}
	if f := s.Failures; f != nil && f.Code == ev.Ticket {
		s.Failures = nil
	}
	if handover {
		s.Handover = nil
		t.say(strings.ReplaceAll(e.plan.Text("ticket_closed"), "{ticket}", ev.Ticket))
		e.ask(t)
	}
}

// staffIDOf reads the staff user id of an actor "staff:<id>" (0 otherwise).
func staffIDOf(actor string) int64 {
	rest, ok := strings.CutPrefix(actor, "staff:")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(rest, 10, 64)
	return id
}

// failedThrice opens a review ticket when the same question failed three
// times in a row, so staff can look, and says so; the candidate may go on.
// The question then offers 转人工 as one of its own choices, numbered after
// them, so that typing its number picks it. Wrong answers failing thrice
// again soon after (the same question after 重新开始, or another one) go to
// the ticket already open instead of opening one more for staff.
func (e *Engine) failedThrice(t *turn) {
	s := t.s
	said := e.InboundRecord(t.in, t.res.ImageRef)
	var code string
	if f := s.Failures; f != nil && t.now.Sub(f.Since) < reuseTicketFor {
		code = f.Code
		e.toTicket(t, code, store.AuthorCandidate, 0, said, "")
	} else {
		code = e.escalateTo(t, TicketFailures+":"+s.Step, said, false)
		s.Failures = &TicketRef{Code: code, Since: t.now}
	}
	t.say(e.ticketText(t, "ticket_failures", code))
	s.Help = true
}

// unknownQuestion sends a question the bot cannot answer to staff: on a
// ticket of its own, or on the one opened for the candidate's questions in
// the last half hour. The bot then asks where it was.
func (e *Engine) unknownQuestion(t *turn) {
	s := t.s
	text := strings.TrimSpace(t.in.Text)
	if q := s.Questions; q != nil && t.now.Sub(q.Since) < reuseTicketFor {
		e.toTicket(t, q.Code, store.AuthorCandidate, 0, text, "")
		t.say(e.ticketText(t, "ticket_question_added", q.Code))
	} else {
		code := e.escalateTo(t, TicketQuestion, text, false)
		s.Questions = &TicketRef{Code: code, Since: t.now}
		t.say(e.ticketText(t, "ticket_question", code))
	}
	e.ask(t)
}
