package dialogs_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"slices"
	"strings"
	"testing"

	"regbot/dialogs"
	"regbot/store"
)

// toMaterialsReady brings a C2 candidate through every upload (the default
// inspector accepts any image).
func (c *conversation) toMaterialsReady() {
	c.t.Helper()
	c.toUploads()
	// A picture of its own for each material: the same one twice is
	// refused.
	for i := range 5 {
		c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(c.t, 320, 448, uint64(100+i))}})
	}
	if c.s.Status != store.StatusMaterialsReady {
		c.t.Fatalf("status %q after every upload, want materials_ready (%s)", c.s.Status, c.lastText())
	}
}

// system runs a system event as the Router would and returns the
// notification it queued.
func (c *conversation) system(ev dialogs.SystemEvent, msgID string) []dialogs.Outbound {
	c.t.Helper()
	res := c.send(dialogs.Inbound{Channel: "test", UserID: c.t.Name(), MsgID: msgID, System: &ev})
	if len(res.Messages) != 0 {
		c.t.Fatalf("a system turn replied %d messages; everything must go to the outbox", len(res.Messages))
	}
	if len(res.Outbox) != 1 {
		c.t.Fatalf("system turn queued %d outbox messages, want 1 notification", len(res.Outbox))
	}
	out := res.Outbox[0]
	if out.Kind != store.OutNotification || out.Identity != c.s.Identity() || !strings.Contains(out.Key, msgID) {
		c.t.Fatalf("queued %+v, want a notification to %v keyed by %s", out, c.s.Identity(), msgID)
	}
	msgs, err := dialogs.DecodeMessages(out.Payload)
	if err != nil {
		c.t.Fatal(err)
	}
	return msgs
}

func texts(msgs []dialogs.Outbound) string {
	var parts []string
	for _, m := range msgs {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, "\n")
}

// statusEvents are the status events so far: "to/actor/reason".
func (c *conversation) statusEvents() []string {
	var out []string
	for _, ev := range c.events {
		if ev.Kind == dialogs.EventStatus {
			out = append(out, string(ev.Status)+"/"+ev.Actor+"/"+ev.Reason)
		}
	}
	return out
}

