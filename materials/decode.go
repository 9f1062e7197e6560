package materials

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// The formats this package decodes, as image.DecodeConfig names them.
const (
	formatJPEG = "jpeg"
	formatPNG  = "png"
	formatWebP = "webp"
)

// Errors of reading an upload's header; the Inspector turns them into
// sentences, the Fixer wraps them.
var (
	// errUnreadable means the bytes are not an image this package decodes.
	errUnreadable = errors.New("not a decodable image")
	// errTooManyPixels means the header claims more pixels than allowed.
	errTooManyPixels = errors.New("image has too many pixels")
	// errTruncated means the file ends before the image does.
	errTruncated = errors.New("image file is truncated")
)

// header is what is known about an upload before its pixels are decoded.
type header struct {
	format string // formatJPEG, formatPNG or formatWebP
	// w and h are the stored (raw) dimensions.
	w, h int
	// orientation is the EXIF orientation, 1 (as stored) to 8.
	orientation int
}

// swapped reports whether the image is shown rotated by 90°, so that its
// displayed width is the stored height.
func (hd header) swapped() bool { return hd.orientation >= 5 }

// size is the displayed width and height.
func (hd header) size() (w, h int) {
	if hd.swapped() {
		return hd.h, hd.w
	}
	return hd.w, hd.h
}

// sniff names the kind of file data is from its first bytes, whatever it is
// called: one of the decodable formats, a known format this package cannot
// use ("gif", "bmp", "tiff", "heic", "avif", "pdf"), or "".
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return formatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP
	case bytes.HasPrefix(data, []byte("GIF8")):
		return "gif"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return "tiff"
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "pdf"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "heic"
		case "avif", "avis":
			return "avif"
		}
	}
	return ""
}

// readHeader reads the format, dimensions and orientation of data without
// decoding its pixels, and refuses more than maxPixels pixels, so that a
// decompression bomb is stopped before any pixel buffer is allocated, and a
// file cut short (errTruncated).
func readHeader(data []byte, maxPixels int64) (header, error) {
	format := sniff(data)
	var (
		cfg image.Config
		err error
	)
	switch format {
	case formatJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case formatPNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case formatWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	default:
		return header{format: format}, errUnreadable
	}
	if err != nil {
		return header{format: format}, fmt.Errorf("%s header: %w: %w", format, errUnreadable, err)
	}
	hd := header{format: format, w: cfg.Width, h: cfg.Height, orientation: 1}
	if hd.w <= 0 || hd.h <= 0 {
		return hd, fmt.Errorf("%s header: %dx%d: %w", format, hd.w, hd.h, errUnreadable)
	}
	// The pixel count, and the decoded size: a 16-bit PNG takes twice the
	// memory of an 8-bit one with the same pixels.
	if px := int64(hd.w) * int64(hd.h); px > maxPixels || px*bytesPerPixel(cfg.ColorModel) > maxPixels*4 {
		return hd, fmt.Errorf("%dx%d: %w", hd.w, hd.h, errTooManyPixels)
	}
	if !complete(format, data) {
		return hd, fmt.Errorf("%s: %w", format, errTruncated)
	}
	if format == formatJPEG {
		hd.orientation, _ = jpegScan(data)
	}
	return hd, nil
}

// bytesPerPixel is about what a decoded pixel of the colour model takes.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // at most, with no chroma subsampling
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// decode decodes the pixels of data, whose header was read by readHeader.
func decode(data []byte, format string) (image.Image, error) {
	var (
		img image.Image
		err error
	)
	switch format {
	case formatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case formatPNG:
		img, err = png.Decode(bytes.NewReader(data))
	case formatWebP:
		img, err = webp.Decode(bytes.NewReader(data))
	default:
		return nil, errUnreadable
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", format, errUnreadable, err)
	}
	return img, nil
}

// jpegScan walks the marker segments of a JPEG up to its first scan and
// returns the EXIF orientation (1–8; 1 when absent or unreadable) and
// whether the file is complete: an end-of-image marker follows the first
// scan. Inside entropy-coded data 0xFF is always followed by 0x00 or a
// restart marker, so FF D9 after the first scan is the end of this image,
// not of an embedded thumbnail; data after it (a motion photo's video) is
// allowed.
func jpegScan(data []byte) (orientation int, complete bool) {
	orientation = 1
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return orientation, false
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF { // stray byte between segments, skipped as libjpeg and image/jpeg do
			i++
			continue
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // no length
			i += 2
			continue
		case marker == 0xD9: // end of image before any scan
			return orientation, false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return orientation, false
		}
		if marker == 0xDA { // start of scan
			return orientation, bytes.Contains(data[i+2+n:], []byte{0xFF, 0xD9})
		}
		if seg := data[i+4 : i+2+n]; marker == 0xE1 && orientation == 1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			orientation = exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return orientation, false
}

// complete reports whether data, an image of the given format whose header
// could be read, has all its bytes: a JPEG's end-of-image marker, a PNG's
// IEND chunk, a WebP's full RIFF length. An upload cut short is refused
// without decoding it.
func complete(format string, data []byte) bool {
	switch format {
	case formatJPEG:
		_, ok := jpegScan(data)
		return ok
	case formatPNG:
		return bytes.Contains(data, []byte("IEND\xaeB`\x82"))
	case formatWebP:
		return len(data) >= 8 && uint64(binary.LittleEndian.Uint32(data[4:8]))+8 <= uint64(len(data))
	}
	return false
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF
// block.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > uint64(len(tiff)) {
		return 1
	}
	n := int(bo.Uint16(tiff[off:]))
	p := int(off) + 2
	for range n {
		if p+12 > len(tiff) {
			return 1
		}
		if bo.Uint16(tiff[p:]) == 0x0112 {
			if bo.Uint16(tiff[p+2:]) != 3 { // SHORT
				return 1
			}
			if v := int(bo.Uint16(tiff[p+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
		p += 12
	}
	return 1
}

// toStored maps a point (x, y) of the displayed image to the stored image
// of size w×h (stored dimensions) under EXIF orientation o.
func toStored(o, w, h, x, y int) (int, int) {
	switch o {
	case 2: // mirrored
		return w - 1 - x, y
	case 3: // rotated 180°
		return w - 1 - x, h - 1 - y
	case 4: // mirrored vertically
		return x, h - 1 - y
	case 5: // transposed
		return y, x
	case 6: // stored rotated 90° counter-clockwise
		return y, h - 1 - x
	case 7: // transversed
		return w - 1 - y, h - 1 - x
	case 8: // stored rotated 90° clockwise
		return w - 1 - y, x
	}
	return x, y
}

// storedRect maps a rectangle of the displayed image to the stored image.
func storedRect(o, w, h int, r image.Rectangle) image.Rectangle {
	x0, y0 := toStored(o, w, h, r.Min.X, r.Min.Y)
	x1, y1 := toStored(o, w, h, r.Max.X-1, r.Max.Y-1)
	return image.Rect(min(x0, x1), min(y0, y1), max(x0, x1)+1, max(y0, y1)+1)
}
