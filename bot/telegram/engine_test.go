package telegram

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"sync/atomic"
	"testing"

	"regbot/bot/bottest"
	"regbot/dialogs"
	"regbot/store"
	"regbot/store/memory"
)

// countingHandler counts finished turns, so a test knows when an update has
// been handled in polling mode too.
type countingHandler struct {
	h Handler
	n atomic.Int64
}

func (c *countingHandler) Handle(ctx context.Context, in dialogs.Inbound) (dialogs.Result, error) {
	defer c.n.Add(1)
	return c.h.Handle(ctx, in)
}

// engineBundle is the adapter in front of the real Router, engine and
// embedded plan, on the memory store.
type engineBundle struct {
	*testBundle
	mem     *memory.Store
	plan    *dialogs.Plan
	counter *countingHandler
	nextID  int64
	turns   int64
}

func setupEngine(t *testing.T, mode string) *engineBundle {
	t.Helper()
	st := bottest.New(t)
	plan, mem, router := st.Plan, st.Mem, st.Router
	counter := &countingHandler{h: router}
	return &engineBundle{testBundle: setup(t, mode, &setupOpts{handler: counter, sizeMatters: SizeMattersIn(plan)}), mem: mem, plan: plan, counter: counter}
}

// step delivers one update and waits until its turn is handled and every
// reply is sent; it returns the messages sent for it.
func (e *engineBundle) step(update map[string]any) []apiCall {
	e.t.Helper()
	before := len(e.api.sent())
	e.turns++
	e.deliver(update)
	e.api.waitFor(fmt.Sprintf("turn %d", e.turns), func() bool {
		return e.counter.n.Load() >= e.turns && e.a.queue.len() == 0
	})
	return e.api.sent()[before:]
}

func (e *engineBundle) say(text string) []apiCall {
	e.nextID++
	return e.step(textUpdate(e.nextID, testChat, text))
}

// press presses the button labelled label (after its number) on the last
// message that has it.
func (e *engineBundle) press(label string) []apiCall {
	e.t.Helper()
	sent := e.api.sent()
	for i := len(sent) - 1; i >= 0; i-- {
		kb := keyboardOf(e.t, sent[i])
		for _, row := range kb.InlineKeyboard {
			for _, btn := range row {
				if btn.CallbackData != "" && strings.HasSuffix(btn.Text, ". "+label) || btn.Text == label {
					e.nextID++
					return e.step(callbackUpdate(e.nextID, testChat, btn.CallbackData, sent[i].MessageID, textOf(sent[i]), kb.InlineKeyboard))
				}
			}
		}
	}
	e.t.Fatalf("no button %q in\n%s", label, transcript(sent))
	return nil
}

func (e *engineBundle) upload(name string, data []byte) []apiCall {
	e.nextID++
	id := fmt.Sprintf("doc-%d", e.nextID)
	e.api.addFile(id, "documents/"+id+".jpg", data, 0)
	return e.step(message(e.nextID, testChat, map[string]any{"document": map[string]any{
		"file_id": id, "file_unique_id": "u" + id, "file_name": name, "mime_type": "image/jpeg", "file_size": len(data),
	}}))
}

func transcript(calls []apiCall) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "[%s] %s %s\n", c.Method, textOf(c), c.Fields["reply_markup"])
	}
	return b.String()
}

// TestEligibilityConversation runs a whole eligibility conversation from
// /start to the first upload through the Telegram adapter, the Router, the
// engine and the embedded plan, pressing buttons where the bot offers them.
func TestEligibilityConversation(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, mode string) {
		e := setupEngine(t, mode)
		id := store.Identity{Channel: "telegram", UserID: "42"}

		got := e.say("/start")
		if len(got) == 0 || len(keyboardOf(t, got[len(got)-1]).InlineKeyboard) == 0 {
			t.Fatalf("no question with buttons after /start:\n%s", transcript(got))
		}
		// Buttons carry the numbers the question's hint tells the candidate
		// to type: typing one is pressing its button.
		kb := keyboardOf(t, got[len(got)-1])
		if b := kb.InlineKeyboard[0]; len(b) != 2 || b[0].Text != "1. 是" || b[1].Text != "2. 否" {
			t.Fatalf("buttons %+v, want numbered 是/否", kb)
		}
		e.press("是")
		for _, text := range []string{"杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今"} {
			e.say(text)
		}
		if got = e.say("2"); len(got) == 0 {
			t.Fatal("no answer to the last work history question")
		}
		edits := e.api.callsOf("editMessageText")
		if len(edits) == 0 || !strings.HasSuffix(edits[len(edits)-1].Fields["text"], "✅ 是") {
			t.Errorf("the pressed button is not marked with its label: %+v", edits)
		}
		app, err := e.mem.Application(context.Background(), id, e.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if app.Condition != "C2" {
			t.Fatalf("condition %q, want C2; the bot said:\n%s", app.Condition, transcript(e.api.sent()))
		}
		if len(app.WorkHistory) != 1 || app.WorkHistory[0].Employer != "杭州某某电子商务有限公司" {
			t.Errorf("work history = %+v", app.WorkHistory)
		}
		for _, text := range []string{"张三", "11010519491231002X", "2035-01-01"} {
			e.say(text)
		}
		// A shared contact card answers the mobile question.
		e.nextID++
		got = e.step(message(e.nextID, testChat, map[string]any{"contact": map[string]any{
			"phone_number": "+86 138 0013 8000", "first_name": "张三", "user_id": testChat,
		}}))
		if last := textOf(got[len(got)-1]); !strings.Contains(last, "身份证人像面") || strings.Contains(last, "「文件」") {
			t.Errorf("want the ID card question, without the send-as-file hint (no size rule):\n%s", transcript(got))
		}
		app, _ = e.mem.Application(context.Background(), id, e.plan.ID)
		if app.Answers["mobile"] != "13800138000" {
			t.Errorf("mobile = %v, want 13800138000", app.Answers["mobile"])
		}

		got = e.upload("身份证正面.jpg", testJPEG(t, 1000, 630))
		docs, err := e.mem.Documents(context.Background(), id, e.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 1 || docs[0].Material != "id_card_front" || docs[0].Size == 0 {
			t.Fatalf("documents = %+v; the bot said:\n%s", docs, transcript(got))
		}
		got = e.upload("身份证反面.jpg", checkerJPEG(t, 1000, 630))
		// The 40–80 KB photo is next: the question says to send a file.
		if last := textOf(got[len(got)-1]); !strings.Contains(last, "一寸") || !strings.Contains(last, planText("telegram_hint_size")) {
			t.Errorf("want the photo question with the size hint:\n%s", transcript(got))
		}

		// /status answers with the progress and asks the pending question again.
		if got := e.say("/status"); len(got) == 0 {
			t.Error("no answer to /status")
		}
		// Nothing the engine said was refused by the fake Bot API.
		for _, c := range e.api.sent() {
			if strings.Contains(c.Fields["reply_markup"], "copy_text") {
				t.Errorf("copy_text in %s", c.Fields["reply_markup"])
			}
		}
	})
}

// checkerJPEG is a w×h JPEG of a checkerboard: a picture unlike testJPEG's,
// for a second material (the same picture is refused for two).
func checkerJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{30, 40, 60, 255}
			if (x/97+y/61)%2 == 0 {
				c = color.RGBA{235, 225, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testJPEG is a w×h JPEG with some texture.
func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), uint8((x ^ y) * 3), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
