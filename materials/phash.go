package materials

import (
	"encoding/hex"
	"image"

	"regbot/store"
)

// The difference hash is taken on a hashSide×hashSide grey thumbnail: each
// bit says whether a cell is darker than its right-hand neighbour (256
// bits), then whether it is darker than the one below it (256 more), so
// that both columns and rows of a document's text count. hashSamples²
// points per cell are read from an image of an unusual layout (paletted,
// 16-bit), every pixel from the others.
const (
	hashSide    = 17
	hashSamples = 12
	// hashDeadZone is how much darker (in 1/256 grey levels) a cell must be
	// than its neighbour for its bit to be set: half a grey level. Cells of a
	// plain area (blank paper, a wall) differ by a fraction of a level, and
	// re-encoding the picture moves their means about as much, so without
	// it their bits flip at random (a re-sent photo of a form measured
	// 60–70 bits from the original); with it they are steadily 0.
	hashDeadZone = 128
)

// PerceptualHash returns the difference hash (dHash) of img as displayed
// under EXIF orientation o (1 when img is already upright): 512 bits from
// a 17×17 grey thumbnail of box-filtered cells. The hash follows the
// picture, not its bytes: a copy re-encoded at another quality, resized or
// recompressed by a chat app hashes within store.NearBits of the original.
func PerceptualHash(img image.Image, o int) store.ImageHash {
	const n = hashSide
	g := greyThumb(img, o, n, n)
	var sum [64]byte
	bit := 0
	set := func(on bool) {
		if on {
			sum[bit/8] |= 1 << (7 - bit%8)
		}
		bit++
	}
	for y := range n - 1 {
		for x := range n - 1 {
			set(g[y*n+x]+hashDeadZone < g[y*n+x+1])
		}
	}
	for y := range n - 1 {
		for x := range n - 1 {
			set(g[y*n+x]+hashDeadZone < g[(y+1)*n+x])
		}
	}
	return store.ImageHash(hex.EncodeToString(sum[:]))
}

// greyThumb is a w×h thumbnail of img as displayed under orientation o, in
// luma: each cell the mean of every pixel it covers (a box filter, so that
// a resized copy gives the same means) for the layouts every decoder here
// returns, of a grid of samples for other layouts.
func greyThumb(img image.Image, o, w, h int) []int {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	// Cells in stored coordinates: the stored image is divided as the
	// displayed one is, then each cell is moved to its displayed place.
	cw, ch := w, h
	if o >= 5 {
		cw, ch = h, w
	}
	sums := make([]int, cw*ch)
	counts := make([]int, cw*ch)
	// The cell of each stored column, so that the loops below only add.
	xcell := make([]int, sw)
	for x := range xcell {
		xcell[x] = x * cw / sw
	}
	full := true
	for y := range sh {
		row := (y * ch / sh) * cw
		switch m := img.(type) {
		case *image.YCbCr: // every JPEG: luma is stored as is
			for x, v := range m.Y[m.YOffset(b.Min.X, b.Min.Y+y):][:sw] {
				sums[row+xcell[x]] += int(v) << 8
			}
		case *image.Gray:
			for x, v := range m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:sw] {
				sums[row+xcell[x]] += int(v) << 8
			}
		case *image.RGBA: // premultiplied: transparency counts as white
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*sw]
			for x := range sw {
				a := 255 - int(p[4*x+3])
				sums[row+xcell[x]] += 77*(int(p[4*x])+a) + 150*(int(p[4*x+1])+a) + 29*(int(p[4*x+2])+a)
			}
		case *image.NRGBA:
			p := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*sw]
			for x := range sw {
				a := int(p[4*x+3])
				l := 77*int(p[4*x]) + 150*int(p[4*x+1]) + 29*int(p[4*x+2])
				sums[row+xcell[x]] += (l*a + 256*255*(255-a)) / 255
			}
		default:
			full = false
		}
		if !full {
			break
		}
		for x := range sw {
			counts[row+xcell[x]]++
		}
	}
	if !full {
		clear(sums)
		clear(counts)
		for cy := range ch {
			y0, y1 := cy*sh/ch, max((cy+1)*sh/ch, cy*sh/ch+1)
			for cx := range cw {
				x0, x1 := cx*sw/cw, max((cx+1)*sw/cw, cx*sw/cw+1)
				nx, ny := min(hashSamples, x1-x0), min(hashSamples, y1-y0)
				i := cy*cw + cx
				for j := range ny {
					for k := range nx {
						r, g, bl := rgbOnWhite(img, b.Min.X+x0+(2*k+1)*(x1-x0)/(2*nx), b.Min.Y+y0+(2*j+1)*(y1-y0)/(2*ny))
						sums[i] += 77*int(r) + 150*int(g) + 29*int(bl)
						counts[i]++
					}
				}
			}
		}
	}
	out := make([]int, w*h)
	for y := range h {
		for x := range w {
			// The displayed cell (x, y) is the stored cell its centre maps to.
			sx, sy := toStored(o, cw, ch, x, y)
			out[y*w+x] = sums[sy*cw+sx] / max(counts[sy*cw+sx], 1)
		}
	}
	return out
}
