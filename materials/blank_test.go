package materials

import (
	"image"
	"image/color"
	"slices"
	"testing"

	"regbot/dialogs"
)

func TestBlankPictureRefused(t *testing.T) {
	t.Parallel()
	black := image.NewGray(image.Rect(0, 0, 2000, 1500)) // all zero, as the bomb
	grey := image.NewRGBA(image.Rect(0, 0, 2000, 1500))
	for i := range grey.Pix {
		grey.Pix[i] = 200 + uint8(i%7) // a wall with a little noise
	}
	form := page(1500, 2000, 3, [][2]float64{{.1, .5}, {.3, .2}}) // two short lines of writing
	card := portrait(portraitSpec{w: 1600, h: 1000, bg: color.RGBA{120, 150, 190, 255}, noise: 20, seed: 5})
	for _, tc := range []struct {
		name  string
		m     *dialogs.Material
		data  []byte
		blank bool
	}{
		{"an all-black PNG as an ID card", idCardMaterial, encodePNG(t, black), true},
		{"a plain grey wall as a form", formMaterial, encodeJPEG(t, grey, 85), true},
		{"a form with two lines of writing", formMaterial, encodeJPEG(t, form, 85), false},
		{"an ID card", idCardMaterial, encodeJPEG(t, card, 85), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reportOf(t, NewInspector(planTexts()), tc.m, tc.data, dialogs.Facts{IDExpiry: "长期"})
			if got := slices.Contains(kinds(r), kindBlank); got != tc.blank {
				t.Fatalf("blank = %v, want %v (%v)", got, tc.blank, r.problems)
			}
			if tc.blank && r.problems[len(r.problems)-1].text != planTexts().say("check_blank", "material", tc.m.Name) {
				t.Errorf("said %v", r.problems)
			}
		})
	}
}
