package admin_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"regbot/admin"
	"regbot/dialogs"
	"regbot/store"
)

// TestEveryEscalationOpensATicket: each way the dialog sends a candidate to
// staff — 转人工, the same question failed three times, a question the bot
// cannot answer, a current-year student's 毕业证书, an unlisted occupation
// left to staff — opens a ticket in the record that the inbox lists with
// its reason, and the candidate is told its number and when to expect an
// answer.
func TestEveryEscalationOpensATicket(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	code := regexp.MustCompile(`工单号 ([0-9A-Z]{6})`)
	said := func(res dialogs.Result) string {
		var texts []string
		for _, m := range res.Messages {
			texts = append(texts, m.Text)
		}
		return strings.Join(texts, "\n")
	}
	run := func(user string, ins ...dialogs.Inbound) string {
		t.Helper()
		id := store.Identity{Channel: "wechat", UserID: user}
		var last string
		for i, in := range ins {
			last = said(b.say(id, user+"-"+string(rune('a'+i)), in))
		}
		return last
	}
	texts := func(ss ...string) []dialogs.Inbound {
		var ins []dialogs.Inbound
		for _, s := range ss {
			ins = append(ins, dialogs.Inbound{Text: s})
		}
		return ins
	}
	cases := []struct {
		name   string
		user   string
		ins    []dialogs.Inbound
		reason string // as the inbox shows it
	}{
		{"转人工", "o-esc-human", texts("你好", "转人工"), "转人工"},
		{"three failures", "o-esc-fail", texts("你好", "是", "杭州某某电子商务有限公司", "电子商务师", "不记得", "好久以前", "忘了"), "连续 3 次未答对"},
		{"unknown question", "o-esc-question", texts("你好", "是", "杭州某某电子商务有限公司", "电子商务师", "公司倒闭了怎么开证明？"), "机器人无法回答的问题"},
		{"current-year student", "o-esc-student", texts("你好", "否", "2", "电子商务", "2"), "需人工确认的情况"},
		// "审计助理" is suggested list entries first: none of these.
		{"unlisted occupation", "o-esc-occupation", append(texts("你好", "是", "某某会计师事务所", "审计助理"),
			dialogs.Inbound{Choice: "none"}, dialogs.Inbound{Choice: "cmd:human"}), "不在列表中的回答，请人工判断（职业"},
	}
	codes := map[string]string{}
	for _, tc := range cases {
		got := run(tc.user, tc.ins...)
		m := code.FindStringSubmatch(got)
		if m == nil || !strings.Contains(got, "工作人员") || !(strings.Contains(got, "内回复") || strings.Contains(got, "上班后") || strings.Contains(got, "尽快")) {
			t.Errorf("%s: the candidate was told %q; want a ticket number and when to expect an answer", tc.name, got)
			continue
		}
		codes[tc.name] = m[1]
	}
	c := b.signedIn("sun", store.RoleStaff)
	_, _, inbox := c.get("/admin/tickets")
	for _, tc := range cases {
		cd := codes[tc.name]
		if cd == "" {
			continue
		}
		row := regexp.MustCompile(`(?s)<li[^>]*data-ticket="` + cd + `".*?</li>`).FindString(inbox)
		if row == "" || !strings.Contains(row, tc.reason) {
			t.Errorf("%s: ticket %s in the inbox: %q; want the reason %q", tc.name, cd, row, tc.reason)
		}
	}
	tickets, err := b.pg.TicketInbox(context.Background(), store.TicketFilter{PlanID: "internet-marketing-l4"}, "name")
	if err != nil || len(tickets) != len(cases) {
		t.Fatalf("the record holds %d open tickets, %v; want %d", len(tickets), err, len(cases))
	}
	if _, _, body := c.get("/admin/"); !strings.Contains(body, `id="waiting">5<`) {
		t.Errorf("the dashboard does not count 5 tickets waiting")
	}
}

// TestUnclaimedTicketsAreFlagged: a ticket nobody claimed for longer than
// ticket_flag_after is flagged in the inbox (and the dashboard's longest
// wait turns red); a claimed one is not.
func TestUnclaimedTicketsAreFlagged(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{Console: admin.ConsoleConfig{TicketFlagAfter: 20 * time.Minute, SessionIdle: 2 * time.Hour}})
	code := regexp.MustCompile(`工单号 ([0-9A-Z]{6})`)
	open := func(user string) string {
		t.Helper()
		id := store.Identity{Channel: "wechat", UserID: user}
		b.say(id, user+"-1", dialogs.Inbound{Text: "你好"})
		res := b.say(id, user+"-2", dialogs.Inbound{Text: "转人工"})
		m := code.FindStringSubmatch(res.Messages[0].Text)
		if m == nil {
			t.Fatalf("转人工 said %q", res.Messages[0].Text)
		}
		return m[1]
	}
	waiting, claimed := open("o-flag-1"), open("o-flag-2")
	c := b.signedIn("zhou", store.RoleStaff)
	row := func(inbox, code string) string {
		return regexp.MustCompile(`(?s)<li class="([^"]*)" data-ticket="` + code + `".*?</li>`).FindString(inbox)
	}
	_, _, inbox := c.get("/admin/tickets")
	if r := row(inbox, waiting); r == "" || strings.Contains(r, "超时未认领") || strings.Contains(r, "flagged") {
		t.Fatalf("a new ticket is flagged: %q", r)
	}
	m := regexp.MustCompile(`href="/admin/tickets/(\d+)"[^>]*>\s*<div class="row-main">\s*<span class="code">` + claimed).FindStringSubmatch(inbox)
	if m == nil {
		t.Fatalf("ticket %s not in the inbox:\n%s", claimed, inbox)
	}
	if status, _, _ := c.post("/admin/tickets/"+m[1]+"/claim", nil); status != http.StatusSeeOther {
		t.Fatalf("claim: %d", status)
	}
	b.clock.advance(21 * time.Minute)
	_, _, inbox = c.do(http.MethodGet, "/admin/tickets/live", nil, http.Header{"X-Regbot-Poll": {"1"}})
	if r := row(inbox, waiting); !strings.Contains(r, "flagged") || !strings.Contains(r, "超时未认领") || !strings.Contains(r, "已等待 21 分钟") {
		t.Errorf("an unclaimed ticket 21 minutes old is not flagged: %q", r)
	}
	if r := row(inbox, claimed); r == "" || strings.Contains(r, "超时未认领") {
		t.Errorf("a claimed ticket is flagged: %q", r)
	}
	if _, _, dash := c.get("/admin/"); !strings.Contains(dash, `class="tile alert" href="/admin/tickets"`) {
		t.Error("the dashboard's longest wait is not marked past ticket_flag_after")
	}
}
