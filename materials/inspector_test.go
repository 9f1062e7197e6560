package materials

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
)

// reportOf runs the checks of m on data and fails t if they could not run.
func reportOf(t *testing.T, in *Inspector, m *dialogs.Material, data []byte, facts dialogs.Facts) *report {
	t.Helper()
	r, err := in.inspect(t.Context(), m, data, facts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kinds(r *report) []kind {
	var ks []kind
	for _, p := range r.problems {
		ks = append(ks, p.kind)
	}
	return ks
}

func TestPhotoChecks(t *testing.T) {
	t.Parallel()
	noisy := func(w, h int, bg color.RGBA, noise int) *image.RGBA {
		return portrait(portraitSpec{w: w, h: h, bg: bg, noise: noise, seed: 1})
	}
	for _, tc := range []struct {
		name    string
		data    func(t *testing.T) []byte
		want    []kind
		fixable bool
		says    string // a part of the message
	}{
		{"60 KB 295×413 white JPEG passes", func(t *testing.T) []byte {
			return jpegNear(t, noisy(295, 413, white, 24), 60<<10)
		}, nil, false, ""},
		{"30 KB is too small", func(t *testing.T) []byte {
			return jpegNear(t, noisy(295, 413, white, 24), 30<<10)
		}, []kind{kindBytes}, true, "要求在 40 KB 到 80 KB 之间；请用修图工具提高画质"},
		{"100 KB is too large", func(t *testing.T) []byte {
			return jpegNear(t, noisy(295, 413, white, 48), 100<<10)
		}, []kind{kindBytes}, true, "请压缩（降低画质）"},
		{"PNG is the wrong format", func(t *testing.T) []byte {
			b := encodePNG(t, noisy(295, 413, white, 4))
			if len(b) < 40<<10 || len(b) > 80<<10 {
				t.Fatalf("PNG of %d bytes: want one inside 40–80 KB so that only the format is wrong", len(b))
			}
			return b
		}, []kind{kindFormat}, true, "文件必须是 JPG 格式，您发送的是 PNG 格式"},
		{"4:3 is the wrong ratio", func(t *testing.T) []byte {
			return jpegNear(t, noisy(600, 450, white, 16), 60<<10)
		}, []kind{kindRatio}, true, "要求竖版 宽:高 = 5:7，例如 295×413 像素"},
		{"3:4 portrait is the wrong ratio too", func(t *testing.T) []byte {
			return jpegNear(t, noisy(450, 600, white, 16), 60<<10)
		}, []kind{kindRatio}, true, "当前宽 450 × 高 600 像素"},
		{"grey background", func(t *testing.T) []byte {
			return jpegNear(t, noisy(295, 413, color.RGBA{180, 180, 180, 255}, 24), 60<<10)
		}, []kind{kindBackground}, true, "照片背景不是白色"}, // a plain wall: the fixer replaces it
		{"blue background", func(t *testing.T) []byte {
			return jpegNear(t, noisy(295, 413, color.RGBA{67, 142, 219, 255}, 24), 60<<10)
		}, []kind{kindBackground}, true, "换成白底"},
		{"too few pixels: the fixer enlarges the head's crop", func(t *testing.T) []byte {
			return jpegNear(t, noisy(250, 350, white, 40), 50<<10)
		}, []kind{kindResolution}, true, "至少需要宽 295 × 高 413 像素"},
		{"far too few pixels cannot be fixed", func(t *testing.T) []byte {
			return jpegNear(t, noisy(150, 210, white, 60), 35<<10)
		}, []kind{kindBytes, kindResolution}, false, "至少需要宽 295 × 高 413 像素"},
		{"4:3 PNG of 100 KB: three fixable problems", func(t *testing.T) []byte {
			return encodePNG(t, noisy(600, 450, white, 12))
		}, []kind{kindFormat, kindBytes, kindRatio}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.data(t)
			r := reportOf(t, NewInspector(planTexts()), photoMaterial, data, dialogs.Facts{})
			if got := kinds(r); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v (%v), want kinds %v", got, r.problems, tc.want)
			}
			insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
			if insp.Fixable != tc.fixable {
				t.Errorf("Fixable = %v, want %v (%q)", insp.Fixable, tc.fixable, insp.Problems)
			}
			if insp.Size != int64(len(data)) || insp.Width == 0 || insp.Height == 0 || insp.Format == "" {
				t.Errorf("inspection lacks facts: %+v", insp)
			}
			if tc.says != "" && !strings.Contains(strings.Join(insp.Problems, "\n"), tc.says) {
				t.Errorf("problems %q do not say %q", insp.Problems, tc.says)
			}
			for _, p := range insp.Problems {
				if !strings.HasSuffix(p, "。") || strings.Count(p, "。") != 1 {
					t.Errorf("not one sentence: %q", p)
				}
			}
		})
	}
}

