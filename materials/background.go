package materials

import (
	"image"
	"image/color"
	"math"
)

// Geometry of the border region a background is measured on, as fractions
// of the region's size. The bottom is left out: that is where the shoulders
// and clothes are in a 1-inch photo; the sides are measured down to
// sideDepth of the height for the same reason.
const (
	borderBand     = 0.06
	sideDepth      = 0.6
	maxBandSamples = 4096 // per band; enough for a share, cheap on 40 MP
	maxTint        = 40   // largest channel spread of a white (not tinted) pixel
)

// whiteShare returns the share of white pixels in the border region (top
// band, upper left and right bands) of region r of the displayed image,
// where img is stored under EXIF orientation o. Transparent pixels count as
// composited on white, as the Fixer draws them.
func whiteShare(img image.Image, o int, r image.Rectangle, level uint8) float64 {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	band := max(1, int(math.Round(borderBand*float64(min(r.Dx(), r.Dy())))))
	side := r.Min.Y + max(band, int(sideDepth*float64(r.Dy())))
	bands := []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+band),
		image.Rect(r.Min.X, r.Min.Y+band, r.Min.X+band, side),
		image.Rect(r.Max.X-band, r.Min.Y+band, r.Max.X, side),
	}
	var white, total int
	for _, bd := range bands {
		bd = bd.Intersect(r)
		if bd.Empty() {
			continue
		}
		step := max(1, int(math.Sqrt(float64(bd.Dx()*bd.Dy())/maxBandSamples)))
		for y := bd.Min.Y; y < bd.Max.Y; y += step {
			for x := bd.Min.X; x < bd.Max.X; x += step {
				sx, sy := toStored(o, sw, sh, x, y)
				rr, gg, bb := rgbOnWhite(img, b.Min.X+sx, b.Min.Y+sy)
				total++
				if min(rr, gg, bb) >= level && max(rr, gg, bb)-min(rr, gg, bb) <= maxTint {
					white++
				}
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(white) / float64(total)
}

// rgbOnWhite returns the 8-bit colour of a pixel composited on white.
func rgbOnWhite(img image.Image, x, y int) (r, g, b uint8) {
	if m, ok := img.(*image.YCbCr); ok { // every JPEG: no interface call per pixel
		yi, ci := m.YOffset(x, y), m.COffset(x, y)
		return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
	}
	r32, g32, b32, a32 := img.At(x, y).RGBA() // alpha-premultiplied, 16 bit
	bg := 0xFFFF - a32
	return uint8((r32 + bg) >> 8), uint8((g32 + bg) >> 8), uint8((b32 + bg) >> 8)
}

// whiten replaces the wall by white in the region d of out, a crop of the
// photo enlarged by s (output pixels per displayed pixel): the analysis's
// background mask, read between its pixels, says where the wall is; along
// its edge each pixel's distance from the wall's colour sets how much white
// it takes, which feathers the outline of hair and shoulders instead of
// cutting it. A white wall is made pure white the same way.
func whiten(out *image.RGBA, d image.Rectangle, info *portraitInfo, s float64) {
	if info.mask == nil || info.bg == [3]uint8{255, 255, 255} {
		return
	}
	tol := float64(info.tol)
	at := func(x, y int) float32 {
		x, y = min(max(x, 0), info.tw-1), min(max(y, 0), info.th-1)
		return info.mask[y*info.tw+x]
	}
	for y := d.Min.Y; y < d.Max.Y; y++ {
		// The output pixel's centre in displayed pixels, then in the
		// thumbnail's (whose pixel centres are at +0.5).
		ty := ((float64(y)+0.5)/s+float64(info.crop.Min.Y))*info.scale - 0.5
		y0 := int(math.Floor(ty))
		fy := float32(ty - float64(y0))
		row := out.Pix[out.PixOffset(0, y):]
		for x := d.Min.X; x < d.Max.X; x++ {
			tx := ((float64(x)+0.5)/s+float64(info.crop.Min.X))*info.scale - 0.5
			x0 := int(math.Floor(tx))
			fx := float32(tx - float64(x0))
			m := (at(x0, y0)*(1-fx)+at(x0+1, y0)*fx)*(1-fy) + (at(x0, y0+1)*(1-fx)+at(x0+1, y0+1)*fx)*fy
			if m <= 0.02 {
				continue
			}
			p := row[4*x:][:4]
			a := float64(1)
			if m < 0.98 { // the edge: as white as the pixel is like the wall
				dd := float64(dist(p[:3], info.bg[:]))
				a = min(1, max(0, (2*tol-dd)/(1.5*tol)))
			}
			for c := range 3 {
				p[c] = uint8(math.Round(a*255 + (1-a)*float64(p[c])))
			}
		}
	}
}

// Blank pictures: blankSamples points are read on a grid; a picture where
// fewer than blankShare of them differ from the median luma by more than
// blankLevel has nothing on it (a white sheet, a lens cap, an all-zero
// PNG). The ink of a sparsely written form covers several percent.
const (
	blankSamples = 256 * 256
	blankLevel   = 24
	blankShare   = 0.002
)

// isBlank reports whether img is blank or near-uniform.
func isBlank(img image.Image) bool {
	b := img.Bounds()
	step := max(1, int(math.Sqrt(float64(b.Dx())*float64(b.Dy())/blankSamples)))
	var hist [256]int
	var lumas []uint8
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			r, g, bl := rgbOnWhite(img, x, y)
			l := uint8((77*int(r) + 150*int(g) + 29*int(bl)) >> 8)
			hist[l]++
			lumas = append(lumas, l)
		}
	}
	median, seen := 0, 0
	for v, n := range hist {
		if seen += n; 2*seen >= len(lumas) {
			median = v
			break
		}
	}
	off := 0
	for _, l := range lumas {
		if absInt(int(l)-median) > blankLevel {
			off++
		}
	}
	return float64(off) < blankShare*float64(len(lumas))
}
