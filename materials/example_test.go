package materials_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
)

// An ID card photographed too far away, by a candidate whose card has
// expired: both problems are said at once, each with what to do.
func ExampleInspector() {
	img := image.NewGray(image.Rect(0, 0, 640, 400))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 251)
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, nil)

	card := &dialogs.Material{Key: "id_card_back", Checks: dialogs.MaterialChecks{
		Formats: []string{"jpeg", "png", "webp"}, MinWidth: 800, MinHeight: 500, MaxBytes: 20 << 20, CheckIDExpiry: true,
	}}
	plan, err := plans.Default() // its texts are what the checks say
	if err != nil {
		fmt.Println(err)
		return
	}
	facts := dialogs.Facts{Now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), IDExpiry: "2025-12-31"}
	insp := materials.NewInspector(plan.Texts).Inspect(context.Background(), card, buf.Bytes(), facts)
	for _, p := range insp.Problems {
		fmt.Println(p)
	}
	// Output:
	// 图片分辨率太低（640×400 像素），至少需要 800×500 像素（横竖均可）；请靠近一些拍清楚，或发送原图。
	// 您填写的身份证有效期至 2025-12-31，已经过期；请先换领新身份证，再上传新证件的照片。
}

// The Fixer turns a phone photo into a 1-inch photo the same checks accept.
func ExampleFixer() {
	img := image.NewRGBA(image.Rect(0, 0, 1200, 1600))
	for y := range 1600 {
		for x := range 1200 {
			c := color.RGBA{250, 250, 250, 255}
			if dx, dy := x-600, y-700; dx*dx+dy*dy < 300*300 || y > 1200 && dx*dx < 450*450 {
				c = color.RGBA{uint8(60 + (x*y)%90), uint8(50 + (x+y)%70), 40, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92})

	photo := &dialogs.Material{Key: "photo", Checks: dialogs.MaterialChecks{
		Formats: []string{"jpeg"}, MinBytes: 40960, MaxBytes: 81920, Ratio: "5:7", RatioTolerance: 0.03,
		MinWidth: 295, MinHeight: 413, WhiteBackground: true, Fixable: true,
	}}
	plan, err := plans.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	in := materials.NewInspector(plan.Texts)
	fmt.Println("fixable:", in.Inspect(ctx, photo, buf.Bytes(), dialogs.Facts{}).Fixable)
	fixed, err := materials.NewFixer(plan.Texts).Fix(ctx, photo, buf.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("problems after the fix:", len(in.Inspect(ctx, photo, fixed, dialogs.Facts{}).Problems))
	// Output:
	// fixable: true
	// problems after the fix: 0
}
