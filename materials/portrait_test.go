package materials

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"

	"regbot/dialogs"
)

// The colours of a generated person: hair, the face's skin, the neck's
// (shadowed under the chin), clothes.
var (
	hairColour  = [3]int{38, 30, 26}
	faceColour  = [3]int{212, 168, 142}
	neckColour  = [3]int{168, 124, 104}
	shirtColour = [3]int{52, 60, 92}
)

// personSpec is a generated head-and-shoulders photo: hair, face, neck and
// shoulders over a wall, with skin, hair and sensor noise.
type personSpec struct {
	w, h  int
	wall  color.RGBA
	busy  bool    // a bookshelf behind the person instead of a plain wall
	plain bool    // no noise at all: smooth skin and wall
	head  float64 // head height (crown to chin) / photo height
	crown float64 // crown row / photo height
	cx    float64 // head centre / photo width
	seed  uint64
}

// person draws the photo; the head is headH = head·h high, from the crown
// at crown·h to the chin.
func person(s personSpec) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
	rng := rand.New(rand.NewPCG(s.seed, 3))
	W, H := float64(s.w), float64(s.h)
	hh := s.head * H
	cx, crown := s.cx*W, s.crown*H
	chin := crown + hh
	inEllipse := func(x, y, ex, ey, rx, ry float64) bool {
		dx, dy := (x-ex)/rx, (y-ey)/ry
		return dx*dx+dy*dy < 1
	}
	// The shelf's books: random colours in columns.
	books := make([][3]int, 64)
	for i := range books {
		books[i] = [3]int{40 + rng.IntN(200), 40 + rng.IntN(200), 40 + rng.IntN(200)}
	}
	clamp := func(v int) uint8 { return uint8(min(255, max(0, v))) }
	for y := range s.h {
		fy := float64(y) + 0.5
		row := img.Pix[y*img.Stride:]
		for x := range s.w {
			fx := float64(x) + 0.5
			base := [3]int{int(s.wall.R), int(s.wall.G), int(s.wall.B)}
			noise := 3
			if s.busy {
				shelf := int(fy / (H / 6))
				book := (int(fx/(W/24)) + 7*shelf) % len(books)
				base = books[book]
				if int(fy)%int(H/6) < int(H/60) {
					base = [3]int{120, 80, 40} // the shelf board
				}
			}
			// Light falls from the left: the wall is a little brighter there.
			shade := int(8 * (0.5 - fx/W))
			base = [3]int{base[0] + shade, base[1] + shade, base[2] + shade}
			shoulderTop := chin + 0.35*hh
			switch {
			case inEllipse(fx, fy, cx, crown+0.57*hh, 0.31*hh, 0.43*hh) && fy > crown+0.16*hh:
				base, noise = faceColour, 10
			case inEllipse(fx, fy, cx, crown+0.45*hh, 0.37*hh, 0.48*hh):
				base, noise = hairColour, 14
			case fy > chin-0.2*hh && fy < shoulderTop+0.1*hh && abs(int(fx-cx)) < int(0.2*hh):
				base, noise = neckColour, 8
			case fy > shoulderTop && (fx-cx)*(fx-cx) < (1.1*hh)*(1.1*hh)*min(1, (fy-shoulderTop)/(0.25*hh)):
				base, noise = shirtColour, 10
			}
			if s.plain {
				noise = 0
			}
			n := rng.IntN(2*noise+1) - noise
			p := row[4*x:]
			p[0], p[1], p[2], p[3] = clamp(base[0]+n), clamp(base[1]+n), clamp(base[2]+n), 255
		}
	}
	return img
}

// measured is what a fixed photo shows, found by colour: the hair's top
// (crown), the face's lowest row (chin), the face's centre, and the mean
// of the background above the head's corners.
type measured struct {
	crown, chin int
	cx          float64
	corner      [3]float64
}

