package dialogs_test

import (
	"errors"
	"reflect"
	"testing"

	"regbot/dialogs"
)

func TestEncodeMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	msgs := []dialogs.Outbound{
		{Text: "请扫码缴费", Image: &dialogs.OutImage{Name: "pay.png", Ref: "abc", Data: []byte("png")}},
		{Text: "是否继续？", Choices: []dialogs.Choice{{ID: "yes", Label: "是"}}, Ask: &dialogs.Ask{Slot: "x", Type: "bool"}},
		{Text: "下载", Link: &dialogs.Link{Label: "材料包", URL: "https://example.org/m/1"}},
	}
	data, err := dialogs.EncodeMessages(msgs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dialogs.DecodeMessages(data)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]dialogs.Outbound(nil), msgs...)
	want[0].Image = &dialogs.OutImage{Name: "pay.png", Ref: "abc"} // bytes are not kept
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestEncodeMessagesRefusesImageBytes(t *testing.T) {
	t.Parallel()
	_, err := dialogs.EncodeMessages([]dialogs.Outbound{{Image: &dialogs.OutImage{Name: "a.png", Data: []byte("x")}}})
	if !errors.Is(err, dialogs.ErrImageWithoutRef) {
		t.Fatalf("err = %v, want ErrImageWithoutRef", err)
	}
	if _, err := dialogs.DecodeMessages([]byte(`{"v":9,"m":[]}`)); err == nil {
		t.Fatal("a payload of an unknown version was read")
	}
}
