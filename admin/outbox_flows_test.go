package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/admin"
	"regbot/dialogs"
	"regbot/store"
)

// deliveries returns the texts the outbox queued for the candidate of id.
func (b *consoleBundle) deliveries(id store.Identity, kind store.OutKind) []string {
	b.t.Helper()
	rows, _, err := b.pg.CandidateList(context.Background(), store.CandidateFilter{})
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for _, row := range rows {
		for _, ident := range row.Identities {
			if ident != id {
				continue
			}
			ds, err := b.pg.Deliveries(context.Background(), row.CandidateID, 100)
			if err != nil {
				b.t.Fatal(err)
			}
			for i := len(ds) - 1; i >= 0; i-- {
				if ds[i].Kind != kind {
					continue
				}
				msgs, err := dialogs.DecodeMessages(ds[i].Payload)
				if err != nil {
					b.t.Fatal(err)
				}
				for _, m := range msgs {
					out = append(out, m.Text)
				}
			}
		}
	}
	return out
}

var ticketLink = regexp.MustCompile(`href="/admin/tickets/(\d+)"`)

func TestTicketFlow(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	c := b.signedIn("zhao", store.RoleStaff)

	id := store.Identity{Channel: "wechat", UserID: "o-flow"}
	b.say(id, "f1", dialogs.Inbound{Text: "你好"})
	res := b.say(id, "f2", dialogs.Inbound{Text: "转人工"})
	code := regexp.MustCompile(`工单号 ([0-9A-Z]{6})`).FindStringSubmatch(res.Messages[0].Text)
	if code == nil {
		t.Fatalf("转人工 said %q", res.Messages[0].Text)
	}
	b.say(id, "f3", dialogs.Inbound{Text: "请问单位名称怎么填？"})

	_, _, live := c.do(http.MethodGet, "/admin/tickets/live", nil, http.Header{"X-Regbot-Poll": {"1"}})
	if !strings.Contains(live, code[1]) || !strings.Contains(live, "待回复 1 个") {
		t.Fatalf("the live list does not show ticket %s:\n%s", code[1], live)
	}
	m := ticketLink.FindStringSubmatch(live)
	page := "/admin/tickets/" + m[1]
	_, _, body := c.get(page)
	if !strings.Contains(body, "请问单位名称怎么填？") || !strings.Contains(body, "认领") {
		t.Fatalf("ticket page:\n%s", body)
	}
	if status, loc, _ := c.post(page+"/claim", nil); status != http.StatusSeeOther || !strings.Contains(loc, "done=claimed") {
		t.Fatalf("claim: %d %q", status, loc)
	}
	_, _, body = c.get(page)
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(body)[1]
	reply := url.Values{"text": {"请填写营业执照上的单位全称。"}, "nonce": {nonce}}
	if status, loc, _ := c.post(page+"/reply", reply); status != http.StatusSeeOther || !strings.Contains(loc, "done=replied") {
		t.Fatalf("reply: %d %q", status, loc)
	}
	// The same form sent twice (a double click) is one reply.
	if status, loc, _ := c.post(page+"/reply", reply); status != http.StatusSeeOther || !strings.Contains(loc, "done=duplicate") {
		t.Fatalf("second reply: %d %q", status, loc)
	}
	if got := b.deliveries(id, store.OutStaff); len(got) != 1 || !strings.Contains(got[0], "营业执照") {
		t.Fatalf("staff messages queued for the candidate: %q", got)
	}
	// The ticket shows the reply with its delivery state (nothing sends
	// here: queued) and that WeChat's window is open.
	_, _, body = c.get(page)
	replies := regexp.MustCompile(`(?s)<ul class="list small" id="replies">.*?</ul>`).FindString(body)
	if strings.Count(replies, `data-state="pending"`) != 1 || !strings.Contains(replies, "营业执照") || !strings.Contains(replies, "待发送") {
		t.Fatalf("the ticket's replies and their delivery:\n%s", replies)
	}
	if !strings.Contains(body, `id="reply-window" data-open="true"`) || !strings.Contains(body, "微信客服消息窗口还剩 1 天 23 小时") {
		t.Fatalf("the ticket page does not say WeChat's window is open:\n%s", body)
	}
	// While the ticket is open the candidate's answer goes to staff.
	if res := b.say(id, "f4", dialogs.Inbound{Text: "好的，谢谢"}); len(res.Messages) != 0 {
		t.Fatalf("the bot answered during the hand-over: %+v", res.Messages)
	}
	_, _, body = c.get(page)
	nonce = regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(body)[1]
	if !strings.Contains(body, "好的，谢谢") {
		t.Fatal("the candidate's message is not on the ticket")
	}
	if status, loc, _ := c.post(page+"/reply", url.Values{"close": {"1"}, "nonce": {nonce}}); status != http.StatusSeeOther || !strings.Contains(loc, "done=closed") {
		t.Fatalf("close: %d %q", status, loc)
	}
	closing := b.deliveries(id, store.OutStaff)
	if len(closing) < 2 || !strings.Contains(strings.Join(closing[1:], "\n"), code[1]) {
		t.Fatalf("the candidate was not told the ticket closed: %q", closing)
	}
	// Back with the bot: the answer is taken by the dialog.
	res = b.say(id, "f5", dialogs.Inbound{Text: "是"})
	if len(res.Messages) == 0 || res.Messages[len(res.Messages)-1].Ask == nil {
		t.Fatalf("after close the dialog did not take the answer: %+v", res.Messages)
	}
	tk, _, _ := b.pg.Ticket(context.Background(), mustInt(t, m[1]), "")
	if tk.State != store.TicketClosed {
		t.Fatalf("ticket state %q after close", tk.State)
	}
	b.mustHaveAudited("zhao", "ticket.claim", "ticket.reply", "ticket.close")
}

