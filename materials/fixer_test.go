package materials

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"regbot/dialogs"
)

// checkFixed asserts that out is a 5:7 JPEG inside 40–80 KB that passes
// the photo checks, and returns it decoded.
func checkFixed(t *testing.T, out []byte) image.Image {
	t.Helper()
	if n := len(out); n < 40<<10 || n > 80<<10 {
		t.Fatalf("fixed photo is %d bytes, want 40–80 KB", n)
	}
	img, format, err := image.Decode(bytes.NewReader(out))
	if err != nil || format != "jpeg" {
		t.Fatalf("fixed photo: %s, %v", format, err)
	}
	b := img.Bounds()
	if b.Dx()*7 != b.Dy()*5 || b.Dx() < 295 {
		t.Fatalf("fixed photo is %dx%d, want exactly 5:7 and at least 295x413", b.Dx(), b.Dy())
	}
	insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, out, dialogs.Facts{})
	if len(insp.Problems) != 0 {
		t.Fatalf("the fixed photo fails the photo checks: %q", insp.Problems)
	}
	return img
}

func TestFixPhonePhoto(t *testing.T) {
	t.Parallel()
	data := phonePhoto()
	in := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
	if !in.Fixable || len(in.Problems) != 2 {
		t.Fatalf("a 4000×3000 phone photo: %q fixable=%v, want size and ratio, fixable", in.Problems, in.Fixable)
	}
	out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, data)
	if err != nil {
		t.Fatal(err)
	}
	img := checkFixed(t, out)
	t.Logf("4000×3000 %d KB → %v, %.1f KB", len(data)>>10, img.Bounds().Size(), float64(len(out))/1024)
	// The subject is where it was: the face in the middle, the shoulders
	// at the bottom, white above.
	b := img.Bounds()
	dark := func(x, y int) bool {
		r, g, bb, _ := img.At(x, y).RGBA()
		return (r+g+bb)/3>>8 < 120
	}
	if !dark(b.Dx()/2, b.Dy()*95/100) || dark(b.Dx()/2, b.Dy()*3/100) {
		t.Fatal("the fixed photo does not show the portrait upright and centred")
	}
}

func TestFixSmallFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"30 KB JPEG re-encoded", func(t *testing.T) []byte {
			return jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 30<<10)
		}},
		{"100 KB JPEG re-encoded", func(t *testing.T) []byte {
			return jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 48, seed: 1}), 100<<10)
		}},
		{"PNG converted", func(t *testing.T) []byte {
			return encodePNG(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 4}))
		}},
		{"4:3 cropped", func(t *testing.T) []byte {
			return jpegNear(t, portrait(portraitSpec{w: 600, h: 450, bg: white, noise: 16}), 60<<10)
		}},
		{"a plain photo is enlarged to reach 40 KB", func(t *testing.T) []byte {
			return encodeJPEG(t, portrait(portraitSpec{w: 900, h: 1260, bg: white, noise: 2}), 90)
		}},
		{"rotated by EXIF", func(t *testing.T) []byte {
			return exifJPEG(jpegNear(t, rotateCCW(portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1})), 60<<10), 6, false)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, tc.data(t))
			if err != nil {
				t.Fatal(err)
			}
			img := checkFixed(t, out)
			// Upright: shoulders (dark) at the bottom centre, not on a side.
			b := img.Bounds()
			r, _, _, _ := img.At(b.Dx()/2, b.Dy()*95/100).RGBA()
			if r>>8 > 120 {
				t.Fatalf("bottom centre is light (%d): the photo is not upright", r>>8)
			}
		})
	}
}

func TestFixTransparentPNG(t *testing.T) {
	t.Parallel()
	// A cut-out portrait: transparent background, which a JPEG cannot keep.
	src := portrait(portraitSpec{w: 500, h: 700, bg: white, noise: 30, seed: 9})
	img := image.NewNRGBA(src.Bounds())
	for i := 0; i < len(src.Pix); i += 4 {
		copy(img.Pix[i:i+4], src.Pix[i:i+4])
		if src.Pix[i] > 200 && src.Pix[i+1] > 200 && src.Pix[i+2] > 200 {
			img.Pix[i+3] = 0 // background
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = 0, 0, 0
		}
	}
	data := encodePNG(t, img)
	if insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{}); !insp.Fixable {
		t.Fatalf("a transparent cut-out should count as white and be fixable: %q", insp.Problems)
	}
	out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, data)
	if err != nil {
		t.Fatal(err)
	}
	fixed := checkFixed(t, out)
	if r, g, b, _ := fixed.At(3, 3).RGBA(); r>>8 < 230 || g>>8 < 230 || b>>8 < 230 {
		t.Fatalf("transparent corner became %d,%d,%d, want white", r>>8, g>>8, b>>8)
	}
}

func TestFixRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"too few pixels", func(t *testing.T) []byte {
			return encodeJPEG(t, portrait(portraitSpec{w: 150, h: 210, bg: white, noise: 24}), 95)
		}},
		{"too few pixels once cropped", func(t *testing.T) []byte {
			return encodeJPEG(t, portrait(portraitSpec{w: 600, h: 240, bg: white, noise: 24}), 95)
		}},
		{"not an image", func(*testing.T) []byte { return []byte("not a photo") }},
		{"decompression bomb", func(t *testing.T) []byte { return bombJPEG(t) }},
		{"so flat it never reaches 40 KB", func(t *testing.T) []byte {
			img := image.NewRGBA(image.Rect(0, 0, 600, 840))
			for i := range img.Pix {
				img.Pix[i] = 255
			}
			return encodeJPEG(t, img, 90)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, tc.data(t))
			if !errors.Is(err, ErrNotFixable) {
				t.Fatalf("Fix: %d bytes, %v; want ErrNotFixable", len(out), err)
			}
		})
	}
}

func TestFixCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewFixer(planTexts()).Fix(ctx, photoMaterial, phonePhoto()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fix with a cancelled context: %v", err)
	}
}

// TestFixPeakMemory measures the memory a 4000×3000 fix needs: TotalAlloc
// over the call is an upper bound of what it can hold at once, and HeapInuse
// sampled every millisecond while it runs shows the actual peak. Not
// parallel: the figures are process-wide.
func TestFixPeakMemory(t *testing.T) {
	data := phonePhoto()
	f := NewFixer(planTexts())
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	_, err := f.Fix(context.Background(), photoMaterial, data)
	took := time.Since(start)
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	extraPeak := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("fix of a 4000×3000 JPEG (%.1f MB): %v, allocated %.1f MB in total, heap in use peaked %.1f MB above the %.1f MB before",
		float64(len(data))/(1<<20), took, float64(allocated)/(1<<20), float64(extraPeak)/(1<<20), float64(before.HeapInuse)/(1<<20))
	if allocated > 200<<20 {
		t.Fatalf("the fix allocated %.1f MB, want under 200 MB", float64(allocated)/(1<<20))
	}
}

// The phone photo decodes to a YCbCr image; make sure the memory test
// measures a realistic photo (4000×3000, over 2 MB).
func TestPhonePhotoIsRealistic(t *testing.T) {
	t.Parallel()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(phonePhoto()))
	if err != nil || cfg.Width != 4000 || cfg.Height != 3000 || len(phonePhoto()) < 2<<20 {
		t.Fatalf("phone photo %dx%d of %d bytes, %v", cfg.Width, cfg.Height, len(phonePhoto()), err)
	}
}
