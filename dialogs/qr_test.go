package dialogs_test

import (
	"bytes"
	"context"
	"image/png"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"regbot/dialogs"
	"regbot/store"
)

// decodeQR reads the text of a QR code image.
func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the QR code is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR code does not decode: %v", err)
	}
	return res.GetText()
}

// TestPaymentQRDecodes: the QR code the candidate scans is the payment
// link, the candidate's own when the status change carried one, else the
// plan's.
func TestPaymentQRDecodes(t *testing.T) {
	t.Parallel()
	blobs := dialogs.NewMemoryBlobs()
	c := newConversation(t, dialogs.Options{Blobs: blobs})
	c.toMaterialsReady()
	c.say("我已在官网提交")
	const own = "https://pay.example.com/order/2026-000042?sign=a1b2c3"
	msgs := c.system(dialogs.SystemEvent{Actor: "import", Status: store.StatusAwaitingPayment, PaymentURL: own}, "pay-1")
	var ref string
	for _, m := range msgs {
		if m.Image != nil {
			ref = m.Image.Ref
		}
	}
	data, err := blobs.Get(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, data); got != own {
		t.Fatalf("the QR code reads %q, want %q", got, own)
	}
}
