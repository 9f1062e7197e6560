package admin_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// jpegBytes is an ID-card-sized JPEG the default inspector accepts.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1000, 630))
	for y := 0; y < 630; y += 7 {
		for x := 0; x < 1000; x++ {
			img.Set(x, y, color.RGBA{20, 20, 20, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