func near(p []uint8, c [3]int, tol int) bool {
	return abs(int(p[0])-c[0]) <= tol && abs(int(p[1])-c[1]) <= tol && abs(int(p[2])-c[2]) <= tol
}

func measure(img image.Image) measured {
	b := img.Bounds()
	rgba := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	m := measured{crown: -1, chin: -1}
	var sx, n float64
	for y := range b.Dy() {
		hair, face := 0, 0
		for x := range b.Dx() {
			p := rgba.Pix[rgba.PixOffset(x, y):][:3]
			if near(p, hairColour, 30) {
				hair++
			}
			if near(p, faceColour, 28) {
				face++
				sx += float64(x)
				n++
			}
		}
		if m.crown < 0 && hair >= 3 {
			m.crown = y
		}
		if face >= 3 {
			m.chin = y
		}
	}
	m.cx = sx / max(n, 1)
	var c [3]float64
	cnt := 0.0
	for y := range b.Dy() / 20 {
		for _, x0 := range []int{0, b.Dx() * 9 / 10} {
			for x := x0; x < x0+b.Dx()/10; x++ {
				p := rgba.Pix[rgba.PixOffset(x, y):]
				for i := range 3 {
					c[i] += float64(p[i])
				}
				cnt++
			}
		}
	}
	for i := range 3 {
		m.corner[i] = c[i] / cnt
	}
	return m
}

func TestFixPlacesTheHeadOnWhite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		spec personSpec
	}{
		{"blue wall", personSpec{w: 900, h: 1200, wall: color.RGBA{67, 142, 219, 255}, head: 0.4, crown: 0.18, cx: 0.5, seed: 1}},
		{"red wall", personSpec{w: 900, h: 1200, wall: color.RGBA{210, 35, 42, 255}, head: 0.45, crown: 0.15, cx: 0.45, seed: 2}},
		{"grey wall", personSpec{w: 1000, h: 1300, wall: color.RGBA{176, 178, 180, 255}, head: 0.35, crown: 0.2, cx: 0.55, seed: 3}},
		{"blue-grey wall of a usual phone photo", personSpec{w: 1080, h: 1440, wall: color.RGBA{150, 162, 176, 255}, head: 0.3, crown: 0.22, cx: 0.5, seed: 4}},
		{"off-white wall", personSpec{w: 900, h: 1200, wall: color.RGBA{236, 230, 214, 255}, head: 0.4, crown: 0.15, cx: 0.5, seed: 5}},
		{"3000×4000 portrait, small head", personSpec{w: 3000, h: 4000, wall: color.RGBA{245, 245, 245, 255}, head: 0.18, crown: 0.3, cx: 0.5, seed: 6}},
		{"head close to the top", personSpec{w: 900, h: 1200, wall: color.RGBA{67, 142, 219, 255}, head: 0.45, crown: 0.02, cx: 0.5, seed: 7}},
		{"off centre", personSpec{w: 1600, h: 1200, wall: color.RGBA{200, 205, 210, 255}, head: 0.4, crown: 0.15, cx: 0.3, seed: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := encodeJPEG(t, person(tc.spec), 90)
			insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
			if !insp.Fixable {
				t.Fatalf("not offered a fix: %q", insp.Problems)
			}
			out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, data)
			if err != nil {
				t.Fatal(err)
			}
			img := checkFixed(t, out)
			b := img.Bounds()
			m := measure(img)
			share := float64(m.chin-m.crown) / float64(b.Dy())
			off := m.cx/float64(b.Dx()) - 0.5
			t.Logf("%v, %.1f KB: head %.0f%% of the height, crown at %.1f%%, centre off by %+.1f%%, corners %.0f",
				b.Size(), float64(len(out))/1024, share*100, 100*float64(m.crown)/float64(b.Dy()), off*100, m.corner)
			if share < headShareMin || share > headShareMax {
				t.Errorf("head is %.0f%% of the height, want %.0f–%.0f%%", share*100, headShareMin*100, headShareMax*100)
			}
			if off < -0.03 || off > 0.03 {
				t.Errorf("face centre is %+.1f%% of the width off the middle", off*100)
			}
			if crown := float64(m.crown) / float64(b.Dy()); crown < 0.02 || crown > 0.12 {
				t.Errorf("crown at %.1f%% of the height, want 2–12%%", crown*100)
			}
			for _, c := range m.corner {
				if c < 250 {
					t.Errorf("the background measures %.0f, want white", m.corner)
					break
				}
			}
		})
	}
}

