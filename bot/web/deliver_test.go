package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// TestDeliverShowsLaterMessages: a message delivered after the visitor's
// last turn (a status notification) joins their history, and the page's
// poll (history?after=N) gets exactly what is new, image included.
func TestDeliverShowsLaterMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	c := b.newClient(t)
	decode[turnResponse](t, c.postJSON("/chat/api/message", `{"msg_id":"s1","start":true}`))
	uid, _ := b.chat.parseIdentity(c.cookie(identityCookie))
	first := decode[historyResponse](t, c.do(c.request("GET", "/chat/api/history", nil)))
	last := first.Messages[len(first.Messages)-1].ID

	msgs := []dialogs.Outbound{
		{Text: "审核通过，请缴费"},
		{Text: "扫码缴费", Image: &dialogs.OutImage{Name: "qr.png", Ref: "r1", Data: testPNG()}},
	}
	done, err := b.chat.Deliver(context.Background(), bot.Delivery{UserID: uid, Kind: store.OutNotification, Messages: msgs})
	if err != nil || done != 2 {
		t.Fatalf("Deliver = %d, %v", done, err)
	}
	// A retry after one message went out adds only the rest.
	if done, err := b.chat.Deliver(context.Background(), bot.Delivery{UserID: uid, Messages: msgs, Done: 2}); err != nil || done != 2 {
		t.Fatalf("Deliver of nothing left = %d, %v", done, err)
	}
	poll := decode[historyResponse](t, c.do(c.request("GET", fmt.Sprintf("/chat/api/history?after=%d", last), nil)))
	if len(poll.Messages) != 2 || poll.Messages[0].Text != "审核通过，请缴费" || poll.Messages[0].From != FromBot ||
		poll.Messages[0].ID != last+1 || !strings.HasSuffix(poll.Messages[1].Image, fmt.Sprintf("/api/image/%d", last+2)) {
		t.Fatalf("poll after %d = %+v", last, poll.Messages)
	}
	img := c.do(c.request("GET", poll.Messages[1].Image, nil))
	if img.StatusCode != 200 || !strings.HasPrefix(img.Header.Get("Content-Type"), "image/") {
		t.Errorf("image of a delivered message: %d %s", img.StatusCode, img.Header.Get("Content-Type"))
	}
	if none := decode[historyResponse](t, c.do(c.request("GET", fmt.Sprintf("/chat/api/history?after=%d", last+2), nil))); len(none.Messages) != 0 {
		t.Errorf("poll with nothing new = %+v", none.Messages)
	}
	if bad := c.do(c.request("GET", "/chat/api/history?after=x", nil)); bad.StatusCode != 400 {
		t.Errorf("after=x: %d, want 400", bad.StatusCode)
	}
}