func TestEachProblemHasItsOwnMessage(t *testing.T) {
	t.Parallel()
	in := NewInspector(planTexts())
	img := portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1})
	smallData := jpegNear(t, img, 30<<10)
	bigData := jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 48, seed: 1}), 100<<10)
	small := in.Inspect(context.Background(), photoMaterial, smallData, dialogs.Facts{})
	big := in.Inspect(context.Background(), photoMaterial, bigData, dialogs.Facts{})
	grey := in.Inspect(context.Background(), photoMaterial, jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: color.RGBA{180, 180, 180, 255}, noise: 24}), 60<<10), dialogs.Facts{})
	png := in.Inspect(context.Background(), photoMaterial, encodePNG(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 4})), dialogs.Facts{})
	wide := in.Inspect(context.Background(), photoMaterial, jpegNear(t, portrait(portraitSpec{w: 600, h: 450, bg: white, noise: 16}), 60<<10), dialogs.Facts{})
	seen := map[string]bool{}
	for _, insp := range []dialogs.Inspection{small, big, grey, png, wide} {
		if len(insp.Problems) != 1 {
			t.Fatalf("want one problem, got %q", insp.Problems)
		}
		if seen[insp.Problems[0]] {
			t.Fatalf("message %q is used for two different problems", insp.Problems[0])
		}
		seen[insp.Problems[0]] = true
	}
	if !strings.Contains(small.Problems[0], "文件大小为 "+planTexts().byteSize(int64(len(smallData)))) ||
		!strings.Contains(big.Problems[0], "文件大小为 "+planTexts().byteSize(int64(len(bigData)))) {
		t.Errorf("the size messages do not give the size: %q / %q", small.Problems[0], big.Problems[0])
	}
}

// bombJPEG is a valid small JPEG whose frame header is patched to claim
// 50,000×50,000 pixels (3.75 GB once decoded).
func bombJPEG(t testing.TB) []byte {
	data := bytes.Clone(encodeJPEG(t, portrait(portraitSpec{w: 64, h: 64, bg: white}), 80))
	i := bytes.Index(data, []byte{0xFF, 0xC0}) // SOF0: FF C0, length(2), precision(1), height(2), width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(data[i+5:], 50000)
	binary.BigEndian.PutUint16(data[i+7:], 50000)
	return data
}

// A 16-bit PNG of 25 megapixels is within the pixel limit but would take
// 200 MB decoded: refused from its header too.
func TestDeepPNGRefused(t *testing.T) {
	t.Parallel()
	data := bombPNG()
	binary.BigEndian.PutUint32(data[16:], 5000) // IHDR width
	binary.BigEndian.PutUint32(data[20:], 5000) // height
	data[24] = 16                               // bit depth
	crc := crc32.NewIEEE()
	crc.Write(data[12:29])
	binary.BigEndian.PutUint32(data[29:], crc.Sum32())
	r := reportOf(t, NewInspector(planTexts()), photoMaterial, data, dialogs.Facts{})
	if got := kinds(r); !slices.Equal(got, []kind{kindPixels}) {
		t.Fatalf("a 25 MP 16-bit PNG: %v", r.problems)
	}
	data[24] = 8
	crc.Reset()
	crc.Write(data[12:29])
	binary.BigEndian.PutUint32(data[29:], crc.Sum32())
	r = reportOf(t, NewInspector(planTexts()), photoMaterial, data, dialogs.Facts{})
	if slices.Contains(kinds(r), kindPixels) {
		t.Fatalf("a 25 MP 8-bit PNG was refused as too large: %v", r.problems)
	}
}

