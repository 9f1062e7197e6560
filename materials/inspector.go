package materials

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"regbot/dialogs"
	"regbot/dialogs/answers"
	"regbot/store"
)

// defaultRatioTolerance is used when a material gives a ratio but no
// tolerance: one percent, about two pixels on a 295×413 photo.
const defaultRatioTolerance = 0.01

// kind classifies a problem; the Fixer can mend some kinds.
type kind int

const (
	kindFormat         kind = iota // decodable, but not an accepted format
	kindBytes                      // file size outside the limits
	kindRatio                      // width:height off
	kindOrientation                // pixels stored rotated, shown upright by EXIF
	kindUnreadable                 // not an image, or a damaged one
	kindPixels                     // decompression bomb
	kindResolution                 // too few pixels
	kindBackground                 // not white
	kindExpired                    // the ID card has expired
	kindBackgroundBusy             // not white, and not one plain colour either
	kindBlank                      // a blank or near-uniform picture
)

// fixable reports whether the Fixer can mend a problem of this kind when
// the portrait analysis agrees (Inspect asks it): a coloured wall only when
// it is plain, too few pixels only when the head's crop needs no more than
// maxUpscale.
func (k kind) fixable() bool {
	return k == kindFormat || k == kindBytes || k == kindRatio || k == kindOrientation || k == kindBackground ||
		k == kindResolution // the head's crop enlarged at most maxUpscale times
}

type problem struct {
	kind kind
	text string
}

// Inspector checks uploads against their material's checks. It implements
// dialogs.Inspector and is safe for concurrent use.
type Inspector struct {
	s settings
}

var _ dialogs.Inspector = (*Inspector)(nil)

// NewInspector returns an Inspector that says texts (the plan's texts,
// checked by CheckTexts) with the defaults changed by opts.
func NewInspector(texts Texts, opts ...Option) *Inspector {
	return &Inspector{s: newSettings(texts, opts)}
}

// Inspect checks data, an upload of material m, and reports every problem
// found as a zh-CN sentence. facts.Now defaults to the current time.
func (in *Inspector) Inspect(ctx context.Context, m *dialogs.Material, data []byte, facts dialogs.Facts) dialogs.Inspection {
	r, err := in.inspect(ctx, m, data, facts)
	if err != nil { // waited for the decode budget until ctx ended
		return dialogs.Inspection{Size: int64(len(data)), Problems: []string{in.s.texts.say("check_busy")}}
	}
	insp := dialogs.Inspection{Size: int64(len(data)), Format: r.hd.format}
	insp.Width, insp.Height = r.hd.size()
	// The fix is offered only when the Fixer will succeed: every problem
	// is of a kind it mends, and the portrait analysis (the Fixer's own)
	// found a person it can place on a plain wall.
	fixable := m.Checks.Fixable && len(r.problems) > 0 && r.portrait != nil &&
		r.portrait.verdict(baseStep(m.Checks, r.portrait.a, r.portrait.b)) == whyNone
	for _, p := range r.problems {
		insp.Problems = append(insp.Problems, p.text)
		fixable = fixable && p.kind.fixable()
	}
	insp.Fixable = fixable
	insp.Hash = r.hash
	if m.Checks.Handwritten {
		insp.Reminder = in.s.texts.say("check_handwritten")
	}
	return insp
}

// report is the outcome of inspect; the Fixer reuses the decoded image.
type report struct {
	hd       header
	decoded  bool // whether the pixels were decoded
	hash     store.ImageHash
	problems []problem
	// portrait is the fixer's analysis of a photo it could mend: nil when
	// none was needed.
	portrait *portraitInfo
}

func (r *report) add(k kind, text string) {
	r.problems = append(r.problems, problem{kind: k, text: text})
}