func TestStatusReviewRejectionFixAndPayment(t *testing.T) {
	t.Parallel()
	blobs := dialogs.NewMemoryBlobs()
	c := newConversation(t, dialogs.Options{Blobs: blobs})
	c.toMaterialsReady()
	if !slices.ContainsFunc(c.choices(), func(ch dialogs.Choice) bool { return ch.Label == "我已在官网提交" }) {
		t.Fatalf("the registration guide offers no 我已在官网提交 button: %v", c.choices())
	}

	c.say("我已在官网提交")
	if c.s.Status != store.StatusUnderReview || !strings.Contains(c.lastText(), "2 个工作日") {
		t.Fatalf("after 我已在官网提交: status %q, said %q", c.s.Status, c.lastText())
	}

	// Staff reject: the reason, the items to give again, and the first of
	// them asked, all in one notification.
	msgs := c.system(dialogs.SystemEvent{Actor: "staff:7", Status: store.StatusRejected,
		Reason: "身份证人像面照片模糊", Reopen: []string{"id_card_front", "mobile"}}, "r1")
	said := texts(msgs)
	for _, want := range []string{"审核不通过", "身份证人像面照片模糊", "手机号、身份证人像面照片"} {
		if !strings.Contains(said, want) {
			t.Fatalf("the rejection notification lacks %q:\n%s", want, said)
		}
	}
	if a := msgs[len(msgs)-1].Ask; a == nil || a.Slot != "mobile" {
		t.Fatalf("the notification does not ask the first re-opened item (mobile): %+v", msgs[len(msgs)-1])
	}
	if _, ok := c.s.Materials["id_card_front"]; ok {
		t.Fatal("the re-opened ID card is still counted as received")
	}
	if !strings.Contains(texts(msgs), "13800138000"[:3]) {
		t.Fatalf("the re-opened mobile is asked without its current value: %s", said)
	}

	// 进度 shows the reason and what is left.
	c.say("进度")
	if got := c.lastText(); !strings.Contains(got, "身份证人像面照片模糊") || !strings.Contains(got, "待重新提供：手机号、身份证人像面照片") {
		t.Fatalf("进度 while rejected: %s", got)
	}

	c.say("13900139000")
	if c.asked() != "id_card_front" || c.s.Answers["mobile"] != "13900139000" {
		t.Fatalf("after the new mobile: asked %q, mobile %v", c.asked(), c.s.Answers["mobile"])
	}
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(t, 900, 600, 80)}})
	if len(c.s.Fix) != 0 || !strings.Contains(c.lastText(), "都已更新") || !strings.Contains(c.lastText(), "查看原因") {
		t.Fatalf("after the last fix: fix %v, said %s", c.s.Fix, c.lastText())
	}
	if c.s.Status != store.StatusRejected {
		t.Fatalf("fixing the items moved the status to %q; the candidate resubmits on the site", c.s.Status)
	}
	c.send(dialogs.Inbound{Choice: "cmd:submitted"})
	if c.s.Status != store.StatusUnderReview {
		t.Fatalf("the 我已在官网提交 button: status %q", c.s.Status)
	}

	// Not yet: 怎么缴费 says so and names the status.
	c.say("怎么缴费")
	if got := c.lastText(); !strings.Contains(got, "还不到缴费") || !strings.Contains(got, "审核中") {
		t.Fatalf("怎么缴费 under review: %s", got)
	}

	// Approved: the link and a QR image stored in the blob store.
	const payURL = "https://pay.example.com/order/42"
	msgs = c.system(dialogs.SystemEvent{Actor: "import", Status: store.StatusAwaitingPayment, PaymentURL: payURL}, "p1")
	var link *dialogs.Link
	var img *dialogs.OutImage
	for _, m := range msgs {
		link = cmpOr(link, m.Link)
		img = cmpOr(img, m.Image)
	}
	if link == nil || link.URL != payURL || img == nil || img.Ref == "" {
		t.Fatalf("payment notification: link %+v image %+v; want the link and a QR by blob ref", link, img)
	}
	data, err := blobs.Get(context.Background(), img.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width < 256 {
		t.Fatalf("the QR code is not a PNG of a scannable size: %+v %v", cfg, err)
	}
	// 缴费 (the menu key) answers with the QR while awaiting payment.
	res := c.send(dialogs.Inbound{Text: "缴费"})
	if !slices.ContainsFunc(res.Messages, func(m dialogs.Outbound) bool { return m.Image != nil && bytes.Equal(m.Image.Data, data) }) {
		t.Fatalf("缴费 while awaiting payment did not send the QR: %s", c.lastText())
	}

	c.system(dialogs.SystemEvent{Actor: "import", Status: store.StatusPaid}, "p2")
	msgs = c.system(dialogs.SystemEvent{Actor: "import", Status: store.StatusTicketReady}, "t1")
	if !strings.Contains(texts(msgs), "打印准考证") {
		t.Fatalf("ticket_ready notification: %s", texts(msgs))
	}
	want := []string{
		"materials_ready/system/", "under_review/candidate/", "rejected/staff:7/身份证人像面照片模糊",
		"under_review/candidate/", "awaiting_payment/import/", "paid/import/", "ticket_ready/import/",
	}
	if got := c.statusEvents(); !slices.Equal(got, want) {
		t.Fatalf("status events:\n got %v\nwant %v", got, want)
	}
}

