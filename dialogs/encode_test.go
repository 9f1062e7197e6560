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

// TestJoinEncoded: messages encoded one by one and joined are the bytes
// EncodeMessages writes for all of them, in every grouping.
func TestJoinEncoded(t *testing.T) {
	t.Parallel()
	msgs := []dialogs.Outbound{
		{Text: "请扫码缴费 <a href=\"x\">&</a>", Image: &dialogs.OutImage{Name: "pay.png", Ref: "abc", Data: []byte("png")}},
		{Text: "是否继续？", Choices: []dialogs.Choice{{ID: "yes", Label: "是"}, {ID: "no", Label: "否"}}, Ask: &dialogs.Ask{Slot: "x", Type: "bool"}},
		{Text: "下载\n\t\u2028", Link: &dialogs.Link{Label: "材料包", URL: "https://example.org/m/1?a=1&b=2"}},
		{},
	}
	for i := 0; i <= len(msgs); i++ {
		for j := i; j <= len(msgs); j++ {
			group := msgs[i:j]
			var parts [][]byte
			for _, m := range group {
				p, err := dialogs.EncodeMessage(m)
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, p)
			}
			got := dialogs.JoinEncoded(parts...)
			if len(group) == 0 {
				if got != nil {
					t.Fatalf("no messages joined to %q", got)
				}
				continue
			}
			want, err := dialogs.EncodeMessages(group)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("messages %d..%d joined\n%s\nwant\n%s", i, j, got, want)
			}
		}
	}
	if _, err := dialogs.EncodeMessage(dialogs.Outbound{Image: &dialogs.OutImage{Name: "a.png"}}); !errors.Is(err, dialogs.ErrImageWithoutRef) {
		t.Fatalf("image without ref: err = %v", err)
	}
}
