package materials

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"sync"
	"testing"

	"regbot/dialogs"
	"regbot/plans"
)

// The reference checks of the plan's materials (DOMAIN.md §3).
var (
	photoMaterial = &dialogs.Material{Key: "photo", Name: "白底个人一寸照片", Checks: dialogs.MaterialChecks{
		Formats: []string{"jpeg"}, MinBytes: 40960, MaxBytes: 81920, Ratio: "5:7", RatioTolerance: 0.03,
		MinWidth: 295, MinHeight: 413, WhiteBackground: true, Fixable: true,
	}}
	idCardMaterial = &dialogs.Material{Key: "id_card_back", Name: "身份证国徽面照片", Checks: dialogs.MaterialChecks{
		Formats: []string{"jpeg", "png", "webp"}, MinWidth: 800, MinHeight: 500, MaxBytes: 20 << 20, CheckIDExpiry: true,
	}}
	formMaterial = &dialogs.Material{Key: "application_form", Name: "申报表", Checks: dialogs.MaterialChecks{
		MinWidth: 1200, MinHeight: 1600, Handwritten: true,
	}}
)

// portraitSpec describes a generated photo: a background, a darker head and
// shoulders in the middle of its centre 5:7 region, and noise, which is what
// makes JPEG sizes realistic (sensor noise, skin, hair).
type portraitSpec struct {
	w, h  int
	bg    color.RGBA
	noise int // amplitude of the noise added to every channel
	seed  uint64
}

// portrait draws the photo straight into the pixel buffer (img.Set would
// take seconds at 12 megapixels).
func portrait(s portraitSpec) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
	rng := rand.New(rand.NewPCG(s.seed, 7))
	box := centreCrop(s.w, s.h, 5, 7)
	bw, bh := float64(box.Dx()), float64(box.Dy())
	cx, cy := float64(box.Min.X)+bw/2, float64(box.Min.Y)+bh*0.42
	rx, ry := bw*0.22, bh*0.2
	shoulderTop := float64(box.Min.Y) + bh*0.72
	clamp := func(v int) uint8 { return uint8(min(255, max(0, v))) }
	for y := range s.h {
		row := img.Pix[y*img.Stride:]
		fy := float64(y)
		for x := range s.w {
			fx := float64(x)
			dx, dy := (fx-cx)/rx, (fy-cy)/ry
			base := [3]int{int(s.bg.R), int(s.bg.G), int(s.bg.B)}
			switch {
			case dx*dx+dy*dy < 1: // face
				base = [3]int{200, 160, 135}
			case fy > shoulderTop && abs(int(fx-cx)) < int(bw*0.42): // shoulders
				base = [3]int{40, 45, 70}
			}
			n := 0
			if s.noise > 0 {
				n = rng.IntN(2*s.noise+1) - s.noise
			}
			p := row[4*x:]
			if base == [3]int{int(s.bg.R), int(s.bg.G), int(s.bg.B)} {
				// Background noise only darkens, so white stays white.
				n = -abs(n) / 2
			}
			p[0], p[1], p[2], p[3] = clamp(base[0]+n), clamp(base[1]+n), clamp(base[2]+n), 255
		}
	}
	return img
}

var white = color.RGBA{252, 252, 252, 255}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegNear encodes img at the quality whose size is closest to target and
// fails the test unless it lands within 10% of it, so that a test about a
// "60 KB photo" really has one.
func jpegNear(t testing.TB, img image.Image, target int) []byte {
	t.Helper()
	var best []byte
	for l, r := 1, 100; l <= r; {
		q := (l + r) / 2
		b := encodeJPEG(t, img, q)
		if best == nil || abs(len(b)-target) < abs(len(best)-target) {
			best = b
		}
		if len(b) < target {
			l = q + 1
		} else {
			r = q - 1
		}
	}
	if abs(len(best)-target) > target/10 {
		t.Fatalf("generated JPEG is %d bytes, want about %d: adjust the noise", len(best), target)
	}
	return best
}

// phonePhoto is a 4000×3000 phone photo with a white border (about 2.3 MB),
// made once for the tests and benchmarks that need it.
var phonePhoto = sync.OnceValue(func() []byte {
	img := portrait(portraitSpec{w: 4000, h: 3000, bg: white, noise: 20, seed: 3})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// planTexts are the default plan's texts, which every Inspector and Fixer
// of the tests says.
var planTexts = sync.OnceValue(func() Texts {
	p, err := plans.Default()
	if err != nil {
		panic(err)
	}
	return p.Texts
})