// TestTicketPageShowsAClosedWeChatWindow: a candidate who wrote more than
// 48 hours ago cannot get a customer-service message; the ticket page says
// the reply goes as a template message.
func TestTicketPageShowsAClosedWeChatWindow(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	id := store.Identity{Channel: "wechat", UserID: "o-window"}
	b.say(id, "w1", dialogs.Inbound{Text: "你好"})
	b.say(id, "w2", dialogs.Inbound{Text: "转人工"})
	b.clock.advance(49 * time.Hour)
	c := b.signedIn("qian", store.RoleStaff)
	_, _, live := c.do(http.MethodGet, "/admin/tickets/live", nil, http.Header{"X-Regbot-Poll": {"1"}})
	m := ticketLink.FindStringSubmatch(live)
	if m == nil {
		t.Fatalf("no ticket in the inbox:\n%s", live)
	}
	_, _, body := c.get("/admin/tickets/" + m[1])
	if !strings.Contains(body, `id="reply-window" data-open="false"`) || !strings.Contains(body, "已超过微信 48 小时客服消息窗口") ||
		!strings.Contains(body, "2 天 1 小时前") {
		t.Fatalf("the ticket page does not say WeChat's window closed:\n%s", body)
	}
}

func TestRejectAMaterial(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	id := b.candidate("rj", "王五", "13800000003")
	b.say(id, "rj-img", dialogs.Inbound{Image: &dialogs.Image{Data: jpegBytes(t)}})
	c := b.signedIn("zhao", store.RoleStaff)
	rows, _, _ := b.pg.CandidateList(context.Background(), store.CandidateFilter{})
	page := "/admin/candidates/" + strconv.FormatInt(rows[0].CandidateID, 10)
	_, _, body := c.get(page)
	action := regexp.MustCompile(`action="(/admin/candidates/\d+/documents/\d+/review)"`).FindStringSubmatch(body)
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+-\d+)"`).FindStringSubmatch(body)
	if action == nil || nonce == nil {
		t.Fatalf("no review form:\n%s", body)
	}
	// A reason is required.
	if status, _, _ := c.post(action[1], url.Values{"verdict": {"rejected"}, "nonce": {nonce[1]}}); status != http.StatusUnprocessableEntity {
		t.Fatalf("rejection without a reason: %d", status)
	}
	form := url.Values{"verdict": {"rejected"}, "reason": {"照片模糊，文字看不清"}, "nonce": {nonce[1]}}
	if status, loc, _ := c.post(action[1], form); status != http.StatusSeeOther || !strings.Contains(loc, "done=rejected") {
		t.Fatalf("reject: %d %q", status, loc)
	}
	got := strings.Join(b.deliveries(id, store.OutStaff), "\n")
	if !strings.Contains(got, "照片模糊") || !strings.Contains(got, "身份证人像面照片") {
		t.Fatalf("the candidate was not told: %q", got)
	}
	_, _, body = c.get(page)
	if !strings.Contains(body, "已退回——照片模糊") {
		t.Fatal("the page does not show the rejection")
	}
	// The candidate is asked for it again: the next image is that material.
	res := b.say(id, "rj-img2", dialogs.Inbound{Image: &dialogs.Image{Data: jpegBytes(t)}})
	if len(res.Messages) == 0 || !strings.Contains(res.Messages[0].Text, "身份证人像面照片") {
		t.Fatalf("the next upload was not taken as the rejected material: %+v", res.Messages)
	}
	if !b.audited("document.reject", "zhao") {
		t.Error("the rejection is not in the audit log")
	}
}
