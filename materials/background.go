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
