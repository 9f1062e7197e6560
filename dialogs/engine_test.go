package dialogs_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store"
)

// conversation drives the engine in-process, as the Router would.
type conversation struct {
	t *testing.T
	e *dialogs.Engine
	s *dialogs.Session
	// last is the result of the last message.
	last dialogs.Result
	// events are every event so far.
	events []dialogs.Event
}

func newConversation(t *testing.T, opts dialogs.Options) *conversation {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return today }
	e, err := dialogs.NewEngine(plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &conversation{t: t, e: e, s: e.NewSession(store.Identity{Channel: "test", UserID: t.Name()})}
}

// planTexts are the default plan's texts, which the photo checks say.
func planTexts(t *testing.T) map[string]string {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	return plan.Texts
}

func (c *conversation) send(in dialogs.Inbound) dialogs.Result {
	c.t.Helper()
	res, err := c.e.Handle(context.Background(), c.s, in)
	if err != nil {
		c.t.Fatalf("handle %+v: %v", in, err)
	}
	// The session must survive a JSON round trip after every turn: that is
	// how Redis and PostgreSQL keep it.
	data, err := c.s.Marshal()
	if err != nil {
		c.t.Fatal(err)
	}
	if c.s, err = c.e.Unmarshal(data); err != nil {
		c.t.Fatal(err)
	}
	c.last = res
	c.events = append(c.events, res.Events...)
	return res
}

func (c *conversation) say(texts ...string) {
	c.t.Helper()
	for _, text := range texts {
		c.send(dialogs.Inbound{Text: text})
	}
}

// asked returns the slot the last message asks for.
func (c *conversation) asked() string {
	for i := len(c.last.Messages) - 1; i >= 0; i-- {
		if a := c.last.Messages[i].Ask; a != nil {
			return a.Slot
		}
	}
	return ""
}

func (c *conversation) lastText() string {
	var parts []string
	for _, m := range c.last.Messages {
		parts = append(parts, m.Text)
	}
	return strings.Join(parts, "\n")
}

func (c *conversation) choices() []dialogs.Choice {
	for i := len(c.last.Messages) - 1; i >= 0; i-- {
		if len(c.last.Messages[i].Choices) > 0 {
			return c.last.Messages[i].Choices
		}
	}
	return nil
}

// toUploads brings a C2 candidate to the first upload.
func (c *conversation) toUploads() {
	c.t.Helper()
	c.say(workC2...)
	c.say("张三", "11010519491231002X", "2035-01-01", "13800138000")
	if got := c.asked(); got != "id_card_front" {
		c.t.Fatalf("asked %q, want id_card_front; said %q", got, c.lastText())
	}
}

var workC2 = []string{"是", "杭州某某电子商务有限公司", "电子商务师", "2020-03", "至今", "否"}

