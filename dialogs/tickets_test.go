package dialogs_test

import (
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
)

// ticketBundle is a conversation on a clock the test moves, with staff
// hours Monday to Friday, 09:00–17:30, answers within 2 hours.
type ticketBundle struct {
	*conversation
	now *time.Time
}

func setupTickets(t *testing.T, start time.Time) ticketBundle {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := start
	codes := 0
	e, err := dialogs.NewEngine(plan, dialogs.Options{
		Now:        func() time.Time { return now },
		StaffHours: &dialogs.StaffHours{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:30", ReplyWithin: 2 * time.Hour},
		TicketCode: func() string {
			codes++
			return "TK" + string(rune('A'+codes-1))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &conversation{t: t, e: e, s: e.NewSession(store.Identity{Channel: "wechat", UserID: t.Name()})}
	return ticketBundle{conversation: c, now: &now}
}

// monday10 is a Monday at 10:00 in China, within staff hours.
var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, dialogs.ChinaTime)

func (b ticketBundle) events(kind dialogs.EventKind) []dialogs.Event {
	var out []dialogs.Event
	for _, ev := range b.last.Events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// system runs a staff system turn; the messages it queued for the
// candidate (kind staff, keyed by the turn's id) become b.last.Messages.
func (b ticketBundle) system(msgID string, ev dialogs.SystemEvent) {
	b.t.Helper()
	res := b.send(dialogs.Inbound{Channel: "wechat", UserID: b.t.Name(), MsgID: msgID, System: &ev})
	if len(res.Messages) != 0 {
		b.t.Fatalf("a system turn replied instead of queueing: %+v", res.Messages)
	}
	for _, out := range res.Outbox {
		if out.Kind != store.OutStaff || !strings.HasSuffix(out.Key, ":"+msgID) {
			b.t.Fatalf("queued %s with key %q; want kind staff keyed by the turn", out.Kind, out.Key)
		}
		msgs, err := dialogs.DecodeMessages(out.Payload)
		if err != nil {
			b.t.Fatal(err)
		}
		b.conversation.last.Messages = append(b.conversation.last.Messages, msgs...)
	}
}

func TestHandoverToStaffAndBack(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	b.say("你好", "是", "杭州某某电子商务有限公司")
	step := b.asked()
	b.say("转人工")
	esc := b.events(dialogs.EventEscalation)
	if len(esc) != 1 || esc[0].Code != "TKA" || !esc[0].Handover || esc[0].Reason != dialogs.TicketRequested {
		t.Fatalf("转人工 opened %+v", esc)
	}
	if txt := b.lastText(); !strings.Contains(txt, "TKA") || !strings.Contains(txt, "2 小时内") || b.asked() != "" {
		t.Fatalf("转人工 said %q and asked %q; want the ticket number, the answer time, no question", txt, b.asked())
	}

	// The candidate's next message goes to the ticket, not to the question.
	b.say("你好，有人吗？")
	tk := b.events(dialogs.EventTicket)
	if len(tk) != 1 || tk[0].Ticket.Code != "TKA" || tk[0].Ticket.Author != store.AuthorCandidate || tk[0].Ticket.Text != "你好，有人吗？" {
		t.Fatalf("message during hand-over: events %+v", b.last.Events)
	}
	if len(b.last.Messages) != 0 {
		t.Fatalf("the bot answered a message meant for staff: %q", b.lastText())
	}
	// An image goes to the ticket too, stored.
	b.send(dialogs.Inbound{Image: &dialogs.Image{Data: []byte("not really a jpeg")}})
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || tk[0].Ticket.ImageRef == "" || b.last.ImageRef != tk[0].Ticket.ImageRef {
		t.Fatalf("image during hand-over: %+v", b.last)
	}
	// Ten minutes later, a message gets one note that it was forwarded.
	*b.now = b.now.Add(11 * time.Minute)
	b.say("在吗")
	if txt := b.lastText(); !strings.Contains(txt, "已转给工作人员") || len(b.events(dialogs.EventTicket)) != 1 {
		t.Fatalf("after 11 minutes: %q %+v", txt, b.last.Events)
	}
	// 进度 works and asks nothing; 修改 waits for the end of the hand-over.
	b.say("进度")
	if txt := b.lastText(); !strings.Contains(txt, "【您的报名进度】") || b.asked() != "" || len(b.events(dialogs.EventTicket)) != 0 {
		t.Fatalf("进度 during hand-over: %q, asked %q", txt, b.asked())
	}
	b.say("帮助")
	if txt := b.lastText(); txt == "" || b.asked() != "" || len(b.events(dialogs.EventTicket)) != 0 {
		t.Fatalf("帮助 during hand-over: %q, asked %q, events %+v", txt, b.asked(), b.last.Events)
	}
	b.say("修改")
	if txt := b.lastText(); !strings.Contains(txt, "结束人工") || b.s.Pending != nil {
		t.Fatalf("修改 during hand-over: %q, pending %+v", txt, b.s.Pending)
	}
	b.say("转人工")
	if txt := b.lastText(); !strings.Contains(txt, "TKA") || len(b.events(dialogs.EventEscalation)) != 0 {
		t.Fatalf("a second 转人工 opened another ticket: %q", txt)
	}

	// Staff reply, then close: the candidate is back at the question.
	b.system("console:1", dialogs.SystemEvent{Actor: "staff:7", Ticket: "TKA", Reply: "您好，单位名称请写营业执照上的全称。"})
	if txt := b.lastText(); !strings.Contains(txt, "【工作人员回复】") || !strings.Contains(txt, "营业执照") {
		t.Fatalf("staff reply said %q", txt)
	}
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || tk[0].Ticket.Author != store.AuthorStaff || tk[0].Ticket.StaffID != 7 {
		t.Fatalf("staff reply events %+v", b.last.Events)
	}
	b.system("console:2", dialogs.SystemEvent{Actor: "staff:7", Ticket: "TKA", Close: true})
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || !tk[0].Ticket.Close || tk[0].Ticket.ClosedBy != "staff:7" {
		t.Fatalf("close events %+v", b.last.Events)
	}
	if b.asked() != step || b.s.Handover != nil {
		t.Fatalf("after close asked %q, want %q (where the candidate left); handover %+v", b.asked(), step, b.s.Handover)
	}
	// The next answer is the dialog's again.
	b.say("电子商务师")
	if len(b.events(dialogs.EventTicket)) != 0 || b.asked() == step {
		t.Fatalf("the answer after close went to %+v, asked %q", b.last.Events, b.asked())
	}
}

func TestCandidateEndsHandover(t *testing.T) {
	t.Parallel()
	// Saturday noon: staff answer on Monday morning.
	b := setupTickets(t, today)
	b.say("你好", "转人工")
	if txt := b.lastText(); !strings.Contains(txt, "非工作时间") || !strings.Contains(txt, "11月30日 09:00") {
		t.Fatalf("转人工 on a Saturday said %q; want Monday 09:00", txt)
	}
	step := b.s.Step
	b.say("结束人工")
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || !tk[0].Ticket.Close || tk[0].Ticket.ClosedBy != store.AuthorCandidate {
		t.Fatalf("结束人工 events %+v", b.last.Events)
	}
	if b.s.Handover != nil || b.s.Step != step || b.asked() == "" {
		t.Fatalf("after 结束人工: handover %+v, step %q (want %q), asked %q", b.s.Handover, b.s.Step, step, b.asked())
	}
	b.say("结束人工")
	if txt := b.lastText(); !strings.Contains(txt, "没有进行中的人工服务") {
		t.Fatalf("结束人工 without a ticket said %q", txt)
	}
}

func TestThreeFailuresOpenAReview(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	b.say("你好", "是", "杭州某某电子商务有限公司", "电子商务师")
	step := b.asked()
	b.say("不记得", "好久以前")
	if len(b.events(dialogs.EventEscalation)) != 0 {
		t.Fatal("a ticket after two failures")
	}
	b.say("忘了")
	esc := b.events(dialogs.EventEscalation)
	if len(esc) != 1 || esc[0].Handover || !strings.HasPrefix(esc[0].Reason, dialogs.TicketFailures+":") || esc[0].Text != "忘了" {
		t.Fatalf("third failure opened %+v", esc)
	}
	if txt := b.lastText(); !strings.Contains(txt, esc[0].Code) || b.asked() != step {
		t.Fatalf("third failure said %q, asked %q; want the ticket number and the same question", txt, b.asked())
	}
	// The bot goes on: the right answer is taken.
	b.say("2020-03")
	if b.asked() == step || b.s.Handover != nil {
		t.Fatalf("after a review ticket the answer was not taken: asked %q", b.asked())
	}
}

// TestRepeatedFailuresGoToOneReview: wrong answers failing thrice again
// soon after (here after 重新开始) go to the review ticket already open, the
// candidate is told its number again; once staff close it, or after the
// half hour, the next run of failures opens a new one.
func TestRepeatedFailuresGoToOneReview(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	fail := func() {
		t.Helper()
		b.say("你好", "是", "杭州某某电子商务有限公司", "电子商务师", "不记得", "好久以前", "忘了")
	}
	fail()
	first := b.events(dialogs.EventEscalation)
	if len(first) != 1 || b.s.Failures == nil || b.s.Failures.Code != first[0].Code {
		t.Fatalf("third failure: escalations %+v, session's failures ticket %+v", first, b.s.Failures)
	}
	b.say("重新开始", "是")
	if b.s.Failures == nil {
		t.Fatal("重新开始 forgot the open review ticket")
	}
	*b.now = b.now.Add(10 * time.Minute)
	fail()
	if esc := b.events(dialogs.EventEscalation); len(esc) != 0 {
		t.Fatalf("failing thrice again 10 minutes later opened another ticket: %+v", esc)
	}
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || tk[0].Ticket.Code != first[0].Code || tk[0].Ticket.Text != "忘了" ||
		tk[0].Ticket.Author != store.AuthorCandidate {
		t.Fatalf("failing thrice again: ticket events %+v; want the answer added to %s", tk, first[0].Code)
	}
	if txt := b.lastText(); !strings.Contains(txt, first[0].Code) {
		t.Fatalf("failing thrice again said %q; want the open ticket's number %s", txt, first[0].Code)
	}

	// Staff close it: the next run of failures opens a new ticket.
	b.system("close-1", dialogs.SystemEvent{Actor: "staff:3", Ticket: first[0].Code, Close: true})
	if b.s.Failures != nil {
		t.Fatalf("closing the review ticket left %+v", b.s.Failures)
	}
	b.say("重新开始", "是")
	fail()
	second := b.events(dialogs.EventEscalation)
	if len(second) != 1 || second[0].Code == first[0].Code {
		t.Fatalf("failures after the ticket was closed: %+v", b.last.Events)
	}

	// Half an hour later it is a new matter too.
	*b.now = b.now.Add(31 * time.Minute)
	b.say("重新开始", "是")
	fail()
	if third := b.events(dialogs.EventEscalation); len(third) != 1 || third[0].Code == second[0].Code {
		t.Fatalf("failures 31 minutes later: %+v", b.last.Events)
	}
}

func TestUnknownQuestionsGoToOneTicket(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	b.say("你好", "是", "杭州某某电子商务有限公司", "电子商务师")
	step := b.asked()
	b.say("公司倒闭了怎么开证明？")
	esc := b.events(dialogs.EventEscalation)
	if len(esc) != 1 || esc[0].Handover || esc[0].Reason != dialogs.TicketQuestion || esc[0].Text != "公司倒闭了怎么开证明？" {
		t.Fatalf("unknown question opened %+v", esc)
	}
	if b.asked() != step || b.s.Fails != 0 {
		t.Fatalf("after a question: asked %q (want %q), fails %d", b.asked(), step, b.s.Fails)
	}
	*b.now = b.now.Add(5 * time.Minute)
	b.say("社保记录能代替吗？")
	if tk := b.events(dialogs.EventTicket); len(tk) != 1 || tk[0].Ticket.Code != esc[0].Code || len(b.events(dialogs.EventEscalation)) != 0 {
		t.Fatalf("second question: %+v", b.last.Events)
	}
	*b.now = b.now.Add(time.Hour)
	b.say("还有一个问题吗？")
	if esc2 := b.events(dialogs.EventEscalation); len(esc2) != 1 || esc2[0].Code == esc[0].Code {
		t.Fatalf("a question an hour later: %+v", b.last.Events)
	}
}

func TestStaffRejectionReopensAMaterial(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	b.toUploads()
	b.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(t, 1200, 800, 85)}})
	if _, ok := b.s.Materials["id_card_front"]; !ok {
		t.Fatalf("the ID card front was not accepted: %q", b.lastText())
	}
	b.s.Status = store.StatusMaterialsReady // as if every material were in
	b.system("review-1", dialogs.SystemEvent{Actor: "staff:3", Reopen: []string{"id_card_front"}, Reason: "照片模糊，文字看不清"})
	if _, ok := b.s.Materials["id_card_front"]; ok {
		t.Fatal("the rejected material is still accepted")
	}
	if txt := b.lastText(); !strings.Contains(txt, "身份证人像面照片") || !strings.Contains(txt, "照片模糊") || b.asked() != "id_card_front" {
		t.Fatalf("rejection said %q, asked %q", txt, b.asked())
	}
	if st := b.events(dialogs.EventStatus); len(st) != 1 || st[0].Status != store.StatusCollecting || st[0].Actor != "staff:3" {
		t.Fatalf("status events %+v; want back to collecting", st)
	}
}

func TestTurnRecordOfTickets(t *testing.T) {
	t.Parallel()
	b := setupTickets(t, monday10)
	b.say("你好", "转人工", "我想问下")
	in := dialogs.Inbound{Text: "我想问下"}
	rec := b.e.TurnRecord(b.s, in, b.last)
	if len(rec.Tickets) != 1 || rec.Tickets[0].Text != "我想问下" || rec.Tickets[0].Code != "TKA" {
		t.Fatalf("turn record tickets %+v", rec.Tickets)
	}
	b.say("结束人工", "转人工")
	rec = b.e.TurnRecord(b.s, dialogs.Inbound{Text: "转人工"}, b.last)
	if len(rec.Escalations) != 1 || rec.Escalations[0].Code != "TKB" || !rec.Escalations[0].Handover {
		t.Fatalf("turn record escalations %+v", rec.Escalations)
	}
}

func TestStaffHours(t *testing.T) {
	t.Parallel()
	h := dialogs.StaffHours{Days: []int{1, 2, 3, 4, 5}, Start: "09:00", End: "17:30", ReplyWithin: time.Hour}
	at := func(day, hour, minute int) time.Time {
		return time.Date(2026, 11, day, hour, minute, 0, 0, dialogs.ChinaTime)
	}
	tests := []struct {
		name    string
		now     time.Time
		working bool
		next    time.Time
	}{
		{"Monday morning", at(30, 10, 0), true, time.Time{}},
		{"at the start", at(30, 9, 0), true, time.Time{}},
		{"at the end", at(30, 17, 30), false, at(31, 9, 0).AddDate(0, 0, 0)},
		{"before the start", at(30, 8, 59), false, at(30, 9, 0)},
		{"Friday evening", at(27, 18, 0), false, at(30, 9, 0)},
		{"Saturday", at(28, 12, 0), false, at(30, 9, 0)},
		{"in UTC, Monday 01:30 is 09:30 in China", time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC), true, time.Time{}},
	}
	for _, tt := range tests {
		working, next := h.Working(tt.now)
		if working != tt.working || !next.Equal(tt.next) {
			t.Errorf("%s: working %v next %v; want %v %v", tt.name, working, next, tt.working, tt.next)
		}
	}
	bad := dialogs.StaffHours{Days: []int{0, 8}, Start: "9am", End: "08:00"}
	err := bad.Validate("admin.working_hours.")
	for _, want := range []string{"days: 0", "days: 8", "start \"9am\"", "reply_within"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of bad hours: %v; want it to name %q", err, want)
		}
	}
	if err := h.Validate(""); err != nil {
		t.Errorf("Validate of good hours: %v", err)
	}
}

func TestTicketCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		c := dialogs.NewTicketCode()
		if len(c) != 6 || strings.ContainsAny(c, "01OIL") {
			t.Fatalf("ticket code %q: want 6 unambiguous characters", c)
		}
		seen[c] = true
	}
	if len(seen) < 995 {
		t.Fatalf("1000 codes, %d different", len(seen))
	}
}