// bombPNG is a PNG signature and an IHDR chunk (with a correct CRC) claiming
// 50,000×50,000 RGBA pixels, followed by an empty IDAT and IEND.
func bombPNG() []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(body)
		b.WriteString(typ)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 50000)
	binary.BigEndian.PutUint32(ihdr[4:], 50000)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", nil)
	chunk("IEND", nil)
	return b.Bytes()
}

// Not parallel: it measures allocations, which are counted process-wide.
func TestRefusedWithoutDecoding(t *testing.T) {
	good := jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 60<<10)
	for _, tc := range []struct {
		name string
		data []byte
		kind kind
		says string
	}{
		{"text named photo.jpg", []byte("这不是图片，只是一段文字。\nname=photo.jpg\n"), kindUnreadable, "它不是图片"},
		{"truncated JPEG", good[:len(good)/2], kindUnreadable, "不完整"},
		{"JPEG cut before its scan", good[:600], kindUnreadable, "不完整"},
		{"JPEG claiming 50,000×50,000 px", bombJPEG(t), kindPixels, "50000×50000"},
		{"PNG claiming 50,000×50,000 px", bombPNG(), kindPixels, "4000 万像素"},
		{"HEIC from an iPhone", append([]byte("\x00\x00\x00\x18ftypheic"), make([]byte, 64)...), kindUnreadable, "HEIC"},
		{"PDF", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"), kindUnreadable, "PDF"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), kindUnreadable, "GIF"},
		{"empty", nil, kindUnreadable, "空的"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewInspector(planTexts())
			r := reportOf(t, in, photoMaterial, tc.data, dialogs.Facts{})
			if got := kinds(r); !slices.Equal(got, []kind{tc.kind}) {
				t.Fatalf("problems %v, want one of kind %v", r.problems, tc.kind)
			}
			if !strings.Contains(r.problems[0].text, tc.says) {
				t.Errorf("message %q does not say %q", r.problems[0].text, tc.says)
			}
			if r.decoded {
				t.Fatal("the image was decoded")
			}
			insp := in.Inspect(context.Background(), photoMaterial, tc.data, dialogs.Facts{})
			if insp.Fixable {
				t.Error("an unreadable file is marked fixable")
			}
			// Refused from the header: a few small allocations, never a
			// pixel buffer (even 64×64 RGBA would be 16 KB).
			allocs := testing.AllocsPerRun(20, func() {
				in.Inspect(context.Background(), photoMaterial, tc.data, dialogs.Facts{})
			})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 20
			for range runs {
				in.Inspect(context.Background(), photoMaterial, tc.data, dialogs.Facts{})
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			t.Logf("%.0f allocations, %d bytes per inspection", allocs, perRun)
			if allocs > 40 || perRun > 64<<10 {
				t.Fatalf("refusing took %.0f allocations and %d bytes: the pixels were allocated", allocs, perRun)
			}
		})
	}
}

// A header that passes but pixels that do not decode: the file is damaged.
func TestCorruptScanData(t *testing.T) {
	t.Parallel()
	good := bytes.Clone(jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 60<<10))
	// Replace the Huffman tables' class/id bytes with an undefined table id
	// so that the scan refers to a table that does not exist.
	i := bytes.Index(good, []byte{0xFF, 0xDA})
	good[i+6] = 0x33
	insp := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, good, dialogs.Facts{})
	if len(insp.Problems) != 1 || !strings.Contains(insp.Problems[0], "损坏") || insp.Fixable {
		t.Fatalf("a JPEG with a damaged scan: %q fixable=%v", insp.Problems, insp.Fixable)
	}
}

