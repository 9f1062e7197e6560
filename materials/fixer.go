package materials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"strings"

	"golang.org/x/image/draw"

	"regbot/dialogs"
)

// The 1-inch photo (25×35 mm at 300 dpi), the fallback when a material's
// checks give no size or byte window.
const (
	oneInchWidth  = 295
	oneInchHeight = 413
	oneInchMin    = 40 * 1024
	oneInchMax    = 80 * 1024
)

// ErrNotFixable means the photo cannot be turned into a compliant one (not
// an image, too small, not a white background, …); the candidate must send
// another.
var ErrNotFixable = errors.New("photo cannot be fixed")

// errFewBytes means the file stays below the byte window at the best quality.
var errFewBytes = errors.New("file too small even at the best quality")

// Fixer turns a candidate's photo into one that passes its material's
// checks: the centre is cropped to the ratio, resampled to the reference
// size with a Catmull-Rom kernel and encoded as JPEG at the quality that
// lands the file closest to the middle of the byte window. It implements
// dialogs.PhotoFixer and is safe for concurrent use.
type Fixer struct {
	s  settings
	in *Inspector
}

var _ dialogs.PhotoFixer = (*Fixer)(nil)

// NewFixer returns a Fixer that says texts (the plan's texts, checked by
// CheckTexts) with the defaults changed by opts; the same options should be
// given to the Inspector that checks its results.
func NewFixer(texts Texts, opts ...Option) *Fixer {
	s := newSettings(texts, opts)
	return &Fixer{s: s, in: &Inspector{s: s}}
}

// Fix returns a compliant JPEG made from data for material m (whose checks
// give the ratio, the reference size as MinWidth×MinHeight and the byte
// window), or an error wrapping ErrNotFixable. The result passes the
// Inspector's checks for m.
//
// When the photo is so plain (smooth skin, flat background) that even the
// highest quality stays below the minimum size at the reference size, a
// larger image of the same ratio (at most twice the reference width) is
// encoded instead, as photo tools advise: the official checks ask for the
// ratio and the file size, and a larger photo is never refused for
// resolution.
func (f *Fixer) Fix(ctx context.Context, m *dialogs.Material, data []byte) ([]byte, error) {
	c := m.Checks
	ra, rb, ok := parseRatio(c.Ratio)
	if !ok {
		ra, rb = 5, 7
	}
	if err := f.s.slots.acquire(ctx); err != nil {
		return nil, err
	}
	defer f.s.slots.release()
	hd, err := readHeader(data, f.s.maxPixels)
	if err != nil {
		return nil, fmt.Errorf("fix photo: %w: %w", ErrNotFixable, err)
	}
	img, err := decode(data, hd.format)
	if err != nil {
		return nil, fmt.Errorf("fix photo: %w: %w", ErrNotFixable, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	w, h := hd.size()
	crop := centreCrop(w, h, ra, rb)
	k0 := baseStep(c, ra, rb)
	if crop.Dx() < k0*ra || crop.Dy() < k0*rb {
		return nil, fmt.Errorf("fix photo: %dx%d is smaller than %dx%d after cropping to %d:%d: %w",
			w, h, k0*ra, k0*rb, ra, rb, ErrNotFixable)
	}
	if c.WhiteBackground {
		if share := whiteShare(img, hd.orientation, crop, f.s.whiteLevel); share < f.s.whiteShare {
			return nil, fmt.Errorf("fix photo: background only %.0f%% white: %w", share*100, ErrNotFixable)
		}
	}
	b := img.Bounds()
	src := storedRect(hd.orientation, b.Dx(), b.Dy(), crop).Add(b.Min)
	lo, hi := byteWindow(c)
	// Keep clear of the edges: another site may count a kilobyte or round
	// differently.
	margin := (hi - lo) / 20
	lo, hi = lo+margin, hi-margin
	target := lo + (hi-lo)/2

	// Scale down early, by exact halves, so the full-size image can be
	// collected and every size tried is resampled from a few megapixels.
	kmax := 2 * k0
	hw, hh := kmax*ra, kmax*rb
	if hd.swapped() {
		hw, hh = hh, hw
	}
	pyr := newPyramid(img, src, hw, hh)
	img = nil
	for k := k0; ; {
		w, h := k*ra, k*rb
		if hd.swapped() {
			w, h = h, w
		}
		lv := pyr.at(w, h)
		small := resample(lv.img, lv.r, hd.orientation, k*ra, k*rb)
		out, top, err := encodeWithin(ctx, small, lo, hi)
		if errors.Is(err, errFewBytes) && k < kmax {
			// Too plain for the byte window at this size: grow, guessing
			// from the size at quality 100 (which grows with the pixels).
			guess := int(math.Ceil(float64(k) * math.Sqrt(float64(target)/float64(max(top, 1)))))
			k = min(kmax, max(k+max(1, k/10), guess))
			continue
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if err != nil {
			return nil, fmt.Errorf("fix photo: %w: %w", err, ErrNotFixable)
		}
		if r := f.in.inspect(c, out, dialogs.Facts{}); len(r.problems) > 0 {
			texts := make([]string, len(r.problems))
			for i, p := range r.problems {
				texts[i] = p.text
			}
			return nil, fmt.Errorf("fix photo: the result fails its checks (%s): %w", strings.Join(texts, " "), ErrNotFixable)
		}
		return out, nil
	}
}

// baseStep is the multiple k of the ratio a:b that gives the reference size
// k·a × k·b: the material's minimum size, or the 1-inch photo's.
func baseStep(c dialogs.MaterialChecks, a, b int) int {
	w, h := c.MinWidth, c.MinHeight
	if w <= 0 && h <= 0 {
		w, h = oneInchWidth, oneInchHeight
	}
	return max(1, (w+a-1)/a, (h+b-1)/b)
}

// byteWindow is the accepted file size range of the result.
func byteWindow(c dialogs.MaterialChecks) (lo, hi int) {
	lo, hi = int(c.MinBytes), int(c.MaxBytes)
	if lo <= 0 && hi <= 0 {
		return oneInchMin, oneInchMax
	}
	if hi <= 0 {
		hi = max(2*lo, oneInchMax)
	}
	return lo, hi
}

// pyramid is the crop halved again and again. At exactly a factor of two
// ApproxBiLinear averages each 2×2 block (a box filter, no aliasing) and is
// several times cheaper than Catmull-Rom over the full photo, so each size
// tried is resampled with Catmull-Rom from the smallest level still at least
// that size: a factor of at most four, over a megapixel or two.
type pyramid struct {
	levels []level
}

type level struct {
	img image.Image
	r   image.Rectangle
}

// newPyramid starts a pyramid at the stored rectangle r of img, halved at
// once while the result stays at least w×h (the largest size that will be
// asked for), so that the full-size image need not be kept.
func newPyramid(img image.Image, r image.Rectangle, w, h int) *pyramid {
	lv := level{img, r}
	for lv.r.Dx()/2 >= w && lv.r.Dy()/2 >= h {
		lv = lv.half()
	}
	return &pyramid{levels: []level{lv}}
}

// at returns the smallest level at least w×h (the first one if none is).
func (p *pyramid) at(w, h int) level {
	for {
		last := p.levels[len(p.levels)-1]
		if last.r.Dx()/2 < w || last.r.Dy()/2 < h {
			break
		}
		p.levels = append(p.levels, last.half())
	}
	for i := len(p.levels) - 1; i > 0; i-- {
		if lv := p.levels[i]; lv.r.Dx() >= w && lv.r.Dy() >= h {
			return lv
		}
	}
	return p.levels[0]
}

func (lv level) half() level {
	dst := image.NewRGBA(image.Rect(0, 0, lv.r.Dx()/2, lv.r.Dy()/2))
	even := image.Rectangle{Min: lv.r.Min, Max: lv.r.Min.Add(dst.Rect.Max.Mul(2))}
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), lv.img, even, onWhite(lv.img, dst), nil)
	return level{dst, dst.Bounds()}
}

// resample scales the stored rectangle src of img to a w×h displayed image
// with Catmull-Rom, undoing the EXIF orientation o.
func resample(img image.Image, src image.Rectangle, o, w, h int) *image.RGBA {
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, sw, sh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, src, onWhite(img, dst), nil)
	if o == 1 {
		return dst
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx, sy := toStored(o, sw, sh, x, y)
			copy(out.Pix[out.PixOffset(x, y):][:4], dst.Pix[dst.PixOffset(sx, sy):][:4])
		}
	}
	return out
}