// inspect checks data against m's checks. It fails only when ctx ends
// while the upload waits for its share of the decode budget.
func (in *Inspector) inspect(ctx context.Context, m *dialogs.Material, data []byte, facts dialogs.Facts) (*report, error) {
	c := m.Checks
	t := in.s.texts
	r := &report{}
	if len(data) == 0 {
		r.add(kindUnreadable, t.say("check_empty", "formats", t.acceptedFormats(c)))
		return r, nil
	}
	hd, err := readHeader(data, in.s.maxPixels)
	r.hd = hd
	switch {
	case errors.Is(err, errTooManyPixels):
		r.add(kindPixels, t.say("check_too_many_pixels", "width", itoa(hd.w), "height", itoa(hd.h),
			"max_wan", strconv.FormatInt(in.s.maxPixels/10_000, 10)))
		return r, nil
	case errors.Is(err, errTruncated):
		r.add(kindUnreadable, t.say("check_truncated"))
		return r, nil
	case err != nil:
		r.add(kindUnreadable, t.unreadableText(hd.format, c))
		return r, nil
	}
	w, h := hd.size()
	if len(c.Formats) > 0 && !slices.Contains(c.Formats, hd.format) {
		r.add(kindFormat, t.say("check_format", "formats", t.formatList(c.Formats),
			"got", formatName(hd.format), "save_as", formatName(c.Formats[0])))
	}
	if p, ok := t.bytesProblem(c, int64(len(data))); ok {
		r.problems = append(r.problems, p)
	}
	ra, rb, hasRatio := parseRatio(c.Ratio)
	if p, ok := t.resolutionProblem(c, w, h, hasRatio); ok {
		r.problems = append(r.problems, p)
	}
	if hasRatio && !ratioOK(w, h, ra, rb, c.RatioTolerance) {
		example := ""
		if c.MinWidth > 0 && c.MinHeight > 0 {
			example = t.say("check_ratio_example", "width", itoa(c.MinWidth), "height", itoa(c.MinHeight))
		}
		r.add(kindRatio, t.say("check_ratio", "width", itoa(w), "height", itoa(h),
			"orientation", t.orientationWord(ra, rb), "ratio", itoa(ra)+":"+itoa(rb), "example", example))
	}
	if hasRatio && hd.orientation != 1 {
		r.add(kindOrientation, t.say("check_exif_rotation"))
	}

	release, err := in.s.budget.acquire(ctx, hd)
	if err != nil {
		return nil, err
	}
	in.pixels(r, m, data, ra, rb, hasRatio)
	release()
	if c.CheckIDExpiry {
		if p, ok := t.expiryProblem(facts); ok {
			r.problems = append(r.problems, p)
		}
	}
	return r, nil
}

// pixels decodes data and runs the checks that need its pixels: the
// perceptual hash, a blank page, the white background, and for a photo
// the fixer could mend, the portrait analysis that says whether it can.
func (in *Inspector) pixels(r *report, m *dialogs.Material, data []byte, ra, rb int, hasRatio bool) {
	c, t, hd := m.Checks, in.s.texts, r.hd
	img, err := decode(data, hd.format)
	if err != nil {
		r.add(kindUnreadable, t.say("check_damaged"))
		return
	}
	r.decoded = true
	r.hash = PerceptualHash(img, hd.orientation)
	if !c.Fixable && isBlank(img) {
		r.add(kindBlank, t.say("check_blank", "material", m.Name))
	}
	w, h := hd.size()
	background := -1 // the white share of a background that is not white
	if c.WhiteBackground {
		region := image.Rect(0, 0, w, h)
		if hasRatio {
			region = centreCrop(w, h, ra, rb)
		}
		if share := whiteShare(img, hd.orientation, region, in.s.whiteLevel); share < in.s.whiteShare {
			background = int(share * 100)
		}
	}
	if c.Fixable && hasRatio && (background >= 0 || len(r.problems) > 0) {
		r.portrait = analysePortrait(img, hd.orientation, ra, rb)
	}
	switch {
	case background < 0:
	case r.portrait != nil && r.portrait.problem == whyBusy:
		r.add(kindBackgroundBusy, t.say("check_background_busy", "share", itoa(background)))
	default:
		r.add(kindBackground, t.say("check_background", "share", itoa(background)))
	}
}

