package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"regbot/bot/bottest"
)

// clickMenu presses one of the page's fixed menu buttons.
func (b *browser) clickMenu(label string) {
	b.t.Helper()
	b.idle()
	sel := `Array.from(document.querySelectorAll('#menu button')).find(b => b.textContent === ` + jsString(label) + `)`
	b.waitJS(sel + ` && !` + sel + `.disabled`)
	b.do(chromedp.Evaluate[chromedp.Void](sel + `.click()`))
	b.idle()
}

// TestBrowserMenuDownloadsAndFolding checks the page's own parts against a
// scripted handler: the fixed menu, numbered choices, a long message folded
// and unfolded, the package link as a download button, and a file named
// .jpg that is not a picture (no broken thumbnail).
func TestBrowserMenuDownloadsAndFolding(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	br := newBrowser(t)
	br.open(b.server.URL + "/chat")
	br.waitJS(`document.querySelectorAll('#log .choices button').length === 2`)

	// The menu is always there: 进度, 帮助, 转人工, each a command.
	if got := eval[string](br, `Array.from(document.querySelectorAll('#menu button')).map(b => b.textContent).join(',')`); got != "进度,帮助,转人工" {
		t.Fatalf("menu %q", got)
	}
	br.clickMenu("进度")
	in := b.handler.inbounds()
	if last := in[len(in)-1]; last.Choice != "cmd:progress" {
		t.Errorf("the menu sent %+v, want the progress command", last)
	}
	if got := lastLine(br.log(), "user|"); got != "user|进度" {
		t.Errorf("the visitor's bubble says %q, want the menu's label", got)
	}

	// Choices are numbered as the bot reads typed numbers; the number is
	// drawn, so a button's text stays its label.
	nums := eval[string](br, `Array.from(document.querySelectorAll('#log li:last-child .choices button')).map(b => getComputedStyle(b, '::before').content + b.textContent).join(',')`)
	if nums != `"1"是,"2"否` {
		t.Errorf("numbered choices %q", nums)
	}

	// A long message shows its first lines and unfolds on request.
	br.say("long")
	if got := eval[string](br, `document.querySelector('#log li:last-child .text').textContent`); strings.Contains(got, "第 20 行") || !strings.Contains(got, "第 6 行") {
		t.Errorf("folded message shows %q", got)
	}
	br.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#log li:last-child .unfold').click()`))
	if got := eval[string](br, `document.querySelector('#log li:last-child .text').textContent`); !strings.Contains(got, "第 20 行") {
		t.Errorf("unfolded message shows %q", got)
	}
	br.screenshot("web-chat-menu-folded.png")

	// The package is a download button, not a page opened in a new tab.
	br.say("package")
	got := eval[string](br, `(() => { const a = document.querySelector('#log li:last-child a.link'); return a.className + '|' + a.hasAttribute('download') + '|' + a.target + '|' + a.textContent; })()`)
	if got != "link download|true||材料包下载" {
		t.Errorf("package link %q", got)
	}

	// A text file named .jpg: refused, and no broken thumbnail is left.
	br.upload(writeFile(t, "fake.jpg", []byte("这不是一张图片，只是改了扩展名")))
	br.waitJS(`document.querySelector('#log > li:last-child').textContent === ` + jsString(planText("web_not_image")))
	br.waitJS(`!document.querySelector('#log li.failed img')`)
	if n := eval[int](br, `Array.from(document.querySelectorAll('#log img')).filter(i => i.complete && i.naturalWidth === 0).length`); n != 0 {
		t.Errorf("%d broken images in the page", n)
	}
	if got := lastLine(br.log(), "failed|"); got != "failed|[图片] fake.jpg" {
		t.Errorf("the refused upload shows %q", got)
	}
	br.screenshot("web-chat-fake-jpg.png")
}

// TestBrowserPhotoDownloadAndHuman runs the real stack: the fixed photo
// comes with a button that saves it, a broken JPEG gets no broken
// thumbnail, and the menu's 转人工 opens a ticket.
func TestBrowserPhotoDownloadAndHuman(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	chat, err := New(Config{CookieSecret: testSecret}, bottest.New(t).Router, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	chat.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	br := newBrowser(t)
	br.open(srv.URL + "/chat")
	br.click("是")
	for _, s := range []string{"杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今"} {
		br.say(s)
	}
	br.click("否")
	// The checklist is long: folded, with the button to unfold it.
	if n := eval[int](br, `document.querySelectorAll('#log .fold .unfold').length`); n == 0 {
		t.Errorf("the checklist is not folded:\n%s", strings.Join(br.log(), "\n"))
	}
	for _, s := range []string{"张三", "11010519491231002X", "2035-01-01", "13800138000"} {
		br.say(s)
	}
	br.upload(writeFile(t, "id-front.jpg", testJPEG(t, 1280, 800)))
	br.upload(writeFile(t, "id-back.jpg", checkerJPEG(t, 1280, 800)))

	// A file that starts like a JPEG but is not one: the bot says what is
	// wrong and the page shows no broken thumbnail.
	fake := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte(strings.Repeat("garbage", 200))...)
	br.upload(writeFile(t, "broken.jpg", fake))
	br.waitJS(`!Array.from(document.querySelectorAll('#log .msg.user img')).some(i => i.complete && i.naturalWidth === 0)`)
	if got := lastLine(br.log(), "user|"); got != "user|[图片] broken.jpg" {
		t.Errorf("the broken upload shows %q", got)
	}

	br.upload(writeFile(t, "me.jpg", testPortrait(t, 600, 800)))
	br.click("帮我调整")
	br.waitJS(`Array.from(document.querySelectorAll('#log .msg.bot img.image')).some(i => i.complete && i.naturalWidth > 0)`)
	// The fixed photo has a button that saves it under its file name.
	got := eval[string](br, `(async () => {
		const a = Array.from(document.querySelectorAll('#log .msg.bot a.download')).pop();
		const r = await fetch(a.href, {credentials: 'same-origin'});
		const b = new Uint8Array(await r.arrayBuffer());
		return a.getAttribute('download') + '|' + a.textContent + '|' + r.status + '|' + r.headers.get('Content-Type') + '|' + (b[0] === 0xFF && b[1] === 0xD8);
	})()`)
	if got != "一寸照片.jpg|保存到手机|200|image/jpeg|true" {
		t.Errorf("download button of the fixed photo: %q", got)
	}
	br.screenshot("web-chat-photo-download.png")

	// 转人工 from the menu, wherever the conversation is.
	br.clickMenu("转人工")
	if log := strings.Join(br.log(), "\n"); !strings.Contains(log, "user|转人工") || !strings.Contains(log, "工单号") {
		t.Errorf("转人工 from the menu:\n%s", log)
	}
	br.screenshot("web-chat-human.png")
}
