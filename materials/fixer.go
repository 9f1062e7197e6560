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
	// The self-check of a result runs inside the fix's share of the
	// budget: waiting for another share could wait forever.
	check := s
	check.budget = nil
	return &Fixer{s: s, in: &Inspector{s: check}}
}

// Fix returns a compliant JPEG made from data for material m (whose checks
// give the ratio, the reference size as MinWidth×MinHeight and the byte
// window), or an error wrapping ErrNotFixable whose Advice (see Refusal)
// tells the candidate what to do instead. The result passes the
// Inspector's checks for m.
//
// The photo is analysed first (analysePortrait): the wall's colour from the
// border, the background flooded from the edges, the head found on the
// foreground's outline. The crop puts the head where a 1-inch photo has it
// (headShare of the height, crownMargin above the crown, centred); where
// the crop reaches past the top or the sides the white background is
// continued. A plain wall of any colour is replaced by white with a
// feathered edge; a busy background is refused.
//
// When the photo is so plain (smooth skin, white background) that even the
// highest quality stays below the minimum size at the reference size, a
// larger image of the same ratio (up to maxGrow times the reference width)
// is encoded instead, as photo tools advise: the official checks ask for
// the ratio and the file size, and a larger photo is never refused for
// resolution.
func (f *Fixer) Fix(ctx context.Context, m *dialogs.Material, data []byte) ([]byte, error) {
	c := m.Checks
	ra, rb, ok := parseRatio(c.Ratio)
	if !ok {
		ra, rb = 5, 7
	}
	hd, err := readHeader(data, f.s.maxPixels)
	if err != nil {
		return nil, f.refuse("fix_unreadable", err.Error())
	}
	release, err := f.s.budget.acquire(ctx, hd)
	if err != nil {
		return nil, err
	}
	defer release()
	img, err := decode(data, hd.format)
	if err != nil {
		return nil, f.refuse("fix_unreadable", err.Error())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	info := analysePortrait(img, hd.orientation, ra, rb)
	k0 := baseStep(c, ra, rb)
	switch info.verdict(k0) {
	case whyBusy:
		return nil, f.refuse("fix_busy_background", "busy background")
	case whyNoPerson:
		return nil, f.refuse("fix_no_person", "no head and shoulders found")
	case whyHeadCut:
		return nil, f.refuse("fix_head_cut", "no room above or below the head")
	case whyTooFewPixels:
		return nil, f.refuse("fix_too_small", fmt.Sprintf("the head's crop is %v, the photo needs %dx%d",
			info.crop.Size(), k0*ra, k0*rb), "min_width", itoa(k0*ra), "min_height", itoa(k0*rb))
	}
	crop := info.crop
	inter := crop.Intersect(image.Rect(0, 0, info.w, info.h))
	b := img.Bounds()
	src := storedRect(hd.orientation, b.Dx(), b.Dy(), inter).Add(b.Min)
	lo, hi := byteWindow(c)
	// Keep clear of the edges: another site may count a kilobyte or round
	// differently.
	margin := (hi - lo) / 20
	lo, hi = lo+margin, hi-margin
	target := lo + (hi-lo)/2

	// Scale down early, by exact halves, so the full-size image can be
	// collected and every size tried is resampled from a few megapixels.
	kmax := maxGrow * k0
	need := func(k int) (w, h int) { // the source part's size at step k, stored
		s := float64(k*rb) / float64(crop.Dy())
		w, h = int(math.Ceil(float64(inter.Dx())*s)), int(math.Ceil(float64(inter.Dy())*s))
		if hd.swapped() {
			w, h = h, w
		}
		return w, h
	}
	mw, mh := need(kmax)
	pyr := newPyramid(img, src, mw, mh)
	img = nil
	for k := k0; ; {
		nw, nh := need(k)
		lv := pyr.at(nw, nh)
		small := f.compose(lv, hd.orientation, info, k*ra, k*rb)
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
		if errors.Is(err, errFewBytes) {
			return nil, f.refuse("fix_too_plain", err.Error(), "min", f.s.texts.byteSize(int64(c.MinBytes)))
		}
		if err != nil {
			return nil, fmt.Errorf("fix photo: %w: %w", err, ErrNotFixable)
		}
		if r, err := f.in.inspect(ctx, m, out, dialogs.Facts{}); err != nil || len(r.problems) > 0 {
			if err != nil {
				return nil, err
			}
			texts := make([]string, len(r.problems))
			for i, p := range r.problems {
				texts[i] = p.text
			}
			return nil, fmt.Errorf("fix photo: the result fails its checks (%s): %w", strings.Join(texts, " "), ErrNotFixable)
		}
		return out, nil
	}
}

// maxGrow is how many times the reference width a plain photo may be
// encoded at to reach the minimum file size.
const maxGrow = 4

// Refusal is the error of a photo the Fixer cannot help with: it wraps
// ErrNotFixable, and Advice is the plan's sentence telling the candidate
// what to do instead (retake in front of a plain wall, send the original…).
type Refusal struct {
	advice string
	reason string
}

func (r *Refusal) Error() string { return "photo cannot be fixed: " + r.reason }

// Unwrap makes errors.Is(err, ErrNotFixable) hold.
func (r *Refusal) Unwrap() error { return ErrNotFixable }

// Advice is the zh-CN sentence for the candidate.
func (r *Refusal) Advice() string { return r.advice }

func (f *Fixer) refuse(key, reason string, kv ...string) error {
	return fmt.Errorf("fix photo: %w", &Refusal{advice: f.s.texts.say(key, kv...), reason: reason})
}

// compose resamples the part of the crop inside the photo (level lv) into
// a w×h displayed image, continues the white background where the crop
// reaches past the photo, and replaces a coloured wall by white.
func (f *Fixer) compose(lv level, o int, info *portraitInfo, w, h int) *image.RGBA {
	crop := info.crop
	inter := crop.Intersect(image.Rect(0, 0, info.w, info.h))
	s := float64(h) / float64(crop.Dy())
	d := image.Rect(int(math.Round(float64(inter.Min.X-crop.Min.X)*s)), int(math.Round(float64(inter.Min.Y-crop.Min.Y)*s)),
		int(math.Round(float64(inter.Max.X-crop.Min.X)*s)), int(math.Round(float64(inter.Max.Y-crop.Min.Y)*s))).
		Intersect(image.Rect(0, 0, w, h))
	out := resample(lv.img, lv.r, o, d.Dx(), d.Dy())
	if d.Size() != image.Pt(w, h) {
		full := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range full.Pix {
			full.Pix[i] = 0xFF
		}
		draw.Draw(full, d, out, image.Point{}, draw.Src)
		out = full
	}
	whiten(out, d, info, s)
	return out
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