func (t Texts) unreadableText(sniffed string, c dialogs.MaterialChecks) string {
	want := t.acceptedFormats(c)
	switch sniffed {
	case "heic", "avif":
		return t.say("check_heic")
	case "pdf":
		return t.say("check_pdf")
	case "gif", "bmp", "tiff":
		return t.say("check_other_format", "format", strings.ToUpper(sniffed), "formats", want)
	case formatJPEG, formatPNG, formatWebP:
		return t.say("check_incomplete")
	}
	return t.say("check_not_image", "formats", want)
}

func (t Texts) bytesProblem(c dialogs.MaterialChecks, n int64) (problem, bool) {
	tooSmall := c.MinBytes > 0 && n < c.MinBytes
	tooBig := c.MaxBytes > 0 && n > c.MaxBytes
	switch {
	case !tooSmall && !tooBig:
		return problem{}, false
	case c.MinBytes > 0 && c.MaxBytes > 0:
		how := t.say("check_bytes_raise")
		if tooBig {
			how = t.say("check_bytes_lower")
		}
		return problem{kindBytes, t.say("check_bytes_window", "size", t.byteSize(n),
			"min", t.byteSize(c.MinBytes), "max", t.byteSize(c.MaxBytes), "how", how)}, true
	case tooBig:
		return problem{kindBytes, t.say("check_bytes_too_big", "size", t.byteSize(n), "max", t.byteSize(c.MaxBytes))}, true
	default:
		return problem{kindBytes, t.say("check_bytes_too_small", "size", t.byteSize(n), "min", t.byteSize(c.MinBytes))}, true
	}
}

// resolutionProblem checks the minimum resolution. With a ratio the
// orientation is given and width and height are checked as such; without
// one (ID cards, forms) either orientation is fine, so the short side is
// compared with the smaller minimum and the long side with the larger.
func (t Texts) resolutionProblem(c dialogs.MaterialChecks, w, h int, strict bool) (problem, bool) {
	if c.MinWidth <= 0 && c.MinHeight <= 0 {
		return problem{}, false
	}
	if strict {
		if w >= c.MinWidth && h >= c.MinHeight {
			return problem{}, false
		}
		return problem{kindResolution, t.say("check_resolution", "width", itoa(w), "height", itoa(h),
			"min_width", itoa(c.MinWidth), "min_height", itoa(c.MinHeight))}, true
	}
	lo, hi := min(c.MinWidth, c.MinHeight), max(c.MinWidth, c.MinHeight)
	if min(w, h) >= lo && max(w, h) >= hi {
		return problem{}, false
	}
	return problem{kindResolution, t.say("check_resolution_any", "width", itoa(w), "height", itoa(h),
		"long", itoa(hi), "short", itoa(lo))}, true
}

func (t Texts) expiryProblem(facts dialogs.Facts) (problem, bool) {
	given := strings.TrimSpace(facts.IDExpiry)
	if given == "" {
		return problem{}, false
	}
	now := facts.Now
	if now.IsZero() {
		now = time.Now()
	}
	// As recorded: "YYYY-MM-DD" or answers.Permanent; read with the
	// answer's own parser, so any form it takes is understood.
	if d, permanent, err := answers.Date(given); err == nil && !permanent {
		exp := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, now.Location())
		// Valid through the expiry date itself.
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if exp.Before(today) {
			return problem{kindExpired, t.say("check_expired", "date", exp.Format("2006-01-02"))}, true
		}
		return problem{}, false
	}
	// The engine validated the date when it was given; an unknown form is
	// not held against the upload.
	return problem{}, false
}

