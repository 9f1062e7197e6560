package wechat

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"sync"
	"testing"
	"time"

	"regbot/bot"
	"regbot/bot/bottest"
	"regbot/dialogs"
)

// recorder wraps the Router and keeps each turn's Result.
type recorder struct {
	h       Handler
	mu      sync.Mutex
	results []dialogs.Result
}

func (r *recorder) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	res, err := r.h.Handle(ctx, in)
	if err == nil {
		r.mu.Lock()
		r.results = append(r.results, res)
		r.mu.Unlock()
	}
	return res, err
}

func (r *recorder) last() dialogs.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results[len(r.results)-1]
}

// newRouter is the real dialog on the embedded store, as `regbot chat`
// builds it, with today fixed.
func newRouter(t *testing.T) *bot.Router {
	t.Helper()
	return bottest.New(t).Router
}

// TestConversation drives a whole eligibility conversation through the
// webhook, on the real Router and engine, and checks it goes exactly as the
// same messages go through the console channel of `regbot chat`: same bot
// messages turn by turn, the same condition (C2), and everything the engine
// said reaches the candidate, by passive reply or customer-service message.
// Then the candidate sends a photo of the ID card, which the media API
// delivers to the upload step.
func TestConversation(t *testing.T) {
	fake.reset()
	wx := &recorder{h: newRouter(t)}
	b := setup(t, setupOpts{memory: true, handler: wx})
	console := newRouter(t)
	const user = "oConversation01"

	messages := []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否",
		"张三", "11010519491231002X", "2035-01-01", "13800138000"}
	requests := []string{eventXML(user, time.Now().Unix(), "subscribe", "")}
	inbounds := []dialogs.Inbound{{Event: "subscribe"}}
	for i, m := range messages {
		requests = append(requests, textXML(user, int64(1000+i), m))
		inbounds = append(inbounds, dialogs.Inbound{Text: m})
	}

	var condition *string
	for i, x := range requests {
		sentBefore := len(fake.okCalls("custom_send"))
		_, body := b.post(t, request{xml: x})
		got := wx.last()

		in := inbounds[i]
		in.Channel, in.UserID, in.MsgID = "console", "local", "console-"+string(rune('a'+i))
		want, err := console.Handle(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := outboundTexts(got.Messages), outboundTexts(want.Messages); a != b {
			t.Fatalf("turn %d (%q): WeChat and console differ\nwechat:  %s\nconsole: %s", i, inbounds[i].Text, a, b)
		}

		// What the candidate received: the passive reply, then the rest.
		received := passiveText(t, body, user)
		_, rest, _ := splitPassive(got.Messages, true)
		parts, _ := customerParts(rest)
		for _, c := range fake.waitOK(t, "custom_send", sentBefore+len(parts), 5*time.Second)[sentBefore:] {
			m := decodeCustomer(t, c)
			switch {
			case m.Text != nil:
				received += "\n" + m.Text.Content
			case m.Msgmenu != nil:
				received += "\n" + m.Msgmenu.HeadContent
				for _, item := range m.Msgmenu.List {
					received += "\n" + item.Content
				}
				received += "\n" + m.Msgmenu.TailContent
			}
		}
		for _, m := range got.Messages {
			if !strings.Contains(received, strings.TrimSpace(m.Text)) {
				t.Errorf("turn %d: the candidate never saw %q; received:\n%s", i, m.Text, received)
			}
			for _, c := range m.Choices {
				if !strings.Contains(received, c.Label) {
					t.Errorf("turn %d: choice %q not shown", i, c.Label)
				}
			}
		}
		t.Logf("turn %d: the candidate received:\n%s", i, received)
		for _, ev := range got.Events {
			if ev.Kind == dialogs.EventEligibility {
				condition = ev.Condition
			}
		}
	}
	if condition == nil || *condition != "C2" {
		t.Fatalf("condition %v, want C2", condition)
	}
	if ask := wx.last().Messages[len(wx.last().Messages)-1].Ask; ask == nil || ask.Slot != "id_card_front" {
		t.Fatalf("last ask %+v, want the ID card's front", ask)
	}

	// The photo: downloaded from the media API, handed to the upload step.
	var img bytes.Buffer
	pic := image.NewRGBA(image.Rect(0, 0, 1200, 760))
	for y := range 760 {
		for x := range 1200 {
			pic.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	if err := jpeg.Encode(&img, pic, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	fake.setMedia("MEDIA-idcard", img.Bytes(), 0)
	if resp, _ := b.post(t, request{xml: imageXML(user, 2000, "MEDIA-idcard", "")}); resp.StatusCode != 200 {
		t.Fatalf("image: status %d", resp.StatusCode)
	}
	var material *dialogs.Event
	for _, ev := range wx.last().Events {
		if ev.Kind == dialogs.EventMaterial {
			material = &ev
		}
	}
	if material == nil || material.Document == nil || material.Document.Material != "id_card_front" {
		t.Fatalf("no material event for the ID card's front: %+v", wx.last())
	}
	t.Logf("ID card front: accepted %v, problems %v", material.Document.Accepted, material.Document.Problems)
}

// outboundTexts is the comparable form of a turn's messages.
func outboundTexts(msgs []dialogs.Outbound) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m.Text)
		for _, c := range m.Choices {
			b.WriteString("|" + c.ID + "=" + c.Label)
		}
		if m.Ask != nil {
			b.WriteString("|ask:" + m.Ask.Slot)
		}
		b.WriteString("¶")
	}
	return b.String()
}
