package dialogs_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"

	"regbot/dialogs"
	"regbot/materials"
)

// adviceFixer is a fixer that cannot help and says what to do instead, as
// materials.Refusal does.
type adviceFixer struct{}

type adviceErr struct{}

func (adviceErr) Error() string  { return "photo cannot be fixed: busy background" }
func (adviceErr) Advice() string { return "请站在白墙前重拍一张。" }

func (adviceFixer) Fix(context.Context, *dialogs.Material, []byte) ([]byte, error) {
	return nil, adviceErr{}
}

// toPhoto brings c to the 1-inch photo's upload.
func (c *conversation) toPhoto() {
	c.t.Helper()
	c.toUploads()
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(c.t, 1200, 760, 85)}})
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(c.t, 1200, 760, 1)}})
	if c.asked() != "photo" {
		c.t.Fatalf("asked %q, want the photo (%s)", c.asked(), c.lastText())
	}
}

// When the fixer refuses, the candidate hears its advice, not a generic
// apology.
func TestFixerAdviceReachesTheCandidate(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t)), Fixer: adviceFixer{}})
	c.toPhoto()
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(t, 1200, 1600, 92)}})
	if ch := c.choices(); len(ch) == 0 || ch[0].ID != "fix" {
		t.Fatalf("no fix offered: %s", c.lastText())
	}
	c.send(dialogs.Inbound{Choice: "fix"})
	if !strings.Contains(c.lastText(), "请站在白墙前重拍一张。") {
		t.Fatalf("the fixer's advice was not said: %s", c.lastText())
	}
}

// A photo in front of a bookshelf is not offered 帮我调整: the fixer could
// not replace that background, and the candidate is told how to retake it.
func TestBusyBackgroundGetsNoFixOffer(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t)), Fixer: materials.NewFixer(planTexts(t))})
	c.toPhoto()
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: shelfJPEG(t, 1000, 1400)}})
	for _, ch := range c.choices() {
		if ch.ID == "fix" {
			t.Fatalf("a fix was offered for a busy background: %s", c.lastText())
		}
	}
	if !strings.Contains(c.lastText(), "杂物或图案") || c.asked() != "photo" {
		t.Fatalf("asked %q, said %s", c.asked(), c.lastText())
	}
}

// shelfJPEG is a person in front of a bookshelf: books of random colours.
func shelfJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(5, 9))
	books := make([]color.RGBA, 40)
	for i := range books {
		books[i] = color.RGBA{uint8(40 + rng.IntN(200)), uint8(40 + rng.IntN(200)), uint8(40 + rng.IntN(200)), 255}
	}
	cx, cy, r := float64(w)/2, float64(h)*0.4, float64(w)*0.2
	for y := range h {
		for x := range w {
			c := books[(x/(w/20)+7*(y/(h/6)))%len(books)]
			dx, dy := float64(x)-cx, float64(y)-cy
			if dx*dx+dy*dy < r*r || (float64(y) > float64(h)*0.7 && dx*dx < (r*1.8)*(r*1.8)) {
				c = color.RGBA{200, 160, 135, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
