package materials

import (
	"context"
	"testing"

	"regbot/dialogs"
)

// FuzzInspect feeds arbitrary bytes to the Inspector: it never panics, and
// an accepted upload has a format and a size.
func FuzzInspect(f *testing.F) {
	good := encodeJPEG(f, portrait(portraitSpec{w: 40, h: 56, bg: white, noise: 8}), 80)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(exifJPEG(good, 6, true))
	f.Add(encodePNG(f, portrait(portraitSpec{w: 40, h: 56, bg: white})))
	f.Add(bombJPEG(f))
	f.Add(bombPNG())
	f.Add([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "))
	in := NewInspector(planTexts(), WithMaxPixels(1<<20)) // keep each decode small
	m := &dialogs.Material{Checks: dialogs.MaterialChecks{WhiteBackground: true, Ratio: "5:7"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		insp := in.Inspect(context.Background(), m, data, dialogs.Facts{})
		for _, p := range insp.Problems {
			if p == "" {
				t.Fatal("empty problem")
			}
		}
		if len(insp.Problems) == 0 && (insp.Format == "" || insp.Width <= 0 || insp.Height <= 0) {
			t.Fatalf("accepted without facts: %+v", insp)
		}
	})
}

// FuzzJPEGScan: the marker walk never panics and returns an orientation
// EXIF defines.
func FuzzJPEGScan(f *testing.F) {
	good := encodeJPEG(f, portrait(portraitSpec{w: 16, h: 16, bg: white}), 80)
	f.Add(good)
	f.Add(exifJPEG(good, 8, false))
	f.Add(exifJPEG(good, 3, true))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o, _ := jpegScan(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
