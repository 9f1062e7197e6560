package materials

import (
	"bytes"
	"context"
	"image/color"
	"image/jpeg"
	"sync"
	"testing"

	"regbot/dialogs"
)

// BenchmarkInspectPhoto checks one 60 KB 295×413 photo (goal: under 50 ms).
func BenchmarkInspectPhoto(b *testing.B) {
	data := jpegNear(b, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 60<<10)
	in := NewInspector(planTexts())
	b.ReportAllocs()
	for b.Loop() {
		if insp := in.Inspect(context.Background(), photoMaterial, data, dialogs.Facts{}); len(insp.Problems) != 0 {
			b.Fatal(insp.Problems)
		}
	}
}

// BenchmarkInspectPhonePhoto checks a 4000×3000 phone photo as an ID card
// (the pixels are decoded in full).
func BenchmarkInspectPhonePhoto(b *testing.B) {
	data := phonePhoto()
	in := NewInspector(planTexts())
	b.ReportAllocs()
	for b.Loop() {
		in.Inspect(context.Background(), idCardMaterial, data, dialogs.Facts{IDExpiry: "长期"})
	}
}

// BenchmarkInspectBomb refuses a header claiming 50,000×50,000 pixels.
func BenchmarkInspectBomb(b *testing.B) {
	data := bombJPEG(b)
	in := NewInspector(planTexts())
	b.ReportAllocs()
	for b.Loop() {
		in.Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
	}
}

// BenchmarkFix4000x3000 makes a compliant photo from a 4000×3000 phone
// photo (goal: under 400 ms; B/op, everything allocated during one fix, is
// an upper bound of its peak memory, goal under 200 MB).
func BenchmarkFix4000x3000(b *testing.B) {
	data := phonePhoto()
	f := NewFixer(planTexts())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fix(context.Background(), photoMaterial, data); err != nil {
			b.Fatal(err)
		}
	}
}

// blueWallPhoto is a 3000×4000 phone portrait on a blue wall, made once.
var blueWallPhoto = sync.OnceValue(func() []byte {
	img := person(personSpec{w: 3000, h: 4000, wall: color.RGBA{67, 142, 219, 255}, head: 0.25, crown: 0.2, cx: 0.48, seed: 21})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// BenchmarkFixBlueWall3000x4000 fixes a phone portrait on a blue wall: the
// head placed and the wall replaced by white, the fixer's whole method.
func BenchmarkFixBlueWall3000x4000(b *testing.B) {
	data := blueWallPhoto()
	f := NewFixer(planTexts())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fix(context.Background(), photoMaterial, data); err != nil {
			b.Fatal(err)
		}
	}
}