func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func TestSystemEventsRefused(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.toMaterialsReady()
	before, err := c.s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var te *store.TransitionError
	tests := []struct {
		name string
		ev   dialogs.SystemEvent
		is   func(error) bool
	}{
		{"illegal transition", dialogs.SystemEvent{Actor: "import", Status: store.StatusPaid},
			func(err error) bool {
				return errors.As(err, &te) && te.From == store.StatusMaterialsReady && te.To == store.StatusPaid
			}},
		{"unknown status", dialogs.SystemEvent{Actor: "import", Status: "approved"},
			func(err error) bool { return errors.As(err, &te) }},
		{"bad actor", dialogs.SystemEvent{Actor: "bob", Status: store.StatusUnderReview},
			func(err error) bool { return errors.Is(err, dialogs.ErrBadSystemEvent) }},
		{"the candidate is no system actor", dialogs.SystemEvent{Actor: "candidate", Status: store.StatusUnderReview},
			func(err error) bool { return errors.Is(err, dialogs.ErrBadSystemEvent) }},
	}
	for _, tt := range tests {
		in := dialogs.Inbound{Channel: "test", UserID: t.Name(), MsgID: tt.name, System: &tt.ev}
		res, err := c.e.Handle(context.Background(), c.s, in)
		if !tt.is(err) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if len(res.Outbox) != 0 || len(res.Events) != 0 {
			t.Errorf("%s: a refused event produced %+v", tt.name, res)
		}
	}
	after, err := c.s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("refused events changed the session:\n%s\n%s", before, after)
	}

	// Under review: a rejection needs a reason, and only real items re-open.
	c.say("我已在官网提交")
	for name, ev := range map[string]dialogs.SystemEvent{
		"no reason":          {Actor: "staff:1", Status: store.StatusRejected},
		"unknown item":       {Actor: "staff:1", Status: store.StatusRejected, Reason: "x", Reopen: []string{"id_card_front", "passport"}},
		"reopen on approval": {Actor: "staff:1", Status: store.StatusAwaitingPayment, Reopen: []string{"photo"}},
	} {
		_, err := c.e.Handle(context.Background(), c.s, dialogs.Inbound{Channel: "test", UserID: t.Name(), System: &ev})
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case name == "no reason" && !errors.Is(err, store.ErrReasonRequired):
			t.Errorf("%s: err = %v, want ErrReasonRequired", name, err)
		case name != "no reason" && !errors.Is(err, dialogs.ErrBadSystemEvent):
			t.Errorf("%s: err = %v, want ErrBadSystemEvent", name, err)
		}
		if c.s.Status != store.StatusUnderReview {
			t.Fatalf("%s moved the status to %q", name, c.s.Status)
		}
	}
	if err != nil && strings.Contains(err.Error(), "passport") == false {
		t.Log(err)
	}

	// The same status again is no change: nothing said, nothing recorded.
	res := c.send(dialogs.Inbound{Channel: "test", UserID: t.Name(), MsgID: "again",
		System: &dialogs.SystemEvent{Actor: "import", Status: store.StatusUnderReview}})
	if len(res.Outbox) != 0 || len(res.Events) != 0 || len(res.Messages) != 0 {
		t.Fatalf("a repeated status produced %+v", res)
	}

	// Someone the bot never talked to.
	fresh := c.e.NewSession(store.Identity{Channel: "test", UserID: "nobody"})
	_, err = c.e.Handle(context.Background(), fresh, dialogs.Inbound{Channel: "test", UserID: "nobody",
		System: &dialogs.SystemEvent{Actor: "import", Status: store.StatusUnderReview}})
	if !errors.Is(err, dialogs.ErrUnknownCandidate) {
		t.Fatalf("system event for an unknown candidate: err = %v", err)
	}
}

// TestEditMovesTheStatusBack: an edit that leaves a material missing or no
// condition holding takes materials_ready back to collecting, so 进度 never
// says "材料已齐" for an application that is not.
func TestEditMovesTheStatusBack(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.toMaterialsReady()
	// Work history edited down to 1 year, no training: no condition holds.
	c.say("修改", "1", "是", "某某电子商务有限公司", "电子商务师", "2025-06", "至今", "否", "3", "否")
	if c.s.Status != store.StatusCollecting {
		t.Fatalf("status %q after an edit that made the candidate ineligible, want collecting (%s)", c.s.Status, c.lastText())
	}
	c.say("进度")
	if got := c.lastText(); strings.Contains(got, "材料已齐") || !strings.Contains(got, "收集资料中") {
		t.Fatalf("进度 after the edit: %s", got)
	}
	if got := c.statusEvents(); !slices.Equal(got, []string{"materials_ready/system/", "collecting/system/"}) {
		t.Fatalf("status events %v", got)
	}

	// Re-opening a material: another condition needing one more upload.
	d := newConversation(t, dialogs.Options{})
	d.toMaterialsReady()
	d.say("修改", "1", "是", "某某电子商务有限公司", "电子商务师", "2024-01", "至今", "否", "是", "120")
	if d.s.Condition != "C3" || d.s.Status != store.StatusCollecting {
		t.Fatalf("after an edit to C3: condition %q status %q", d.s.Condition, d.s.Status)
	}
	for i := 0; d.asked() != "" && strings.HasPrefix(d.s.Step, "upload:"); i++ {
		d.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 320, 448, uint64(200+i))}})
	}
	if d.s.Status != store.StatusMaterialsReady {
		t.Fatalf("after the C3 uploads: status %q (%s)", d.s.Status, d.lastText())
	}

	// 重新开始 at materials_ready, once confirmed, starts collecting again.
	d.say("重新开始", "确定重新开始")
	if d.s.Status != store.StatusCollecting {
		t.Fatalf("status %q after 重新开始", d.s.Status)
	}
}