// parseRatio parses "5:7" into its reduced parts.
func parseRatio(s string) (a, b int, ok bool) {
	l, r, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(l))
	b, err2 := strconv.Atoi(strings.TrimSpace(r))
	if err1 != nil || err2 != nil || a <= 0 || b <= 0 {
		return 0, 0, false
	}
	g := gcd(a, b)
	return a / g, b / g, true
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func ratioOK(w, h, a, b int, tol float64) bool {
	if tol <= 0 {
		tol = defaultRatioTolerance
	}
	got := float64(w) / float64(h)
	want := float64(a) / float64(b)
	return math.Abs(got/want-1) <= tol
}

// centreCrop is the largest a:b rectangle centred in a w×h image.
func centreCrop(w, h, a, b int) image.Rectangle {
	cw, ch := w, h
	if w*b > h*a { // too wide
		cw = h * a / b
	} else {
		ch = w * b / a
	}
	x0, y0 := (w-cw)/2, (h-ch)/2
	return image.Rect(x0, y0, x0+cw, y0+ch)
}

func (t Texts) orientationWord(a, b int) string {
	switch {
	case a < b:
		return t.say("check_ratio_portrait")
	case a > b:
		return t.say("check_ratio_landscape")
	}
	return ""
}

func formatName(f string) string {
	switch f {
	case formatJPEG:
		return "JPG"
	case formatPNG:
		return "PNG"
	case formatWebP:
		return "WebP"
	}
	return strings.ToUpper(f)
}

func (t Texts) formatList(fs []string) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = formatName(f)
	}
	return strings.Join(names, t.say("check_formats_or"))
}

// acceptedFormats says what to send: "JPG 格式的图片".
func (t Texts) acceptedFormats(c dialogs.MaterialChecks) string {
	fs := c.Formats
	if len(fs) == 0 {
		fs = []string{formatJPEG, formatPNG}
	}
	return t.say("check_formats", "list", t.formatList(fs))
}

// byteSize formats n for a candidate: "30.4 KB", "40 KB", "20 MB".
func (t Texts) byteSize(n int64) string {
	const kb, mb = 1024, 1024 * 1024
	switch {
	case n >= mb:
		return trimZero(float64(n)/mb) + " MB"
	case n >= kb:
		return trimZero(float64(n)/kb) + " KB"
	}
	return t.say("check_size_bytes", "n", strconv.FormatInt(n, 10))
}

func itoa(n int) string { return strconv.Itoa(n) }

func trimZero(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

// Validate reports every problem of a material's checks at once, for plan
// loading: unknown formats, a ratio that is not "w:h", limits that
// contradict each other.
func Validate(c dialogs.MaterialChecks) error {
	var errs []error
	for _, f := range c.Formats {
		if f != formatJPEG && f != formatPNG && f != formatWebP {
			errs = append(errs, fmt.Errorf("format %q: want jpeg, png or webp", f))
		}
	}
	if c.MinBytes < 0 || c.MaxBytes < 0 || c.MaxBytes > 0 && c.MinBytes > c.MaxBytes {
		errs = append(errs, fmt.Errorf("bytes %d..%d: want 0 ≤ min_bytes ≤ max_bytes", c.MinBytes, c.MaxBytes))
	}
	if c.MinWidth < 0 || c.MinHeight < 0 {
		errs = append(errs, fmt.Errorf("min size %dx%d is negative", c.MinWidth, c.MinHeight))
	}
	_, _, hasRatio := parseRatio(c.Ratio)
	if c.Ratio != "" && !hasRatio {
		errs = append(errs, fmt.Errorf("ratio %q: want width:height such as 5:7", c.Ratio))
	}
	if c.RatioTolerance < 0 || c.RatioTolerance >= 1 {
		errs = append(errs, fmt.Errorf("ratio_tolerance %v: want a fraction in [0, 1)", c.RatioTolerance))
	}
	if c.Fixable && (!hasRatio || c.MaxBytes > 0 && c.MaxBytes < 8*1024 ||
		len(c.Formats) > 0 && !slices.Contains(c.Formats, formatJPEG)) {
		errs = append(errs, errors.New("fixable needs a ratio, jpeg among the formats and a max_bytes of at least 8 KB"))
	}
	return errors.Join(errs...)
}
