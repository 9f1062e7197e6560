package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// webVisitor is one browser of the web chat of a running serve.
type webVisitor struct {
	t      *testing.T
	base   string
	client *http.Client
	n      int
}

func newWebVisitor(t *testing.T, base string) *webVisitor {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	v := &webVisitor{t: t, base: base, client: &http.Client{Jar: jar}}
	resp, err := v.client.Get(base + "/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return v
}

func (v *webVisitor) csrf() string {
	for _, c := range v.client.Jar.Cookies(mustURL(v.base + "/chat")) {
		if c.Name == "regbot_chat_csrf" {
			return c.Value
		}
	}
	v.t.Fatal("no CSRF cookie")
	return ""
}

// say posts a text and returns the reply's body.
func (v *webVisitor) say(text string) string {
	v.t.Helper()
	v.n++
	body, _ := json.Marshal(map[string]string{"msg_id": "m" + strconv.Itoa(v.n), "text": text})
	req, _ := http.NewRequest(http.MethodPost, v.base+"/chat/api/message", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", v.csrf())
	return v.do(req)
}

// upload posts an image and returns the reply's body.
func (v *webVisitor) upload(name string, data []byte) string {
	v.t.Helper()
	v.n++
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("msg_id", "m"+strconv.Itoa(v.n))
	fw, _ := mw.CreateFormFile("image", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, v.base+"/chat/api/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", v.csrf())
	return v.do(req)
}

func (v *webVisitor) do(req *http.Request) string {
	v.t.Helper()
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		v.t.Errorf("%s: %d %s", req.URL.Path, resp.StatusCode, b)
	}
	return string(b)
}

// toUploads answers the questions of a C2 candidate; the next message asks
// for the ID card's portrait side.
func (v *webVisitor) toUploads() {
	for _, text := range []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否",
		"张三", "11010519491231002X", "长期", "13800138000"} {
		v.say(text)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// vmHWM is the peak resident memory of process pid, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// resetHWM starts the peak over (Linux: 5 in clear_refs), so that a phase
// is measured on its own.
func resetHWM(t *testing.T, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak memory of a process here: %v", err)
	}
}

// memoryServe starts serve on the embedded store with limits out of the
// way of a load test from one address.
func memoryServe(t *testing.T) (base string, pid int) {
	t.Helper()
	addr := freeAddr(t)
	cfg := fmt.Sprintf("http:\n  listen: %s\nblob:\n  dir: %s\n  encryption_key: %s\nweb:\n  rate_per_minute: 100000\nadmin:\n  public_url: http://%s\n  link_secret: memory-test-secret\n  packages_per_minute: 1000\n  link_per_minute: 1000\nlog:\n  format: text\n",
		addr, t.TempDir(), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", addr)
	base, _, cmd := startServe(t, addr, cfg, "/healthz")
	return base, cmd.Process.Pid
}

// 16 candidates send a 40-megapixel blank PNG (155 KB of zeros, 160 MB
// decoded) at once, as their ID card: the decode budget lets one decode at
// a time and collects the released image before the next, so the process
// stays under 400 MB (two images and the rest; without the collection a
// burst held three or four, 490-640 MB), and each is refused as blank.
func TestServeMemoryUnderBlankUploads(t *testing.T) {
	t.Parallel()
	blank := image.NewNRGBA(image.Rect(0, 0, 6324, 6324))
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, blank); err != nil {
		t.Fatal(err)
	}
	blank = nil
	data := buf.Bytes()
	base, pid := memoryServe(t)
	visitors := make([]*webVisitor, 16)
	for i := range visitors {
		visitors[i] = newWebVisitor(t, base)
		visitors[i].toUploads()
	}
	resetHWM(t, pid)
	before := vmHWM(t, pid)
	var wg sync.WaitGroup
	replies := make([]string, len(visitors))
	for i, v := range visitors {
		wg.Go(func() { replies[i] = v.upload("card.png", data) })
	}
	wg.Wait()
	peak := vmHWM(t, pid)
	t.Logf("16 concurrent uploads of a %d KB 6324×6324 blank PNG: peak RSS %d MB (%d MB before)", len(data)>>10, peak>>20, before>>20)
	if peak > 400<<20 {
		t.Errorf("peak RSS %d MB, want under 400 MB", peak>>20)
	}
	for i, r := range replies {
		if !strings.Contains(r, "空白") {
			t.Errorf("upload %d was not refused as blank: %.300s", i, r)
		}
	}
}

// noisyJPEG is a w×h photo of noise: a large file that compresses badly,
// like a phone photo of a textured document.
func noisyJPEG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < len(img.Pix); i += 4 {
		v := uint8(rng.IntN(256))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, uint8(rng.IntN(256)), 255-v, 255
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// 30 downloads at once of a candidate's package of about 17 MB: it is
// streamed, two written at a time, so the process stays under 200 MB.
func TestServeMemoryUnderPackageDownloads(t *testing.T) {
	t.Parallel()
	base, pid := memoryServe(t)
	v := newWebVisitor(t, base)
	v.toUploads()
	front, back := noisyJPEG(t, 3600, 2500, 1), noisyJPEG(t, 3600, 2500, 2)
	for name, data := range map[string][]byte{"front.jpg": front, "back.jpg": back} {
		if r := v.upload(name, data); !strings.Contains(r, "已收到") {
			t.Fatalf("%s not accepted: %.300s", name, r)
		}
	}
	link := regexp.MustCompile(`http://[^"\s]+/materials/[A-Za-z0-9_.\-]+`).FindString(v.say("材料包"))
	if link == "" {
		t.Fatal("材料包 gave no link")
	}
	total := len(front) + len(back)
	resetHWM(t, pid)
	before := vmHWM(t, pid)
	var wg sync.WaitGroup
	sizes := make([]int64, 30)
	for i := range sizes {
		wg.Go(func() {
			resp, err := http.Get(link)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("download %d: %d", i, resp.StatusCode)
			}
			sizes[i], _ = io.Copy(io.Discard, resp.Body)
		})
	}
	wg.Wait()
	peak := vmHWM(t, pid)
	t.Logf("30 concurrent downloads of a %.1f MB package: peak RSS %d MB (%d MB before)", float64(total)/(1<<20), peak>>20, before>>20)
	for i, n := range sizes {
		if n < int64(total) {
			t.Errorf("download %d has %d bytes, want the package (over %d)", i, n, total)
		}
	}
	if peak > 200<<20 {
		t.Errorf("peak RSS %d MB, want under 200 MB", peak>>20)
	}
}
