package admin_test

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"regbot/admin"
	"regbot/dialogs"
	"regbot/store"
)

func mustInt(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFindACandidateByMobile(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	b.candidate("m1", "张三", "13800000001")
	b.candidate("m2", "李四", "13900000002")
	c := b.signedIn("zhao", store.RoleStaff)
	_, _, body := c.get("/admin/candidates?q=13900000002")
	if !strings.Contains(body, "李四") || strings.Contains(body, "张三") || !strings.Contains(body, "共 1 条") {
		t.Fatalf("search by mobile:\n%s", body)
	}
	// Masked in the list, in full on the page.
	if strings.Contains(body, "13900000002\n") || !strings.Contains(body, "139****0002") || !strings.Contains(body, "110105********002X") {
		t.Fatalf("the list does not mask the mobile and ID number")
	}
	_, _, body = c.get("/admin/candidates?q=" + url.QueryEscape("张"))
	if !strings.Contains(body, "张三") || strings.Contains(body, "李四") {
		t.Fatal("search by name")
	}
	id := regexp.MustCompile(`href="/admin/candidates/(\d+)"`).FindStringSubmatch(body)[1]
	_, _, page := c.get("/admin/candidates/" + id)
	if !strings.Contains(page, "13800000001") || !strings.Contains(page, "11010519491231002X") || !strings.Contains(page, "C2") {
		t.Fatal("the candidate page does not show the full mobile, ID number and condition")
	}
	if !b.audited("candidate.view", "zhao") {
		t.Error("viewing a candidate is not in the audit log")
	}
	status, _, csv := c.get("/admin/candidates.csv?q=" + url.QueryEscape("张"))
	if status != http.StatusOK || !strings.HasPrefix(csv, "\uFEFF编号,姓名") || !strings.Contains(csv, "138****0001") || strings.Contains(csv, "13800000001") {
		t.Fatalf("CSV export: %d\n%s", status, csv)
	}
}

func TestDashboardShowsTheNumbers(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	b.candidate("d1", "张三", "13800000001")
	b.candidate("d2", "李四", "13800000002")
	id := store.Identity{Channel: "web", UserID: "d3"}
	b.say(id, "x1", dialogs.Inbound{Text: "你好"})
	b.say(id, "x2", dialogs.Inbound{Text: "转人工"})
	c := b.signedIn("zhao", store.RoleStaff)
	_, _, body := c.get("/admin/")
	for _, want := range []string{`id="total">3<`, `id="waiting">1<`, `data-label="收集资料中" data-n="3"`, `data-label="条件 C2" data-n="2"`, `data-label="未确定" data-n="1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if !regexp.MustCompile(`class="day" data-day="[0-9/]+" data-n="3"`).MatchString(body) {
		t.Error("the per-day chart does not show today's 3")
	}

	// A fourth candidate the official system moved on to awaiting
	// payment; 90 minutes later the ticket is the longest wait, past
	// ticket_flag_after, and the funnel counts who reached each step.
	paying := store.Identity{Channel: "telegram", UserID: "d4"}
	s := b.engine.NewSession(paying)
	s.Answers = map[string]any{"name": "王五"}
	for i, st := range []store.Status{"", store.StatusMaterialsReady, store.StatusUnderReview, store.StatusAwaitingPayment} {
		s.Status = cmp.Or(st, store.StatusCollecting)
		data, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		tr := store.Turn{Identity: paying, PlanID: s.PlanID, MsgID: "d4-" + strconv.Itoa(i), Inbound: "x", Session: data,
			Answers: s.Answers, Condition: "C2", Status: st, At: time.Now()}
		if err := b.pg.RecordTurn(context.Background(), &tr); err != nil {
			t.Fatal(err)
		}
	}
	b.clock.advance(90 * time.Minute)
	c.mustSignIn("zhao") // the idle session ended
	_, _, body = c.get("/admin/")
	for _, want := range []string{`id="total">4<`, `id="waiting">1<`, `class="tile alert" href="/admin/tickets"><span class="num small" id="oldest">1 小时 30 分钟<`,
		`data-label="待缴费" data-n="1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	figures := strings.Split(body, `<figure class="card chart">`)
	if len(figures) != 5 || !strings.Contains(figures[2], "报名进度漏斗") {
		t.Fatalf("the dashboard's second chart is not the funnel:\n%s", body)
	}
	var funnel []string
	for _, m := range regexp.MustCompile(`data-label="([^"]+)" data-n="(\d+)"`).FindAllStringSubmatch(figures[2], -1) {
		funnel = append(funnel, m[1]+"="+m[2])
	}
	if got := strings.Join(funnel, ","); got != "收集资料中=4,材料已齐=1,审核中=1,待缴费=1,已缴费=0,准考证可打印=0" {
		t.Errorf("funnel %s", got)
	}
}

// jpegOf is a decodable JPEG of its own content (seed), so no two
// uploads are the same picture.
func jpegOf(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1400, 1800))
	for y := 0; y < 1800; y += 3 + seed {
		for x := 0; x < 1400; x += 1 + seed%3 {
			img.Set(x, y, color.RGBA{uint8(20 * seed), 30, 40, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPackageOnceEveryMaterialIsAccepted(t *testing.T) {
	t.Parallel()
	b := setupConsole(t, admin.Config{})
	id := b.candidate("pk", "赵六", "13800000004")
	for i := range 5 { // the five materials of C2
		b.say(id, "pk-img"+strconv.Itoa(i), dialogs.Inbound{Image: &dialogs.Image{Data: jpegOf(t, i+1)}})
	}
	c := b.signedIn("zhao", store.RoleStaff)
	rows, _, _ := b.pg.CandidateList(context.Background(), store.CandidateFilter{})
	page := "/admin/candidates/" + strconv.FormatInt(rows[0].CandidateID, 10)
	if status, _, body := c.get(page + "/materials.zip"); status != http.StatusConflict {
		t.Fatalf("package before review: %d, want 409\n%s", status, body)
	}
	_, _, body := c.get(page)
	actions := regexp.MustCompile(`action="(/admin/candidates/\d+/documents/\d+/review)"`).FindAllStringSubmatch(body, -1)
	seen := map[string]bool{}
	for _, a := range actions {
		if seen[a[1]] {
			continue
		}
		seen[a[1]] = true
		if status, _, _ := c.post(a[1], url.Values{"verdict": {"accepted"}}); status != http.StatusSeeOther {
			t.Fatalf("accept %s: %d", a[1], status)
		}
	}
	if len(seen) != 5 {
		t.Fatalf("%d documents to review, want 5:\n%s", len(seen), body)
	}
	_, _, body = c.get(page)
	if !strings.Contains(body, `id="package"`) {
		t.Fatal("no package link once every material is accepted")
	}
	status, _, zipBody := c.get(page + "/materials.zip")
	zr, err := zip.NewReader(strings.NewReader(zipBody), int64(len(zipBody)))
	if status != http.StatusOK || err != nil || len(zr.File) < 6 {
		t.Fatalf("package: %d, %v, %d files", status, err, len(zr.File))
	}
	if !b.audited("document.accept", "zhao") || !b.audited("package.download", "zhao") {
		t.Error("the audit log misses the accepts or the download")
	}
}