// photoJPEG makes a portrait-like photo: a white background, a dark head
// and shoulders, and some noise so JPEG sizes are realistic.
func photoJPEG(t *testing.T, w, h, quality int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	cx, cy, r := float64(w)/2, float64(h)*0.42, float64(w)*0.22
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			c := color.RGBA{255, 255, 255, 255}
			if dx*dx+dy*dy < r*r || (float64(y) > float64(h)*0.7 && dx*dx < (r*1.8)*(r*1.8)) {
				n := uint8(rng.IntN(40))
				c = color.RGBA{60 + n, 45 + n, 40 + n, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sceneJPEG makes a picture that looks different for every seed (boxes of
// colour at random places on a textured ground), like photos of different
// documents: no two seeds are the same picture, even to a perceptual hash.
func sceneJPEG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, seed*7+3))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(rng.IntN(24))
			img.Set(x, y, color.RGBA{220 + n/2, 215 + n/2, 205 + n/2, 255})
		}
	}
	for range 6 {
		x0, y0 := rng.IntN(w*3/4), rng.IntN(h*3/4)
		bw, bh := w/8+rng.IntN(w/4), h/8+rng.IntN(h/4)
		c := color.RGBA{uint8(rng.IntN(200)), uint8(rng.IntN(200)), uint8(rng.IntN(200)), 255}
		for y := y0; y < min(h, y0+bh); y++ {
			for x := x0; x < min(w, x0+bw); x++ {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUploadsAndPhotoFix(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t)), Fixer: materials.NewFixer(planTexts(t))})
	c.toUploads()

	// Text where a photo is expected: a clear message, same question.
	c.say("我等下发")
	if c.asked() != "id_card_front" {
		t.Fatalf("text at an upload step advanced to %q", c.asked())
	}

	// Garbage bytes named like a JPEG are refused.
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: []byte("not an image at all"), Name: "id.jpg"}})
	if c.asked() != "id_card_front" {
		t.Fatalf("garbage upload advanced to %q", c.asked())
	}

	card := photoJPEG(t, 1200, 760, 85)
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: card}})
	if c.asked() != "id_card_back" {
		t.Fatalf("after a good ID card front: asked %q (%s)", c.asked(), c.lastText())
	}
	// The same file cannot be both sides of the ID card.
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: card}})
	if c.asked() != "id_card_back" || !strings.Contains(c.lastText(), "身份证人像面照片") {
		t.Fatalf("the front's file as the back: asked %q (%s)", c.asked(), c.lastText())
	}
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 1200, 760, 1)}})
	if c.asked() != "photo" {
		t.Fatalf("after the ID card back: asked %q (%s)", c.asked(), c.lastText())
	}

	// A phone photo: too large and 3:4, both fixable.
	phone := photoJPEG(t, 1200, 1600, 92)
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: phone}})
	choices := c.choices()
	if len(choices) == 0 || choices[0].ID != "fix" {
		t.Fatalf("no fix offered for a fixable photo: %s / %v", c.lastText(), choices)
	}
	c.send(dialogs.Inbound{Choice: "fix"})
	var fixed []byte
	for _, m := range c.last.Messages {
		if m.Image != nil {
			fixed = m.Image.Data
		}
	}
	if fixed == nil {
		t.Fatalf("the fixed photo was not sent back: %s", c.lastText())
	}
	if n := len(fixed); n < 40*1024 || n > 80*1024 {
		t.Fatalf("fixed photo is %d bytes, want 40–80 KB", n)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(fixed))
	if err != nil || format != "jpeg" || cfg.Width*7 != cfg.Height*5 {
		t.Fatalf("fixed photo %s %dx%d (%v), want a 5:7 JPEG", format, cfg.Width, cfg.Height, err)
	}
	c.send(dialogs.Inbound{Text: "1"}) // 使用这张
	if c.asked() != "application_form" {
		t.Fatalf("after keeping the fixed photo: asked %q (%s)", c.asked(), c.lastText())
	}

	// A sheet (not photoJPEG's silhouette, which to the perceptual hash is
	// the fixed photo's picture again).
	form := sceneJPEG(t, 1240, 1754, 5)
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: form}})
	// One photo cannot be both the 申报表 and the 工作经历承诺书.
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: form}})
	if c.asked() != "work_commitment" || c.s.Status != store.StatusCollecting {
		t.Fatalf("the 申报表's file as the 承诺书: asked %q, status %q (%s)", c.asked(), c.s.Status, c.lastText())
	}
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: sceneJPEG(t, 1240, 1754, 2)}})
	if c.s.Status != store.StatusMaterialsReady {
		t.Fatalf("status %q after every material, want materials_ready (%s)", c.s.Status, c.lastText())
	}
	var accepted []string
	for _, ev := range c.events {
		if ev.Kind == dialogs.EventMaterial && ev.Document.Accepted {
			accepted = append(accepted, ev.Document.Material)
		}
	}
	slices.Sort(accepted)
	want := []string{"application_form", "id_card_back", "id_card_front", "photo", "work_commitment"}
	if !slices.Equal(slices.Compact(accepted), want) {
		t.Fatalf("accepted %v, want %v", accepted, want)
	}
}

func TestFinalYearStudentGoesToStaff(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("否", "2", "电子商务", "2")
	var esc, el bool
	for _, ev := range c.events {
		switch ev.Kind {
		case dialogs.EventEscalation:
			esc = true
		case dialogs.EventEligibility:
			el = ev.Condition != nil && *ev.Condition == "C4"
		}
	}
	if !el || !esc {
		t.Fatalf("eligible C4 %v, escalated %v; want both (%s)", el, esc, c.lastText())
	}
	c.say("张三", "11010519491231002X", "长期", "13800138000")
	if c.s.Materials["graduation_cert"].Escalated != true {
		t.Fatalf("graduation_cert not left to staff: %+v", c.s.Materials)
	}
}

func TestWrongAnswersNeverAdvance(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("是", "某某有限公司", "电子商务师")
	for _, bad := range []string{"", "明年", "2027-01", "1900-01", "2020-13", strings.Repeat("啊", 5000)} {
		c.say(bad)
		if c.asked() != "work_history.start" {
			t.Fatalf("after %q: asked %q, want work_history.start again", bad, c.asked())
		}
	}
	if c.s.Draft == nil || c.s.Draft.Start != "" {
		t.Fatalf("a wrong answer was stored: %+v", c.s.Draft)
	}
}

func TestEndBeforeStartIsRefused(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("是", "某某有限公司", "电子商务师", "2022-05", "2021-01")
	if c.asked() != "work_history.end" {
		t.Fatalf("asked %q, want work_history.end again", c.asked())
	}
	c.say("2023-04")
	if c.asked() != "work_history.more" || len(c.s.Work) != 1 {
		t.Fatalf("asked %q with %d entries", c.asked(), len(c.s.Work))
	}
}

