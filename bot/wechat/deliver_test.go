package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"regbot/bot"
	"regbot/dialogs"
	"regbot/store"
)

// TestDeliverClassifies: each errcode WeChat answers a customer-service
// message with becomes the error notify acts on, after one try and with
// the count of messages that went out before it; a message refused for
// itself (ErrPermanent) is skipped and the messages after it still go.
func TestDeliverClassifies(t *testing.T) {
	b := setup(t, setupOpts{})
	transient := func(err error) bool {
		_, rl := errors.AsType[*bot.RateLimitedError](err)
		return err != nil && !rl && !errors.Is(err, bot.ErrUnreachable) && !errors.Is(err, bot.ErrPermanent) && !errors.Is(err, bot.ErrWindowClosed)
	}
	cases := []struct {
		code  int64
		check func(error) bool
		want  string
		// rest: the message is refused for itself, so the one after it
		// still goes.
		rest bool
	}{
		{-1, transient, "transient (system busy)", false},
		{43004, func(err error) bool { return errors.Is(err, bot.ErrUnreachable) }, "ErrUnreachable (unsubscribed)", false},
		{43019, func(err error) bool { return errors.Is(err, bot.ErrUnreachable) }, "ErrUnreachable (blocked)", false},
		{40003, func(err error) bool { return errors.Is(err, bot.ErrUnreachable) }, "ErrUnreachable (unknown OpenID)", false},
		{45002, func(err error) bool { return errors.Is(err, bot.ErrPermanent) }, "ErrPermanent (too long)", true},
		{48001, func(err error) bool { return errors.Is(err, bot.ErrPermanent) }, "ErrPermanent (API not allowed)", true},
		{45011, func(err error) bool {
			rl, ok := errors.AsType[*bot.RateLimitedError](err)
			return ok && rl.RetryAfter == time.Minute
		}, "RateLimitedError of 1m", false},
	}
	// A text, an image and a text: three customer-service messages; the
	// second one fails.
	msgs := []dialogs.Outbound{{Text: "审核通过"}, {Image: &dialogs.OutImage{Name: "qr.png", Data: []byte("png")}}, {Text: "请缴费"}}
	for _, tc := range cases {
		fake.reset()
		fake.failNext("custom_send", 0, tc.code)
		done, err := b.a.Deliver(context.Background(), bot.Delivery{UserID: "o-cls", Kind: store.OutNotification, Messages: msgs})
		if !tc.check(err) {
			t.Errorf("errcode %d: Deliver = %v, want %s", tc.code, err, tc.want)
		}
		// After a refusal the third message still goes; anything else
		// stops at the second.
		wantDone, wantCalls := 1, 2
		if tc.rest {
			wantDone, wantCalls = 3, 3
		}
		if done != wantDone {
			t.Errorf("errcode %d: done = %d, want %d", tc.code, done, wantDone)
		}
		n := 0
		for _, c := range fake.callsOf("custom_send") {
			if c.Code != 40001 { // a token revoked by reset is not the message's try
				n++
			}
		}
		if n != wantCalls {
			t.Errorf("errcode %d: %d customer-service calls, want %d (no retry inside Deliver)", tc.code, n, wantCalls)
		}
	}
}

