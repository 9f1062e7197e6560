package materials

import (
	"image"
	"math"
	"slices"
)

// The 1-inch photo's composition (docs/materials.md says where the numbers
// come from). GA 461-2004, the standard 1-inch photo guides cite, puts the
// head at about two thirds of the photo ("头部占照片尺寸的2/3") with the
// crown 7–21 px below the top of a 441 px photo; the Chinese passport photo
// rule asks for a head (crown to chin) of 28–33 mm on a 48 mm photo, 58–69 %.
// The fixer aims at the middle of that and its tests accept
// headShareMin..headShareMax.
const (
	headShare    = 0.64 // head height (crown to chin) / photo height
	headShareMin = 0.58
	headShareMax = 0.72
	crownMargin  = 0.06 // space above the crown / photo height
	// maxUpscale is how far a crop may be enlarged to reach the reference
	// size; beyond it the photo would be visibly soft.
	maxUpscale = 2.0
)

// headRatio is a head's height (crown to chin) over its width, hair
// included: about 23 cm over 17 cm for adults.
const headRatio = 1.35

// neckToChin is how far below the neck's top (where the outline stops
// narrowing) the chin is, as a share of the head's height.
const neckToChin = 0.06

// The analysis works on a thumbnail of at most analysisSide pixels a side,
// each pixel the mean of a 2×2 block of samples (less sensor noise).
const analysisSide = 512

// Thresholds of the background analysis, as the largest difference of any
// RGB channel (0–255).
const (
	// bgTolMin..bgTolMax bound the tolerance of "background colour": the
	// border's own spread (a wall is never perfectly even) widens it.
	bgTolMin = 26
	bgTolMax = 44
	// bgStep is the largest step between neighbouring background pixels:
	// a lit wall changes slowly, the edge of a face or of hair does not.
	bgStep = 14
	// plainShare is the share of the border that must match the wall's
	// colour for the background to count as plain (replaceable).
	plainShare = 0.85
)

// why says why a portrait cannot be fixed; the Fixer maps it to a text.
type why int

const (
	whyNone         why = iota // it can be fixed
	whyBusy                    // the background is not one plain colour
	whyNoPerson                // no head and shoulders found
	whyHeadCut                 // the head touches the top edge, or no room around it
	whyTooFewPixels            // the crop would need more enlargement than maxUpscale
)

// portraitInfo is what the analysis found, in displayed full-size pixels.
type portraitInfo struct {
	w, h    int      // displayed size
	bg      [3]uint8 // the wall's colour
	tol     int      // colour tolerance of the wall
	white   bool     // the wall is already white
	crown   int      // first row of the head
	chin    int      // estimated chin row
	cx      float64  // the head's horizontal centre
	crop    image.Rectangle
	scale   float64   // thumbnail pixels per displayed pixel
	mask    []float32 // thumbnail: 1 = background
	tw, th  int       // thumbnail size
	problem why
	a, b    int // the ratio the crop has
}

// verdict says whether the Fixer can make the photo at the reference size
// k0·a × k0·b from what the analysis found.
func (p *portraitInfo) verdict(k0 int) why {
	switch {
	case p.problem != whyNone:
		return p.problem
	case float64(p.crop.Dy())*maxUpscale < float64(k0*p.b):
		return whyTooFewPixels
	}
	return whyNone
}

// thumb is an RGB thumbnail of the displayed image.
type thumb struct {
	w, h int
	pix  []uint8 // RGB
}

func (t *thumb) at(x, y int) []uint8 { return t.pix[3*(y*t.w+x):][:3] }

// makeThumb samples img (stored under orientation o) into a thumbnail of at
// most analysisSide a side, each pixel the mean of 2×2 samples.
func makeThumb(img image.Image, o int) (*thumb, float64) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if o >= 5 {
		dw, dh = sh, sw
	}
	scale := min(1, float64(analysisSide)/float64(max(dw, dh)))
	tw, th := max(1, int(float64(dw)*scale)), max(1, int(float64(dh)*scale))
	t := &thumb{w: tw, h: th, pix: make([]uint8, 3*tw*th)}
	fx, fy := float64(dw)/float64(tw), float64(dh)/float64(th)
	for y := range th {
		for x := range tw {
			var s [3]int
			for _, d := range [4][2]float64{{.25, .25}, {.75, .25}, {.25, .75}, {.75, .75}} {
				px := min(dw-1, int((float64(x)+d[0])*fx))
				py := min(dh-1, int((float64(y)+d[1])*fy))
				sx, sy := toStored(o, sw, sh, px, py)
				r, g, bl := rgbOnWhite(img, b.Min.X+sx, b.Min.Y+sy)
				s[0] += int(r)
				s[1] += int(g)
				s[2] += int(bl)
			}
			p := t.at(x, y)
			p[0], p[1], p[2] = uint8(s[0]/4), uint8(s[1]/4), uint8(s[2]/4)
		}
	}
	return t, scale
}

