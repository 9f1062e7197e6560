package dialogs_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/store"
)

func TestEvaluateSoon(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	tests := []struct {
		name string
		p    profile
		want *dialogs.Soon
	}{
		{"47 months of related work: C2 next month",
			profile{work: []store.WorkEntry{job("2023-01", "至今")}, answers: none(nil)},
			&dialogs.Soon{Condition: "C2", Month: "2026-12", Months: 1}},
		{"30 months after the certificate: C1 in 6 months",
			profile{work: []store.WorkEntry{job("2024-06", "至今")}, answers: none(map[string]any{"has_prior_cert": true, "prior_cert_date": "2024-06"})},
			&dialogs.Soon{Condition: "C1", Month: "2027-05", Months: 6}},
		{"23 months and 120 training hours: C3 next month",
			profile{work: []store.WorkEntry{job("2025-01", "至今")}, answers: none(map[string]any{"has_training_cert": true, "training_hours": 120.0})},
			&dialogs.Soon{Condition: "C3", Month: "2026-12", Months: 1}},
		{"29 months after the certificate: C1 is 7 months away, beyond the horizon",
			profile{work: []store.WorkEntry{job("2024-07", "至今")}, answers: none(map[string]any{"has_prior_cert": true, "prior_cert_date": "2024-07"})},
			nil},
		{"47 months that ended: time does not help",
			profile{work: []store.WorkEntry{job("2022-11", "2026-09")}, answers: none(nil)},
			nil},
		{"47 months of unrelated work: time does not help",
			profile{work: []store.WorkEntry{odd("2023-01", "至今")}, answers: none(nil)},
			nil},
	}
	for _, tt := range tests {
		el := e.Evaluate(tt.p.session(e), today)
		if !el.Decided || el.Condition != "" {
			t.Errorf("%s: decided %v condition %q, want decided with none holding now", tt.name, el.Decided, el.Condition)
			continue
		}
		switch {
		case tt.want == nil && el.Soon != nil:
			t.Errorf("%s: soon %+v, want none", tt.name, *el.Soon)
		case tt.want != nil && (el.Soon == nil || *el.Soon != *tt.want):
			t.Errorf("%s: soon %+v, want %+v", tt.name, el.Soon, *tt.want)
		}
	}
	// A question that can make a condition hold soon is still asked: 23
	// months of work cannot meet C3 today, but will next month.
	s := profile{work: []store.WorkEntry{job("2025-01", "至今")}, answers: map[string]any{"has_prior_cert": false, "school_kind": "none"}}.session(e)
	if el := e.Evaluate(s, today); el.Decided || !slices.Contains(el.Needs, "has_training_cert") {
		t.Fatalf("23 months: decided %v needs %v, want has_training_cert asked", el.Decided, el.Needs)
	}
}

// TestQualifySoonReminder: the candidate hears the month, asks for a
// reminder, which is queued for that month; changing an answer cancels it.
func TestQualifySoonReminder(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	// 23 months of related work, no certificate, no school; 120 training
	// hours: C3 is one month away (and C2's four years far).
	c.say("是", "杭州某某电子商务有限公司", "电子商务师", "2025-01", "至今", "否", "3", "是", "120")
	said := c.lastText()
	for _, want := range []string{"最接近的是第（三）条", "2026年12月", "满足报考条件第（三）条"} {
		if !strings.Contains(said, want) {
			t.Fatalf("the not-eligible answer lacks %q:\n%s", want, said)
		}
	}
	ids := []string{}
	for _, ch := range c.choices() {
		ids = append(ids, ch.ID)
	}
	if !slices.Contains(ids, "remind") {
		t.Fatalf("no reminder offered: %v", ids)
	}
	res := c.send(dialogs.Inbound{Choice: "remind"})
	if len(res.Outbox) != 1 {
		t.Fatalf("remind queued %d messages, want 1", len(res.Outbox))
	}
	r := res.Outbox[0]
	due := time.Date(2026, 12, 1, 10, 0, 0, 0, dialogs.ChinaTime)
	if r.Kind != store.OutReminder || !r.NotBefore.Equal(due) || r.Key == "" || r.Identity != c.s.Identity() {
		t.Fatalf("reminder %+v, want kind reminder due %v with a key", r, due)
	}
	msgs, err := dialogs.DecodeMessages(r.Payload)
	if err != nil || !strings.Contains(msgs[0].Text, "第（三）条") {
		t.Fatalf("reminder text %+v %v", msgs, err)
	}
	if !strings.Contains(c.lastText(), "2026年12月") {
		t.Fatalf("reminder confirmation: %s", c.lastText())
	}
	// Asking again does not queue a second one.
	c.say("进度")
	if res := c.send(dialogs.Inbound{Choice: "remind"}); len(res.Outbox) != 0 || res.CancelReminders {
		t.Fatalf("a second remind: %+v", res)
	}
	// A turn that changes no answer keeps it; an edit cancels it.
	if res := c.send(dialogs.Inbound{Text: "帮助"}); res.CancelReminders {
		t.Fatal("帮助 cancelled the reminder")
	}
	c.say("修改", "3") // the training hours
	res = c.send(dialogs.Inbound{Text: "100"})
	if !res.CancelReminders {
		t.Fatalf("an edited answer did not cancel the reminder (%s)", c.lastText())
	}
	if rec := c.e.TurnRecord(c.s, dialogs.Inbound{}, res); !rec.CancelReminders {
		t.Fatal("the turn record does not carry CancelReminders")
	}
}

// TestReminderBringsTheCandidateBack: once the month has come, any message
// finds the condition holding and goes on to the personal questions.
func TestReminderBringsTheCandidateBack(t *testing.T) {
	t.Parallel()
	plan := newEngine(t).Plan()
	now := today
	e, err := dialogs.NewEngine(plan, dialogs.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c := &conversation{t: t, e: e, s: e.NewSession(store.Identity{Channel: "test", UserID: t.Name()})}
	c.say("是", "杭州某某电子商务有限公司", "电子商务师", "2023-01", "至今", "否", "否", "否", "3")
	if c.s.Condition != "" || !strings.Contains(c.lastText(), "2026年12月") {
		t.Fatalf("condition %q, said %s", c.s.Condition, c.lastText())
	}
	c.send(dialogs.Inbound{Choice: "remind"})
	now = time.Date(2026, 12, 1, 10, 0, 0, 0, dialogs.ChinaTime)
	c.send(dialogs.Inbound{Choice: "cmd:continue"})
	if c.s.Condition != "C2" || c.asked() != "name" {
		t.Fatalf("in December: condition %q, asked %q (%s)", c.s.Condition, c.asked(), c.lastText())
	}
}
