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
	"regbot/store"
)

// defaultRatioTolerance is used when a material gives a ratio but no
// tolerance: one percent, about two pixels on a 295×413 photo.
const defaultRatioTolerance = 0.01

// kind classifies a problem; the Fixer can mend some kinds.
type kind int

const (
	kindFormat      kind = iota // decodable, but not an accepted format
	kindBytes                   // file size outside the limits
	kindRatio                   // width:height off
	kindOrientation             // pixels stored rotated, shown upright by EXIF
	kindUnreadable              // not an image, or a damaged one
	kindPixels                  // decompression bomb
	kindResolution              // too few pixels
	kindBackground              // not white
	kindExpired                 // the ID card has expired
)

func (k kind) fixable() bool {
	return k == kindFormat || k == kindBytes || k == kindRatio || k == kindOrientation
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

// NewInspector returns an Inspector with the defaults changed by opts.
func NewInspector(opts ...Option) *Inspector {
	return &Inspector{s: newSettings(opts)}
}

// Inspect checks data, an upload of material m, and reports every problem
// found as a zh-CN sentence. facts.Now defaults to the current time.
func (in *Inspector) Inspect(ctx context.Context, m *dialogs.Material, data []byte, facts dialogs.Facts) dialogs.Inspection {
	if err := in.s.slots.acquire(ctx); err != nil {
		return dialogs.Inspection{Size: int64(len(data)), Problems: []string{"系统繁忙，这张图片还没来得及检查，请稍后再发送一次。"}}
	}
	r := in.inspect(m.Checks, data, facts)
	in.s.slots.release()
	insp := dialogs.Inspection{Size: int64(len(data)), Format: r.hd.format}
	insp.Width, insp.Height = r.hd.size()
	fixable := m.Checks.Fixable && len(r.problems) > 0
	for _, p := range r.problems {
		insp.Problems = append(insp.Problems, p.text)
		fixable = fixable && p.kind.fixable()
	}
	insp.Fixable = fixable
	insp.Hash = r.hash
	if m.Checks.Handwritten {
		insp.Reminder = "提醒：手写内容不得涂改，写错请重新打印后填写，再整页拍照上传（四角完整、字迹清晰）。"
	}
	return insp
}

// report is the outcome of inspect; the Fixer reuses the decoded image.
type report struct {
	hd       header
	img      image.Image // nil when the pixels were not decoded
	hash     store.ImageHash
	problems []problem
}

func (r *report) add(k kind, format string, args ...any) {
	r.problems = append(r.problems, problem{kind: k, text: fmt.Sprintf(format, args...)})
}

func (in *Inspector) inspect(c dialogs.MaterialChecks, data []byte, facts dialogs.Facts) *report {
	r := &report{}
	if len(data) == 0 {
		r.add(kindUnreadable, "收到的文件是空的，请重新发送%s。", acceptedFormats(c))
		return r
	}
	hd, err := readHeader(data, in.s.maxPixels)
	r.hd = hd
	switch {
	case errors.Is(err, errTooManyPixels):
		r.add(kindPixels, "图片像素过大（%d×%d），无法处理；请发送不超过 %d 万像素的照片（手机正常拍摄的照片即可）。",
			hd.w, hd.h, in.s.maxPixels/10_000)
		return r
	case errors.Is(err, errTruncated):
		r.add(kindUnreadable, "图片文件不完整（可能没有传完），请重新发送原图。")
		return r
	case err != nil:
		r.add(kindUnreadable, "%s", unreadableText(hd.format, c))
		return r
	}
	w, h := hd.size()
	if len(c.Formats) > 0 && !slices.Contains(c.Formats, hd.format) {
		r.add(kindFormat, "文件必须是 %s 格式，你发送的是 %s 格式；请另存为 %s 后再发送。",
			formatList(c.Formats), formatName(hd.format), formatName(c.Formats[0]))
	}
	if p, ok := bytesProblem(c, int64(len(data))); ok {
		r.problems = append(r.problems, p)
	}
	ra, rb, hasRatio := parseRatio(c.Ratio)
	if p, ok := resolutionProblem(c, w, h, hasRatio); ok {
		r.problems = append(r.problems, p)
	}
	if hasRatio && !ratioOK(w, h, ra, rb, c.RatioTolerance) {
		example := ""
		if c.MinWidth > 0 && c.MinHeight > 0 {
			example = fmt.Sprintf("，例如 %d×%d 像素", c.MinWidth, c.MinHeight)
		}
		r.add(kindRatio, "图片比例不对：当前宽 %d × 高 %d 像素，要求%s宽:高 = %d:%d%s；请裁剪后再发送。",
			w, h, orientationWord(ra, rb), ra, rb, example)
	}
	if hasRatio && hd.orientation != 1 {
		r.add(kindOrientation, "照片带有手机的旋转标记（EXIF 方向），有的网站会把它显示成横向；请用修图工具重新导出后再发送。")
	}

	img, err := decode(data, hd.format)
	if err != nil {
		r.add(kindUnreadable, "图片文件已损坏，无法打开；请重新发送原图。")
	} else {
		r.img = img
		r.hash = PerceptualHash(img, hd.orientation)
		if c.WhiteBackground {
			region := image.Rect(0, 0, w, h)
			if hasRatio {
				region = centreCrop(w, h, ra, rb)
			}
			if share := whiteShare(img, hd.orientation, region, in.s.whiteLevel); share < in.s.whiteShare {
				r.add(kindBackground, "照片背景不是白色（边缘只有 %d%% 接近白色）；请在白墙前重新拍摄，或用证件照工具换成白底后再发送。",
					int(share*100))
			}
		}
	}
	if c.CheckIDExpiry {
		if p, ok := expiryProblem(facts); ok {
			r.problems = append(r.problems, p)
		}
	}
	return r
}

func unreadableText(sniffed string, c dialogs.MaterialChecks) string {
	want := acceptedFormats(c)
	switch sniffed {
	case "heic", "avif":
		return "这是苹果手机的 HEIC 格式照片，无法识别；请转成 JPG 后再发送（可在“设置 > 相机 > 格式”中选择“兼容性最佳”后重拍）。"
	case "pdf":
		return "这是 PDF 文件，不是图片；请拍照或截图保存为 JPG 图片后再发送。"
	case "gif", "bmp", "tiff":
		return fmt.Sprintf("这是 %s 格式的图片，无法使用；请发送%s。", strings.ToUpper(sniffed), want)
	case formatJPEG, formatPNG, formatWebP:
		return "图片文件不完整或已损坏（可能没有传完），请重新发送原图。"
	}
	return fmt.Sprintf("无法识别这个文件，它不是图片；请直接发送%s（不要发送文档或压缩包）。", want)
}

func bytesProblem(c dialogs.MaterialChecks, n int64) (problem, bool) {
	tooSmall := c.MinBytes > 0 && n < c.MinBytes
	tooBig := c.MaxBytes > 0 && n > c.MaxBytes
	switch {
	case !tooSmall && !tooBig:
		return problem{}, false
	case c.MinBytes > 0 && c.MaxBytes > 0:
		how := "请用修图工具提高画质重新导出后再发送"
		if tooBig {
			how = "请压缩（降低画质）后再发送"
		}
		return problem{kindBytes, fmt.Sprintf("文件大小为 %s，要求在 %s 到 %s 之间；%s。",
			byteSize(n), byteSize(c.MinBytes), byteSize(c.MaxBytes), how)}, true
	case tooBig:
		return problem{kindBytes, fmt.Sprintf("文件太大（%s），不能超过 %s；请压缩后再发送。", byteSize(n), byteSize(c.MaxBytes))}, true
	default:
		return problem{kindBytes, fmt.Sprintf("文件太小（%s），至少需要 %s；请发送原图或更清晰的照片。", byteSize(n), byteSize(c.MinBytes))}, true
	}
}

// resolutionProblem checks the minimum resolution. With a ratio the
// orientation is given and width and height are checked as such; without
// one (ID cards, forms) either orientation is fine, so the short side is
// compared with the smaller minimum and the long side with the larger.
func resolutionProblem(c dialogs.MaterialChecks, w, h int, strict bool) (problem, bool) {
	if c.MinWidth <= 0 && c.MinHeight <= 0 {
		return problem{}, false
	}
	if strict {
		if w >= c.MinWidth && h >= c.MinHeight {
			return problem{}, false
		}
		return problem{kindResolution, fmt.Sprintf("图片分辨率太低（宽 %d × 高 %d 像素），至少需要宽 %d × 高 %d 像素；请用原图或更清晰的照片重新发送。",
			w, h, c.MinWidth, c.MinHeight)}, true
	}
	lo, hi := min(c.MinWidth, c.MinHeight), max(c.MinWidth, c.MinHeight)
	if min(w, h) >= lo && max(w, h) >= hi {
		return problem{}, false
	}
	return problem{kindResolution, fmt.Sprintf("图片分辨率太低（%d×%d 像素），至少需要 %d×%d 像素（横竖均可）；请靠近一些拍清楚，或发送原图。",
		w, h, hi, lo)}, true
}

func expiryProblem(facts dialogs.Facts) (problem, bool) {
	given := strings.TrimSpace(facts.IDExpiry)
	if given == "" || given == "长期" {
		return problem{}, false
	}
	now := facts.Now
	if now.IsZero() {
		now = time.Now()
	}
	for _, layout := range []string{"2006-01-02", "2006.01.02", "2006/01/02", "20060102", "2006年1月2日"} {
		exp, err := time.ParseInLocation(layout, given, now.Location())
		if err != nil {
			continue
		}
		// Valid through the expiry date itself.
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if exp.Before(today) {
			return problem{kindExpired, fmt.Sprintf("你填写的身份证有效期至 %s，已经过期；请先换领新身份证，再上传新证件的照片。",
				exp.Format("2006-01-02"))}, true
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

func orientationWord(a, b int) string {
	switch {
	case a < b:
		return "竖版 "
	case a > b:
		return "横版 "
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

func formatList(fs []string) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = formatName(f)
	}
	return strings.Join(names, " 或 ")
}

// acceptedFormats says what to send: "JPG 格式的图片".
func acceptedFormats(c dialogs.MaterialChecks) string {
	if len(c.Formats) == 0 {
		return "JPG 或 PNG 格式的图片"
	}
	return formatList(c.Formats) + " 格式的图片"
}

// byteSize formats n for a candidate: "30.4 KB", "40 KB", "20 MB".
func byteSize(n int64) string {
	const kb, mb = 1024, 1024 * 1024
	switch {
	case n >= mb:
		return trimZero(float64(n)/mb) + " MB"
	case n >= kb:
		return trimZero(float64(n)/kb) + " KB"
	}
	return strconv.FormatInt(n, 10) + " 字节"
}

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
