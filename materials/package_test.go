package materials_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"

	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store"
	"regbot/store/blob"
)

func TestWritePackageRoundTripsOriginalBytes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	e, err := dialogs.NewEngine(plan, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	blobs, err := blob.NewDir(t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	photo := []byte("\xff\xd8\xff\xe0 pretend JPEG bytes of the 1-inch photo")
	var card bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 8, 5))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	png.Encode(&card, img)
	photoRef, err := blobs.Put(ctx, photo, true)
	if err != nil {
		t.Fatal(err)
	}
	cardRef, err := blobs.Put(ctx, card.Bytes(), true)
	if err != nil {
		t.Fatal(err)
	}

	s := e.NewSession(store.Identity{Channel: "test", UserID: "u1"})
	s.Decided, s.Condition = true, "C2"
	s.Answers["name"] = "张三"
	s.Answers["id_number"] = "11010519491231002X"
	s.Work = []store.WorkEntry{{Employer: "杭州某某电子商务有限公司", Occupation: "电子商务师", Related: true, Start: "2020-03", End: "至今"}}
	s.Materials = map[string]dialogs.MaterialState{"photo": {Ref: photoRef}, "id_card_front": {Ref: cardRef}}

	var buf bytes.Buffer
	if err := materials.WritePackage(ctx, &buf, e, s, blobs, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if !bytes.Equal(got["一寸照片.jpg"], photo) {
		t.Errorf("一寸照片.jpg is not the original bytes (names: %v)", keys(got))
	}
	if !bytes.Equal(got["身份证人像面.png"], card.Bytes()) {
		t.Errorf("the PNG ID card is not 身份证人像面.png with the original bytes (names: %v)", keys(got))
	}
	summary, ok := got["报名信息.txt"] // the plan's texts.package_summary_file
	if !ok {
		t.Errorf("no 报名信息.txt in the package (names: %v)", keys(got))
	}
	for _, want := range []string{"互联网营销师（四级/中级工） 报名信息", "张三", "11010519491231002X", "C2", "杭州某某电子商务有限公司", "2020-03 至 至今", "尚未上传"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if len(got) != 3 {
		t.Errorf("package has %v, want the summary and two materials", keys(got))
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