// TestDeliverResumesAndUploads: the image is uploaded as temporary media
// and sent by its media_id; a retry skips what went out.
func TestDeliverResumesAndUploads(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	ctx := context.Background()
	msgs := []dialogs.Outbound{{Text: "请扫码缴费"}, {Image: &dialogs.OutImage{Name: "qr.png", Data: []byte("\x89PNG-QR")}}, {Text: "缴费后请回复"}}
	fake.failNext("custom_send", 0, 0, -1)
	d := bot.Delivery{UserID: "o-res", Kind: store.OutNotification, Messages: msgs}
	done, err := b.a.Deliver(ctx, d)
	if err == nil || done != 2 {
		t.Fatalf("first attempt: %d, %v", done, err)
	}
	d.Done = done
	if done, err = b.a.Deliver(ctx, d); err != nil || done != 3 {
		t.Fatalf("second attempt: %d, %v", done, err)
	}
	ok := fake.okCalls("custom_send")
	if len(ok) != 3 {
		t.Fatalf("customer messages %v", fake.summary())
	}
	var img struct {
		MsgType string `json:"msgtype"`
		Image   struct {
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if err := json.Unmarshal(ok[1].Body, &img); err != nil || img.MsgType != "image" || img.Image.MediaID != "UP1" {
		t.Errorf("image message %s (%v)", ok[1].Body, err)
	}
	if up := fake.okCalls("media_upload"); len(up) != 1 || string(up[0].Body) != "\x89PNG-QR" {
		t.Errorf("uploads %v", fake.summary())
	}
	if m := decodeCustomer(t, ok[2]); m.Text.Content != "缴费后请回复" {
		t.Errorf("last message %+v", m)
	}
}

// TestDeliverOutsideWindow: a closed 48-hour window sends the template of
// the message's kind (else the fallback) in place of what is left; with
// no template the message is ErrWindowClosed, which notify skips.
func TestDeliverOutsideWindow(t *testing.T) {
	b := setup(t, setupOpts{cfg: func(c *Config) {
		c.Templates["notification"] = TemplateConfig{ID: "TPL-STATUS", Fields: map[string]string{"first": "{text}"}}
	}})
	ctx := context.Background()
	for _, tc := range []struct {
		kind store.OutKind
		want string
	}{{store.OutNotification, "TPL-STATUS"}, {store.OutStaff, "TPL-FALLBACK"}} {
		fake.reset()
		fake.failNext("custom_send", 45015)
		done, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-win", Kind: tc.kind, Messages: []dialogs.Outbound{{Text: "审核通过"}}})
		if err != nil || done != 1 {
			t.Fatalf("%s: Deliver = %d, %v", tc.kind, done, err)
		}
		tpl := fake.okCalls("template_send")
		var msg struct {
			TemplateID string `json:"template_id"`
		}
		if len(tpl) != 1 || json.Unmarshal(tpl[0].Body, &msg) != nil || msg.TemplateID != tc.want {
			t.Errorf("%s: template sends %v (%s), want %s", tc.kind, fake.summary(), msg.TemplateID, tc.want)
		}
	}
	fake.reset()
	fake.failNext("custom_send", 45047)
	if _, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-win", Kind: store.OutReply, Messages: []dialogs.Outbound{{Text: "五条已满"}}}); err != nil {
		t.Errorf("45047 (quota per message used up): %v, want the template", err)
	}
	// A message refused for itself, then the window closed: the rest goes
	// as the template and the refusal is still reported.
	fake.reset()
	fake.failNext("custom_send", 45002, 0, 45015)
	msgs := []dialogs.Outbound{{Text: "太长"}, {Image: &dialogs.OutImage{Name: "qr.png", Data: []byte("png")}}, {Text: "审核通过"}}
	done, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-win", Kind: store.OutNotification, Messages: msgs})
	if !errors.Is(err, bot.ErrPermanent) || done != 3 || len(fake.okCalls("template_send")) != 1 {
		t.Errorf("refused, then window closed: done %d, %v, %s; want 3, the refusal, one template", done, err, fake.summary())
	}

	bare := setup(t, setupOpts{cfg: func(c *Config) { c.Templates = nil }})
	fake.reset()
	fake.failNext("custom_send", 45015)
	if _, err := bare.a.Deliver(ctx, bot.Delivery{UserID: "o-win", Kind: store.OutNotification, Messages: []dialogs.Outbound{{Text: "x"}}}); !errors.Is(err, bot.ErrWindowClosed) {
		t.Errorf("no template: %v, want bot.ErrWindowClosed", err)
	}
	fake.failNext("template_send", 43101)
	fake.failNext("custom_send", 45015)
	if _, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-win", Kind: store.OutReply, Messages: []dialogs.Outbound{{Text: "x"}}}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("template refused by the user (43101): %v, want bot.ErrPermanent", err)
	}
}

// TestDeliverUploadsAnImageOnce: the same picture to many candidates (a
// broadcast) is uploaded once; a media_id WeChat no longer knows (40007) is
// dropped and the next attempt uploads again.
func TestDeliverUploadsAnImageOnce(t *testing.T) {
	b := setup(t, setupOpts{})
	fake.reset()
	ctx := context.Background()
	img := []dialogs.Outbound{{Image: &dialogs.OutImage{Name: "exam.png", Data: []byte("\x89PNG-EXAM-DATES")}}}
	for _, user := range []string{"o-b1", "o-b2", "o-b3"} {
		if _, err := b.a.Deliver(ctx, bot.Delivery{UserID: user, Kind: store.OutBroadcast, Messages: img}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fake.okCalls("media_upload")); n != 1 {
		t.Fatalf("%d uploads for one picture to three candidates, want 1", n)
	}
	fake.failNext("custom_send", codeInvalidMediaID)
	if _, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-b4", Kind: store.OutBroadcast, Messages: img}); err == nil {
		t.Fatal("a send refused with 40007 succeeded")
	}
	if _, err := b.a.Deliver(ctx, bot.Delivery{UserID: "o-b4", Kind: store.OutBroadcast, Messages: img}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.okCalls("media_upload")); n != 2 {
		t.Errorf("%d uploads after a 40007, want 2 (uploaded again)", n)
	}
}
