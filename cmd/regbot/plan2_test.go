package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// teaPlan is the second, small test plan: another occupation with its own
// conditions, lists, questions, materials and wording.
var teaPlan = filepath.Join("..", "..", "plans", "testdata", "tea-art-l4.yaml")

// patternJPEG writes a w×h JPEG of stripes every step pixels (different
// steps look different, also to a perceptual hash) and returns its path.
func patternJPEG(t *testing.T, name string, w, h, step int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{40, 60, 90, 255}
			if (x/step+y/(step*2))%2 == 0 {
				c = color.RGBA{230, 220, 200, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecondPlan runs the second plan through plan check and a whole
// scripted conversation: its questions, its list's alias, its conditions
// (the one needing fewer materials chosen), its FAQ and its own wording.
func TestSecondPlan(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(regbotBin, "plan", "check", teaPlan).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tea-art-l4") || !strings.Contains(string(out), "ok") {
		t.Fatalf("plan check of the second plan: %v\n%s", err, out)
	}
	tr := chatPlan(t, teaPlan,
		"报名要多少钱？",
		"是", "某某茶馆有限公司", "泡茶师", "abc", "2019-01", "至今", "否",
		"是",
		"13800138000",
		"/image "+patternJPEG(t, "id.jpg", 900, 600, 37),
		"/image "+patternJPEG(t, "form.jpg", 1000, 1300, 11),
	)
	if len(tr) == 0 || !strings.Contains(tr[0].Text, "茶艺师报名测试") {
		t.Fatalf("the plan's own welcome was not said:\n%s", tr)
	}
	want := []string{"tea_work.more", "tea_work.more", "tea_work.employer", "tea_work.occupation", "tea_work.start", "tea_work.start",
		"tea_work.end", "tea_work.more", "has_tea_cert", "mobile", "id_card_front", "application_form"}
	if got := tr.asks(); !slices.Equal(got, want) {
		t.Fatalf("asks %v, want %v\n%s", got, want, tr)
	}
	el := tr.eligibility(t)
	if el.Condition == nil || *el.Condition != "T1" || !slices.Equal(el.Also, []string{"T2"}) ||
		!slices.Equal(el.Materials, []string{"id_card_front", "application_form"}) {
		t.Fatalf("eligibility %+v, want T1 (fewer materials) with T2 also", el)
	}
	for _, s := range []string{
		"茶艺师报名费以报名网站为准",    // its FAQ
		"已把“泡茶师”记为“茶艺师”",   // its list's alias
		"年月请写成 2020-01 这样", // its wording of a parser's message
		"茶艺工作一共 7 年 11 个月", // its durations
		"可以报名：甲条件",         // its condition labels and wording
		"按甲条件准备这些材料",       // its checklist
		"申报条件选甲条件",         // its registration guide
	} {
		if !tr.contains(s) {
			t.Errorf("the conversation lacks %q:\n%s", s, tr)
		}
	}
	done := false
	for _, l := range tr {
		done = done || l.Event == "status" && l.Status == "materials_ready"
		if strings.Contains(l.Text, "第（") || strings.Contains(l.Text, "互联网营销师") {
			t.Errorf("the default plan leaks into the second one: %q", l.Text)
		}
	}
	if !done {
		t.Errorf("the second plan's materials did not complete:\n%s", tr)
	}
}