func TestIDCardChecks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	card := encodeJPEG(t, portrait(portraitSpec{w: 1200, h: 760, bg: white, noise: 8}), 85)
	upright := encodeJPEG(t, portrait(portraitSpec{w: 760, h: 1200, bg: white, noise: 8}), 85)
	small := encodeJPEG(t, portrait(portraitSpec{w: 640, h: 400, bg: white, noise: 8}), 85)
	cardPNG := encodePNG(t, portrait(portraitSpec{w: 1000, h: 640, bg: white}))
	for _, tc := range []struct {
		name   string
		data   []byte
		expiry string
		want   []kind
		says   string
	}{
		{"long-term card", card, "长期", nil, ""},
		{"valid for years", card, "2035-03-01", nil, ""},
		{"expires today: still valid", card, "2026-03-15", nil, ""},
		{"dotted date as printed", card, "2035.03.01", nil, ""},
		{"expired", card, "2020-01-01", []kind{kindExpired}, "有效期至 2020-01-01，已经过期"},
		{"expired yesterday", card, "2026-03-14", []kind{kindExpired}, "已经过期"},
		{"no date given yet", card, "", nil, ""},
		{"photographed upright", upright, "长期", nil, ""},
		{"PNG is accepted", cardPNG, "长期", nil, ""},
		{"too small and expired", small, "2020-01-01", []kind{kindResolution, kindExpired}, "至少需要 800×500 像素（横竖均可）"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reportOf(t, NewInspector(planTexts()), idCardMaterial, tc.data, dialogs.Facts{Now: now, IDExpiry: tc.expiry})
			if got := kinds(r); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want kinds %v", r.problems, tc.want)
			}
			insp := NewInspector(planTexts()).Inspect(context.Background(), idCardMaterial, tc.data, dialogs.Facts{Now: now, IDExpiry: tc.expiry})
			if tc.says != "" && !strings.Contains(strings.Join(insp.Problems, ""), tc.says) {
				t.Errorf("problems %q do not say %q", insp.Problems, tc.says)
			}
			if insp.Fixable {
				t.Error("an ID card problem is marked fixable")
			}
		})
	}
}

func TestWebPDecoded(t *testing.T) {
	t.Parallel()
	// From golang.org/x/image/testdata (BSD licence): a lossy WebP.
	data, err := os.ReadFile("testdata/blue-purple-pink.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	m := &dialogs.Material{Checks: dialogs.MaterialChecks{Formats: []string{"jpeg", "png", "webp"}}}
	insp := NewInspector(planTexts()).Inspect(context.Background(), m, data, dialogs.Facts{})
	if len(insp.Problems) != 0 || insp.Format != "webp" || insp.Width == 0 {
		t.Fatalf("WebP: %+v", insp)
	}
	insp = NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, data, dialogs.Facts{})
	if !strings.Contains(strings.Join(insp.Problems, ""), "您发送的是 WebP 格式") {
		t.Fatalf("WebP as a photo: %q", insp.Problems)
	}
	if insp = NewInspector(planTexts()).Inspect(context.Background(), m, data[:len(data)-100], dialogs.Facts{}); len(insp.Problems) != 1 || !strings.Contains(insp.Problems[0], "不完整") {
		t.Fatalf("truncated WebP: %q", insp.Problems)
	}
}

func TestHandwrittenForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w, h int
		want []kind
	}{
		{"A4 portrait", 1240, 1754, nil},
		{"landscape is fine", 1754, 1240, nil},
		{"too small", 900, 1200, []kind{kindResolution}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := encodeJPEG(t, portrait(portraitSpec{w: tc.w, h: tc.h, bg: white, noise: 4}), 80)
			r := reportOf(t, NewInspector(planTexts()), formMaterial, data, dialogs.Facts{})
			if got := kinds(r); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want kinds %v", r.problems, tc.want)
			}
			insp := NewInspector(planTexts()).Inspect(context.Background(), formMaterial, data, dialogs.Facts{})
			if !strings.Contains(insp.Reminder, "不得涂改") {
				t.Fatalf("no no-corrections reminder: %q", insp.Reminder)
			}
		})
	}
	photo := NewInspector(planTexts()).Inspect(context.Background(), photoMaterial, jpegNear(t, portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1}), 60<<10), dialogs.Facts{})
	if photo.Reminder != "" {
		t.Fatalf("a photo got a reminder: %q", photo.Reminder)
	}
}

