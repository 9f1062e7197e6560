package web

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"regbot/bot/bottest"
)

// TestBrowserConversation is a whole web conversation in Chromium against
// the real stack of `regbot serve` on the embedded stores: bot.Router,
// dialogs.Engine with the embedded plan, materials' inspector and photo
// fixer, store/memory. The visitor clicks and types through eligibility,
// gives personal data (with HTML in one answer), uploads both ID card
// sides and a photo, has the photo fixed and sees it inline, then reloads.
func TestBrowserConversation(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	router := bottest.New(t).Router
	chat, err := New(Config{CookieSecret: testSecret}, router, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	br := newBrowser(t)
	br.open(srv.URL + "/chat")
	br.waitJS(`document.querySelectorAll('#log .choices button:not(:disabled)').length === 2`)
	if log := br.log(); !strings.Contains(log[0], "报名助手") {
		t.Fatalf("no welcome: %q", log)
	}

	// Eligibility: one period of related work since 2020 → C2.
	br.click("是")
	br.say("杭州某某电子商务有限公司")
	br.say("电子商务师")
	br.say("2020-03")
	br.say("至今")
	br.click("否")
	if !strings.Contains(strings.Join(br.log(), "\n"), "您符合报考条件第（二）条") {
		t.Fatalf("no C2:\n%s", strings.Join(br.log(), "\n"))
	}

	// HTML typed as a name is a wrong answer, shown as text, never run.
	const evil = `<script>alert(1)</script>`
	br.say(evil)
	if log := br.log(); lastLine(log, "user|") != "user|"+evil || !strings.Contains(strings.Join(log, "\n"), "姓名请填写") {
		t.Errorf("HTML as a name:\n%s", strings.Join(log, "\n"))
	}
	if n := eval[int](br, `document.querySelectorAll('#log script').length`); n != 0 {
		t.Errorf("%d script elements in the conversation", n)
	}

	br.say("张三")
	br.say("11010519491231002X")
	br.say("2035-01-01")
	if got := eval[string](br, `document.querySelector('#text').inputMode`); got != "tel" {
		t.Errorf("mobile question: input mode %q", got)
	}
	br.say("13800138000")
	// The checklist's template link, safe to open.
	if rel := eval[string](br, `document.querySelector('#log a.link').rel`); rel != "noopener noreferrer" {
		t.Errorf("link rel %q", rel)
	}
	if ask := eval[string](br, `document.querySelector('#chat').dataset.ask`); ask != "image" {
		t.Fatalf("want an image question, got %q:\n%s", ask, strings.Join(br.log(), "\n"))
	}

	// Both ID card sides, then a photo the bot offers to fix.
	br.upload(writeFile(t, "id-front.jpg", testJPEG(t, 1280, 800)))
	br.upload(writeFile(t, "id-back.jpg", checkerJPEG(t, 1280, 800)))
	if ask := eval[string](br, `document.querySelector('#chat').dataset.ask`); ask != "image" {
		t.Fatalf("after the ID card: ask %q:\n%s", ask, strings.Join(br.log(), "\n"))
	}
	br.upload(writeFile(t, "me.jpg", testPortrait(t, 600, 800)))
	br.click("帮我调整")
	br.waitJS(`Array.from(document.querySelectorAll('#log .msg.bot img.image')).some(i => i.complete && i.naturalWidth > 0)`)
	dims := eval[[]int](br, `(() => { const i = Array.from(document.querySelectorAll('#log .msg.bot img.image')).pop(); return [i.naturalWidth, i.naturalHeight]; })()`)
	if len(dims) != 2 || dims[0]*413 != dims[1]*295 && abs(dims[0]*413-dims[1]*295) > 413*3 {
		t.Errorf("fixed photo shown as %v, want the 295×413 ratio", dims)
	}
	t.Logf("conversation:\n%s", strings.Join(br.log(), "\n"))
	br.screenshot("web-chat-conversation.png")

	// A reload shows the same conversation, the fixed photo included.
	before := br.log()
	br.reload()
	br.waitJS(`Array.from(document.querySelectorAll('#log .msg.bot img.image')).some(i => i.complete && i.naturalWidth > 0)`)
	if after := br.log(); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("after reload:\n%s\nbefore:\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	br.screenshot("web-chat-conversation-reloaded.png")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// testPortrait is a w×h JPEG of a figure on a white background: a photo
// with the right background but the wrong ratio and file size, which the
// fixer can mend.
func testPortrait(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := w/2, h/2
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			dx, dy := float64(x-cx)/float64(w/4), float64(y-cy)/float64(h/3)
			if dx*dx+dy*dy < 1 {
				c = color.RGBA{uint8(80 + x%50), 60, uint8(40 + y%70), 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
