package dialogs_test

import (
	"testing"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
)

// TestInboundRecordSaysThePlansWords: how the record shows a system turn,
// an image, a choice and an event is the plan's record_* texts, filled in;
// a text message is itself.
func TestInboundRecordSaysThePlansWords(t *testing.T) {
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	plan.Texts["record_system"] = "<system {actor}>"
	plan.Texts["record_image"] = "<image {ref}>"
	plan.Texts["record_choice"] = "<choice {choice}>"
	plan.Texts["record_event"] = "<event {event}>"
	e, err := dialogs.NewEngine(plan, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   dialogs.Inbound
		ref  string
		want string
	}{
		{dialogs.Inbound{System: &dialogs.SystemEvent{Actor: "staff:7"}}, "", "<system staff:7>"},
		{dialogs.Inbound{Image: &dialogs.Image{Data: []byte("x")}}, "blob-1", "<image blob-1>"},
		{dialogs.Inbound{Choice: "use_fixed"}, "", "<choice use_fixed>"},
		{dialogs.Inbound{Event: "subscribe"}, "", "<event subscribe>"},
		{dialogs.Inbound{Text: "你好"}, "", "你好"},
	} {
		if got := e.InboundRecord(tc.in, tc.ref); got != tc.want {
			t.Errorf("InboundRecord(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The turn's record takes it.
	s := e.NewSession(store.Identity{Channel: "web", UserID: "rec"})
	if got := e.TurnRecord(s, dialogs.Inbound{Choice: "yes"}, dialogs.Result{}).Inbound; got != "<choice yes>" {
		t.Errorf("the turn records %q, want the plan's record_choice", got)
	}
	// The embedded plan's words are the ones the console reads.
	def, _ := plans.Default()
	d, err := dialogs.NewEngine(def, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.InboundRecord(dialogs.Inbound{Image: &dialogs.Image{Data: []byte("x")}}, "blob-1"); got != "[图片 blob-1]" {
		t.Errorf("the embedded plan records an image as %q", got)
	}
}