// exifJPEG inserts an APP1 EXIF segment with the given orientation right
// after the SOI marker of a JPEG.
func exifJPEG(data []byte, orientation uint16, bigEndian bool) []byte {
	var tiff bytes.Buffer
	var bo binary.ByteOrder = binary.LittleEndian
	tiff.WriteString("II*\x00")
	if bigEndian {
		bo = binary.BigEndian
		tiff.Reset()
		tiff.WriteString("MM\x00*")
	}
	binary.Write(&tiff, bo, uint32(8)) // IFD0 offset
	binary.Write(&tiff, bo, uint16(2)) // entries
	// An unrelated tag first (ImageDescription, ASCII), then Orientation.
	binary.Write(&tiff, bo, []uint16{0x010E, 2})
	binary.Write(&tiff, bo, []uint32{1, 0})
	binary.Write(&tiff, bo, []uint16{0x0112, 3})
	binary.Write(&tiff, bo, uint32(1))
	binary.Write(&tiff, bo, []uint16{orientation, 0})
	binary.Write(&tiff, bo, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(data[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(data[2:])
	return out.Bytes()
}

// rotateCCW turns img 90° counter-clockwise: how a phone held upright
// stores a photo it tags with orientation 6.
func rotateCCW(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetRGBA(y, b.Dx()-1-x, img.RGBAAt(x, y))
		}
	}
	return out
}

func TestEXIFOrientation(t *testing.T) {
	t.Parallel()
	upright := portrait(portraitSpec{w: 295, h: 413, bg: white, noise: 24, seed: 1})
	stored := jpegNear(t, rotateCCW(upright), 60<<10)
	for _, be := range []bool{false, true} {
		data := exifJPEG(stored, 6, be)
		if o, ok := jpegScan(data); o != 6 || !ok {
			t.Fatalf("jpegScan = %d, %v; want 6, true", o, ok)
		}
		r := reportOf(t, NewInspector(planTexts()), photoMaterial, data, dialogs.Facts{})
		w, h := r.hd.size()
		if w != 295 || h != 413 {
			t.Fatalf("displayed size %dx%d, want 295x413", w, h)
		}
		// Shown upright it is a good photo (ratio, background); only the
		// rotation tag is a (fixable) problem.
		if got := kinds(r); !slices.Equal(got, []kind{kindOrientation}) {
			t.Fatalf("problems %v, want only the orientation", r.problems)
		}
	}
	// Without the tag the stored landscape image is the wrong ratio.
	if got := kinds(reportOf(t, NewInspector(planTexts()), photoMaterial, stored, dialogs.Facts{})); !slices.Contains(got, kindRatio) {
		t.Fatalf("a landscape photo without EXIF: %v", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, m := range []*dialogs.Material{photoMaterial, idCardMaterial, formMaterial} {
		if err := Validate(m.Checks); err != nil {
			t.Errorf("%s: %v", m.Key, err)
		}
	}
	err := Validate(dialogs.MaterialChecks{Formats: []string{"jpeg", "heic"}, MinBytes: 10, MaxBytes: 5, Ratio: "5x7", RatioTolerance: 2, Fixable: true})
	for _, want := range []string{`"heic"`, "bytes 10..5", `ratio "5x7"`, "ratio_tolerance", "fixable needs"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %v does not mention %s", err, want)
		}
	}
}

func TestByteSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{500: "500 字节", 40960: "40 KB", 31130: "30.4 KB", 20 << 20: "20 MB", 25_500_000: "24.3 MB"} {
		if got := planTexts().byteSize(n); got != want {
			t.Errorf("planTexts().byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