func TestUnlistedOccupationOffersReview(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("是", "某某会计师事务所", "审计助理")
	ch := c.choices()
	ids := []string{}
	for _, x := range ch {
		ids = append(ids, x.ID)
	}
	if !slices.Contains(ids, "keep") && !slices.Contains(ids, "none") {
		t.Fatalf("an unlisted occupation got no choice to keep it: %v (%s)", ids, c.lastText())
	}
	if slices.Contains(ids, "none") {
		c.send(dialogs.Inbound{Choice: "none"})
	}
	c.send(dialogs.Inbound{Choice: "keep"})
	c.say("2015-01", "至今", "否", "3")
	if len(c.s.Work) != 1 || c.s.Work[0].Related {
		t.Fatalf("work %+v, want one unrelated entry", c.s.Work)
	}
	if !strings.Contains(c.lastText(), "审计助理") {
		t.Fatalf("staff review of the unlisted occupation not offered: %s", c.lastText())
	}
}

// TestUnlistedOccupationReviewButton: 转人工审核 under an unlisted
// occupation opens a review ticket and keeps the answer; it is not the
// 转人工 command (which would hand the conversation over).
func TestUnlistedOccupationReviewButton(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.say("是", "某某会计师事务所", "审计助理")
	if slices.ContainsFunc(c.choices(), func(x dialogs.Choice) bool { return x.ID == "none" }) {
		c.send(dialogs.Inbound{Choice: "none"})
	}
	if !slices.ContainsFunc(c.choices(), func(x dialogs.Choice) bool { return x.ID == "cmd:human" }) {
		t.Fatalf("no 转人工审核 under the unlisted occupation: %+v", c.choices())
	}
	c.events = nil
	c.send(dialogs.Inbound{Choice: "cmd:human"})
	var esc []dialogs.Event
	for _, ev := range c.events {
		if ev.Kind == dialogs.EventEscalation {
			esc = append(esc, ev)
		}
	}
	if len(esc) != 1 || esc[0].Handover || esc[0].Reason != dialogs.TicketReview+":occupations" || esc[0].Text != "审计助理" {
		t.Fatalf("转人工审核 opened %+v; want one review ticket", esc)
	}
	if c.s.Handover != nil || c.asked() != "work_history.start" || !strings.Contains(c.lastText(), esc[0].Code) {
		t.Fatalf("after 转人工审核: handover %+v, asked %q, said %q", c.s.Handover, c.asked(), c.lastText())
	}
}

func TestEditingToAnotherConditionResendsTheChecklist(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{})
	c.toUploads() // C2, checklist sent, first upload asked
	// Work history edited down to 2 years: C2 no longer holds; with training, C3 does.
	c.say("修改", "1", "是", "某某电子商务有限公司", "电子商务师", "2024-01", "至今", "否", "是", "120")
	if c.s.Condition != "C3" {
		t.Fatalf("condition %q after the edit, want C3 (%s)", c.s.Condition, c.lastText())
	}
	if !strings.Contains(c.lastText(), "培训经历承诺书") {
		t.Fatalf("the C3 checklist was not sent: %s", c.lastText())
	}
	if c.asked() != "id_card_front" {
		t.Fatalf("asked %q, want the first C3 upload", c.asked())
	}
}

func TestReuploadSupersedesAMaterial(t *testing.T) {
	t.Parallel()
	c := newConversation(t, dialogs.Options{Inspector: materials.NewInspector(planTexts(t))})
	c.toUploads()
	first := photoJPEG(t, 1200, 760, 85)
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: first}})
	firstRef := c.s.Materials["id_card_front"].Ref
	c.say("修改")
	var pick string
	for i, ch := range c.choices() {
		if ch.ID == "edit:upload:id_card_front" {
			pick = strconv.Itoa(i + 1)
		}
	}
	if pick == "" {
		t.Fatalf("修改 does not offer the uploaded ID card: %v", c.choices())
	}
	c.say(pick)
	if c.asked() != "id_card_front" {
		t.Fatalf("asked %q, want id_card_front again", c.asked())
	}
	c.send(dialogs.Inbound{Image: &dialogs.Image{Data: photoJPEG(t, 1300, 820, 85)}})
	if ref := c.s.Materials["id_card_front"].Ref; ref == "" || ref == firstRef {
		t.Fatalf("the new upload did not replace the old one (ref %q)", ref)
	}
	if c.asked() != "id_card_back" {
		t.Fatalf("after the re-upload: asked %q, want id_card_back", c.asked())
	}
}

func TestAnImageAtAQuestionIsKept(t *testing.T) {
	t.Parallel()
	blobs := dialogs.NewMemoryBlobs()
	c := newConversation(t, dialogs.Options{Blobs: blobs})
	c.say("是")
	img := photoJPEG(t, 300, 400, 80)
	in := dialogs.Inbound{Channel: "test", UserID: "u", Image: &dialogs.Image{Data: img}}
	res := c.send(in)
	if c.asked() != "work_history.employer" {
		t.Fatalf("an image at a text question advanced to %q", c.asked())
	}
	if res.ImageRef == "" {
		t.Fatal("the image was not stored")
	}
	if got, err := blobs.Get(context.Background(), res.ImageRef); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("stored image: %v", err)
	}
	if rec := c.e.TurnRecord(c.s, in, res); !strings.Contains(rec.Inbound, res.ImageRef) {
		t.Fatalf("the record's inbound %q does not name the stored image", rec.Inbound)
	}
}
