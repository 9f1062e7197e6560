package materials

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"

	"regbot/dialogs"
	"regbot/store"
)

// page draws a photographed A4 form: paper on a desk, lit from one side,
// with lines of "handwriting" where layout puts them.
func page(w, h int, seed uint64, layout [][2]float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 11))
	paper := image.Rect(w/12, h/16, w-w/12, h-h/16)
	for y := range h {
		for x := range w {
			light := 235 - 30*x/w // a window on the left
			c := color.RGBA{uint8(light - 90), uint8(light - 110), uint8(light - 130), 255}
			if image.Pt(x, y).In(paper) {
				c = color.RGBA{uint8(light), uint8(light), uint8(light - 6), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	for _, ln := range layout { // rows of text: top at ln[0], length ln[1] of the paper's width
		y0 := paper.Min.Y + int(ln[0]*float64(paper.Dy()))
		for y := y0; y < y0+h/80; y++ {
			for x := paper.Min.X + paper.Dx()/10; x < paper.Min.X+paper.Dx()/10+int(ln[1]*float64(paper.Dx())*0.8); x++ {
				if rng.IntN(3) == 0 {
					img.SetRGBA(x, y, color.RGBA{30, 30, 60, 255})
				}
			}
		}
	}
	return img
}

func hashOf(t *testing.T, data []byte) store.ImageHash {
	t.Helper()
	insp := NewInspector(planTexts()).Inspect(context.Background(), idCardMaterial, data, dialogs.Facts{IDExpiry: "长期"})
	if insp.Hash == "" {
		t.Fatalf("no hash for a decodable image: %q", insp.Problems)
	}
	return insp.Hash
}

func TestPerceptualHashFollowsThePicture(t *testing.T) {
	t.Parallel()
	form := page(1200, 1600, 1, [][2]float64{{.05, .6}, {.12, 1}, {.2, 1}, {.28, .8}, {.4, 1}, {.5, .5}, {.7, 1}, {.8, .3}})
	commitment := page(1200, 1600, 2, [][2]float64{{.05, .4}, {.15, 1}, {.22, 1}, {.29, 1}, {.36, 1}, {.43, .7}, {.9, .3}})
	card := portrait(portraitSpec{w: 1600, h: 1000, bg: color.RGBA{120, 150, 190, 255}, noise: 20, seed: 5})
	// Two people photographed differently (portrait() draws every photo
	// with the same silhouette in the same place: two of them are the same
	// picture in another colour, which the hash rightly finds near).
	onePerson := person(personSpec{w: 900, h: 1200, wall: color.RGBA{67, 142, 219, 255}, head: 0.4, crown: 0.18, cx: 0.5, seed: 1})
	otherPerson := person(personSpec{w: 900, h: 1200, wall: color.RGBA{210, 35, 42, 255}, head: 0.3, crown: 0.1, cx: 0.35, seed: 2})

	half := func(img image.Image) image.Image {
		b := img.Bounds()
		dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		return dst
	}
	original := hashOf(t, encodeJPEG(t, form, 92))
	same := map[string][]byte{
		"the same bytes":            encodeJPEG(t, form, 92),
		"re-encoded at quality 40":  encodeJPEG(t, form, 40),
		"as PNG":                    encodePNG(t, form),
		"halved and recompressed":   encodeJPEG(t, half(form), 60),
		"stored rotated, EXIF says": exifJPEG(encodeJPEG(t, rotateCCW(form), 85), 6, false),
	}
	for name, data := range same {
		if d := original.Distance(hashOf(t, data)); d < 0 || d > store.NearBits/2 {
			t.Errorf("%s: %d bits from the original, want near (≤ %d)", name, d, store.NearBits/2)
		} else {
			t.Logf("%s: %d bits", name, d)
		}
	}
	different := map[string][2]image.Image{
		"two forms photographed on the same desk": {form, commitment},
		"two people's portraits":                  {onePerson, otherPerson},
		"a form and a portrait":                   {form, card},
	}
	for name, pair := range different {
		a, b := hashOf(t, encodeJPEG(t, pair[0], 90)), hashOf(t, encodeJPEG(t, pair[1], 90))
		if d := a.Distance(b); d <= 2*store.NearBits {
			t.Errorf("%s: %d bits apart, want clearly different (> %d)", name, d, 2*store.NearBits)
		} else {
			t.Logf("%s: %d bits", name, d)
		}
	}
	if !bytes.Equal([]byte(original), []byte(hashOf(t, encodeJPEG(t, form, 92)))) {
		t.Error("the hash of the same bytes changes between calls")
	}
}

func TestUndecodableUploadHasNoHash(t *testing.T) {
	t.Parallel()
	insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, []byte("not an image"), dialogs.Facts{})
	if insp.Hash != "" {
		t.Fatalf("hash %q for bytes that are no image", insp.Hash)
	}
}