func dist(a, b []uint8) int {
	return max(absInt(int(a[0])-int(b[0])), absInt(int(a[1])-int(b[1])), absInt(int(a[2])-int(b[2])))
}

func absInt(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// analysePortrait finds the wall, the person and the crop of a 1-inch photo
// of ratio a:b in img, displayed under orientation o. The crop may reach
// past the image's edges at the top and the sides, where the white
// background is continued.
func analysePortrait(img image.Image, o, a, b int) *portraitInfo {
	t, scale := makeThumb(img, o)
	bb := img.Bounds()
	info := &portraitInfo{w: bb.Dx(), h: bb.Dy(), scale: scale, tw: t.w, th: t.h, a: a, b: b}
	if o >= 5 {
		info.w, info.h = info.h, info.w
	}

	// The wall: the median colour of the border (top band, upper sides),
	// and how evenly the border matches it.
	band := max(1, t.h/25)
	var border [][]uint8
	for y := range t.h * 6 / 10 {
		for x := range t.w {
			if y < band || x < band || x >= t.w-band {
				border = append(border, t.at(x, y))
			}
		}
	}
	for c := range 3 {
		vals := make([]int, len(border))
		for i, p := range border {
			vals[i] = int(p[c])
		}
		slices.Sort(vals)
		info.bg[c] = uint8(vals[len(vals)/2])
	}
	dists := make([]int, len(border))
	for i, p := range border {
		dists[i] = dist(p, info.bg[:])
	}
	slices.Sort(dists)
	spread := dists[len(dists)*3/4]
	info.tol = min(bgTolMax, max(bgTolMin, 2*spread+12))
	matching := 0
	for _, d := range dists {
		if d <= info.tol {
			matching++
		}
	}
	info.white = min(info.bg[0], info.bg[1], info.bg[2]) >= 235 &&
		max(info.bg[0], info.bg[1], info.bg[2])-min(info.bg[0], info.bg[1], info.bg[2]) <= 12
	if float64(matching) < plainShare*float64(len(dists)) {
		info.problem = whyBusy
		if headAtTop(t, info, band) {
			info.problem = whyHeadCut
		}
		return info
	}

	// The background: flooded from every edge pixel of the wall's colour,
	// through neighbours close to the wall and to each other.
	bgMask := make([]bool, t.w*t.h)
	var queue []int
	seed := func(x, y int) {
		i := y*t.w + x
		if !bgMask[i] && dist(t.at(x, y), info.bg[:]) <= info.tol {
			bgMask[i] = true
			queue = append(queue, i)
		}
	}
	// A noisy photo (JPEG, sensor noise) has larger steps in the wall.
	step := max(bgStep, 2*spread)
	for x := range t.w {
		seed(x, 0)
		seed(x, t.h-1)
	}
	for y := range t.h {
		seed(0, y)
		seed(t.w-1, y)
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		x, y := i%t.w, i/t.w
		p := t.at(x, y)
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			nx, ny := x+d[0], y+d[1]
			if nx < 0 || ny < 0 || nx >= t.w || ny >= t.h {
				continue
			}
			j := ny*t.w + nx
			q := t.at(nx, ny)
			if !bgMask[j] && dist(q, info.bg[:]) <= info.tol && dist(q, p) <= step {
				bgMask[j] = true
				queue = append(queue, j)
			}
		}
	}
	// What the flood did not reach of the upper border is clutter (a door
	// frame, a picture) unless it is the person's head.
	reached := 0
	for y := range t.h * 6 / 10 {
		for x := range t.w {
			if (y < band || x < band || x >= t.w-band) && bgMask[y*t.w+x] {
				reached++
			}
		}
	}
	if float64(reached) < plainShare*float64(len(border)) {
		info.problem = whyBusy
		return info
	}
	dropSpeckles(bgMask, t.w, t.h)
	info.mask = make([]float32, len(bgMask))
	for i, v := range bgMask {
		if v {
			info.mask[i] = 1
		}
	}

	// The person: the foreground's width on each row.
	widths := make([]int, t.h)
	centres := make([]float64, t.h)
	fg := 0
	for y := range t.h {
		lo, hi, n := t.w, -1, 0
		for x := range t.w {
			if !bgMask[y*t.w+x] {
				n++
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		fg += n
		widths[y] = n
		if n > 0 {
			centres[y] = float64(lo+hi+1) / 2
		}
	}
	minRow := max(2, t.w/50)
	crown := -1
	for y, n := range widths {
		if n >= minRow {
			crown = y
			break
		}
	}
	if fg < t.w*t.h*3/100 || crown < 0 || crown > t.h*6/10 {
		info.problem = whyNoPerson
		return info
	}
	if crown == 0 {
		info.problem = whyHeadCut
		return info
	}
	// Going down from the crown the head widens, then the jaw narrows to
	// the neck (the narrowest row), then the shoulders widen past the head.
	headW, chin, neck := 0, -1, 0
	narrowing := false
	for y := crown; y < t.h && (headW == 0 || y-crown <= 5*headW/2); y++ {
		w := widths[y]
		if !narrowing {
			if w >= headW {
				headW = w
			} else if w < headW*9/10 {
				narrowing, chin, neck = true, y, w
			}
			continue
		}
		if w > headW*13/10 { // the shoulders
			break
		}
		if w < neck-max(1, neck/20) { // the first row that narrow: the chin
			chin, neck = y, w
		}
	}
	if headW < t.w/20 {
		info.problem = whyNoPerson
		return info
	}
	// Heads (crown to chin, hair included) are about 1.35 times as high as
	// wide. The neck's top is a little above the chin, which hides it: the
	// estimate is the mean of both, or the width's alone when no neck
	// shows (a high collar, long hair).
	head := headRatio * float64(headW)
	if neckH := float64(chin-crown) + neckToChin*head; chin >= 0 && neckH >= 0.7*head && neckH <= 1.3*head {
		head = (head + neckH) / 2
	}
	var cx float64
	rows := 0
	for y := crown; y < crown+int(head) && y < t.h; y++ {
		if widths[y] > 0 {
			cx += centres[y]
			rows++
		}
	}
	cx /= float64(max(rows, 1))

	// Back to full-size pixels, and the crop.
	inv := 1 / scale
	info.crown = int(float64(crown) * inv)
	info.chin = int((float64(crown) + head) * inv)
	info.cx = cx * inv
	headPx := float64(info.chin - info.crown)
	ch := headPx / headShare
	top := float64(info.crown) - crownMargin*ch
	if bottom := top + ch; bottom > float64(info.h) {
		// Not enough below the chin: make the head a larger share of the
		// photo, as far as the range allows, and lift the crop.
		ch = max(headPx/headShareMax, float64(info.h)-float64(info.crown)+crownMargin/2*headPx/headShareMax)
		top = float64(info.h) - ch
		if headPx/ch > headShareMax || float64(info.crown)-top < 0.02*ch {
			info.problem = whyHeadCut
			return info
		}
	}
	cw := ch * float64(a) / float64(b)
	left := info.cx - cw/2
	info.crop = image.Rect(int(math.Round(left)), int(math.Round(top)), int(math.Round(left+cw)), int(math.Round(top+ch)))
	return info
}

// dropSpeckles turns into background the small islands the flood left in
// it (noise, a JPEG's ringing): foreground parts, 4-connected, of less than
// half a percent of the picture.
func dropSpeckles(bg []bool, w, h int) {
	seen := make([]bool, len(bg))
	var part, stack []int
	for start := range bg {
		if bg[start] || seen[start] {
			continue
		}
		part, stack = part[:0], append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			part = append(part, i)
			x := i % w
			for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
				if j < 0 || j >= len(bg) || (j == i-1 && x == 0) || (j == i+1 && x == w-1) || bg[j] || seen[j] {
					continue
				}
				seen[j] = true
				stack = append(stack, j)
			}
		}
		if len(part)*200 < w*h {
			for _, i := range part {
				bg[i] = true
			}
		}
	}
}

// headAtTop reports whether a border that is not all wall is a plain wall
// with the person reaching past the top edge: the upper side bands are
// wall, and the top row is wall but for one run in its middle.
func headAtTop(t *thumb, info *portraitInfo, band int) bool {
	sides, wall := 0, 0
	for y := band; y < t.h*6/10; y++ {
		for _, x := range [2]int{band / 2, t.w - 1 - band/2} {
			sides++
			if dist(t.at(x, y), info.bg[:]) <= info.tol {
				wall++
			}
		}
	}
	if float64(wall) < plainShare*float64(sides) {
		return false
	}
	runs, in := 0, false
	for x := range t.w {
		other := dist(t.at(x, 0), info.bg[:]) > info.tol
		if other && !in {
			runs++
		}
		in = other
	}
	return runs == 1
}