// onWhite prepares dst for drawing img: for an image that may have
// transparent pixels it fills dst with white and returns draw.Over, so that
// transparency ends up white (a JPEG has no alpha); otherwise draw.Src.
func onWhite(img image.Image, dst *image.RGBA) draw.Op {
	if oq, ok := img.(interface{ Opaque() bool }); ok && oq.Opaque() {
		return draw.Src
	}
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	return draw.Over
}

// encodeWithin encodes img as JPEG at the quality whose size is closest to
// the middle of [lo, hi], found by binary search (the size grows with the
// quality). When even quality 100 stays below lo it returns errFewBytes and
// that size.
func encodeWithin(ctx context.Context, img image.Image, lo, hi int) (out []byte, top int, err error) {
	target := lo + (hi-lo)/2
	encoded := map[int][]byte{}
	enc := func(q int) ([]byte, error) {
		if b, ok := encoded[q]; ok {
			return b, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		buf.Grow(target)
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("encode jpeg: %w", err)
		}
		encoded[q] = buf.Bytes()
		return buf.Bytes(), nil
	}
	best, err := enc(100)
	if err != nil {
		return nil, 0, err
	}
	if len(best) < lo {
		return nil, len(best), errFewBytes
	}
	// The highest quality at or below the target size, then it and the
	// next one compete for the closest to the target within the window.
	bestQ := 0
	for l, r := 1, 99; l <= r; {
		q := (l + r) / 2
		b, err := enc(q)
		if err != nil {
			return nil, 0, err
		}
		if len(b) <= target {
			bestQ, l = q, q+1
		} else {
			r = q - 1
		}
	}
	for _, q := range []int{bestQ, bestQ + 1} {
		if q < 1 {
			continue
		}
		b, err := enc(q)
		if err != nil {
			return nil, 0, err
		}
		if len(b) >= lo && len(b) <= hi && (out == nil || abs(len(b)-target) < abs(len(out)-target)) {
			out = b
		}
	}
	if out == nil {
		return nil, 0, fmt.Errorf("no JPEG quality gives %d–%d bytes at %v", lo, hi, img.Bounds().Size())
	}
	return out, 0, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