func TestFixRefusesWithAdvice(t *testing.T) {
	t.Parallel()
	blank := image.NewRGBA(image.Rect(0, 0, 600, 840))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	for _, tc := range []struct {
		name   string
		data   func(t *testing.T) []byte
		advice string // the plan's text key
	}{
		{"busy background", func(t *testing.T) []byte {
			return encodeJPEG(t, person(personSpec{w: 900, h: 1200, busy: true, head: 0.4, crown: 0.18, cx: 0.5, seed: 9}), 90)
		}, "fix_busy_background"},
		{"nobody in the photo", func(t *testing.T) []byte { return encodePNG(t, blank) }, "fix_no_person"},
		{"the head cut by the top edge", func(t *testing.T) []byte {
			return encodeJPEG(t, person(personSpec{w: 900, h: 1200, wall: color.RGBA{67, 142, 219, 255}, head: 0.5, crown: -0.05, cx: 0.5, seed: 10}), 90)
		}, "fix_head_cut"},
		{"far too few pixels", func(t *testing.T) []byte {
			return encodeJPEG(t, person(personSpec{w: 150, h: 200, wall: color.RGBA{67, 142, 219, 255}, head: 0.4, crown: 0.2, cx: 0.5, seed: 11}), 95)
		}, "fix_too_small"},
		{"not an image", func(*testing.T) []byte { return []byte("not a photo") }, "fix_unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.data(t)
			insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
			if insp.Fixable {
				t.Errorf("offered a fix the fixer refuses: %q", insp.Problems)
			}
			out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, data)
			var r *Refusal
			if !errors.Is(err, ErrNotFixable) || !errors.As(err, &r) {
				t.Fatalf("Fix: %d bytes, %v; want a Refusal", len(out), err)
			}
			want := planTexts().say(tc.advice, "min_width", "295", "min_height", "413")
			if r.Advice() != want {
				t.Fatalf("advice %q, want texts.%s", r.Advice(), tc.advice)
			}
		})
	}
	// A busy wall is said as such when the photo is checked, with what to do.
	data := encodeJPEG(t, person(personSpec{w: 900, h: 1200, busy: true, head: 0.4, crown: 0.18, cx: 0.5, seed: 9}), 90)
	insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
	if !strings.Contains(strings.Join(insp.Problems, ""), "杂物或图案") {
		t.Errorf("a busy background is not named: %q", insp.Problems)
	}
}

// A plain photo on white (smooth skin, nothing in the background) stays
// under 40 KB at 295×413 even at quality 100: the fixer encodes it larger.
func TestFixPlainPhotoGrows(t *testing.T) {
	t.Parallel()
	img := person(personSpec{w: 600, h: 840, wall: color.RGBA{255, 255, 255, 255}, plain: true, head: 0.45, crown: 0.12, cx: 0.5, seed: 12})
	data := encodePNG(t, img)
	insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
	if !insp.Fixable {
		t.Fatalf("a plain 600×840 PNG is not offered a fix: %q", insp.Problems)
	}
	out, err := NewFixer(planTexts()).Fix(context.Background(), photoMaterial, data)
	if err != nil {
		t.Fatal(err)
	}
	fixed := checkFixed(t, out)
	t.Logf("plain 600×840 PNG → %v, %.1f KB", fixed.Bounds().Size(), float64(len(out))/1024)
	if fixed.Bounds().Dx() <= 295 {
		t.Errorf("not enlarged: %v", fixed.Bounds().Size())
	}
}