func TestSystemTurnRecord(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.toMaterialsReady()
	c.say("我已在官网提交")
	in := dialogs.Inbound{Channel: "test", UserID: t.Name(), MsgID: "imp-1",
		System: &dialogs.SystemEvent{Actor: "import", Status: store.StatusRejected, Reason: "照片不合格", Reopen: []string{"photo"}}}
	res := c.send(in)
	rec := c.e.TurnRecord(c.s, in, res)
	if !rec.System || rec.Inbound != "" || rec.Status != store.StatusRejected || rec.StatusActor != "import" ||
		rec.StatusReason != "照片不合格" || len(rec.Outbox) != 1 {
		t.Fatalf("record of a system turn: %+v", rec)
	}
	// The candidate's own status change is theirs.
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(t, 320, 448, 80)}})
	in = dialogs.Inbound{Channel: "test", UserID: t.Name(), MsgID: "m9", Text: "我已在官网提交"}
	res = c.send(in)
	rec = c.e.TurnRecord(c.s, in, res)
	if rec.System || rec.Inbound != "我已在官网提交" || rec.Status != store.StatusUnderReview || rec.StatusActor != "candidate" {
		t.Fatalf("record of 我已在官网提交: %+v", rec)
	}
}

// TestStatusFAQ: questions whose answer depends on where the application is
// answer for the candidate's status.
func TestStatusFAQ(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.toMaterialsReady()
	c.say("我已经提交了")
	if c.s.Status != store.StatusUnderReview {
		t.Fatalf("我已经提交了 at materials_ready: status %q", c.s.Status)
	}
	for _, tt := range []struct {
		status store.Status
		ev     *dialogs.SystemEvent
		ask    string
		says   string
	}{
		{store.StatusUnderReview, nil, "模板在哪下载？", "审核期间如需重新填写"},
		{store.StatusUnderReview, nil, "我报完名了", "审核中"},
		{store.StatusRejected, &dialogs.SystemEvent{Actor: "import", Status: store.StatusRejected, Reason: "申报表有涂改"}, "模板在哪下载？", "驳回原因涉及申报表"},
		{store.StatusRejected, nil, "怎么缴费", "还不到缴费"},
		{store.StatusUnderReview, &dialogs.SystemEvent{Actor: "import", Status: store.StatusUnderReview}, "多少费用", "缴费在官网审核通过之后"},
		{store.StatusAwaitingPayment, &dialogs.SystemEvent{Actor: "import", Status: store.StatusAwaitingPayment}, "模板在哪下载？", "不需要再下载"},
		{store.StatusAwaitingPayment, nil, "费用是多少", "回复“缴费”"},
		{store.StatusPaid, &dialogs.SystemEvent{Actor: "import", Status: store.StatusPaid}, "怎么缴费", "缴费已成功"},
	} {
		if tt.ev != nil {
			if tt.ev.Status == store.StatusUnderReview {
				c.say("我已在官网提交")
			} else {
				c.system(*tt.ev, "ev-"+string(tt.ev.Status))
			}
		}
		if c.s.Status != tt.status {
			t.Fatalf("status %q, want %q", c.s.Status, tt.status)
		}
		c.say(tt.ask)
		if !strings.Contains(c.lastText(), tt.says) {
			t.Errorf("%s at %s: %s\nwant it to say %q", tt.ask, tt.status, c.lastText(), tt.says)
		}
	}
}
