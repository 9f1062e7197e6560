package admin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"regbot/admin"
	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/memory"
)

// recorder is the memory record with every recorded turn kept, so tests
// see the notifications the turns queued.
type recorder struct {
	*memory.Store
	mu    sync.Mutex
	turns []store.Turn
}

func (r *recorder) RecordTurn(ctx context.Context, t *store.Turn) error {
	if err := r.Store.RecordTurn(ctx, t); err != nil {
		return err
	}
	r.mu.Lock()
	r.turns = append(r.turns, *t)
	r.mu.Unlock()
	return nil
}

// notifications returns the texts queued for id, one string per outbox
// message.
func (r *recorder) notifications(t *testing.T, id store.Identity) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, tr := range r.turns {
		for _, o := range tr.Outbox {
			if o.Identity != id {
				continue
			}
			msgs, err := dialogs.DecodeMessages(o.Payload)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, m := range msgs {
				parts = append(parts, m.Text)
			}
			out = append(out, strings.Join(parts, "\n"))
		}
	}
	return out
}

type importBundle struct {
	router *bot.Router
	rec    *recorder
	engine *dialogs.Engine
	imp    *admin.StatusImport
	api    *admin.StatusAPI
	n      int
}

func setupImport(t *testing.T) *importBundle {
	t.Helper()
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Blobs: dialogs.NewMemoryBlobs()})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	rec := &recorder{Store: mem}
	log := slog.New(slog.DiscardHandler)
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: rec}, log)
	changer := admin.NewStatusChanger(router, func(err error) bool { return errors.Is(err, bot.ErrDuplicate) })
	return &importBundle{router: router, rec: rec, engine: engine,
		imp: admin.NewStatusImport(changer, mem, plan),
		api: admin.NewStatusAPI(changer, mem, mem, plan, admin.TokenAuthorizer(staffToken), log)}
}

// pathTo are the status changes from collecting to each status.
var pathTo = map[store.Status][]store.Status{
	store.StatusCollecting:      nil,
	store.StatusMaterialsReady:  {store.StatusMaterialsReady},
	store.StatusUnderReview:     {store.StatusMaterialsReady, store.StatusUnderReview},
	store.StatusRejected:        {store.StatusMaterialsReady, store.StatusUnderReview, store.StatusRejected},
	store.StatusAwaitingPayment: {store.StatusMaterialsReady, store.StatusUnderReview, store.StatusAwaitingPayment},
	store.StatusPaid:            {store.StatusMaterialsReady, store.StatusUnderReview, store.StatusAwaitingPayment, store.StatusPaid},
}

// candidate records a C2 candidate with every material at status, as the
// record holds them after their conversation, and returns their identity.
func (b *importBundle) candidate(t testing.TB, idNumber, mobile string, status store.Status) store.Identity {
	t.Helper()
	b.n++
	id := store.Identity{Channel: []string{"wechat", "telegram", "web"}[b.n%3], UserID: fmt.Sprintf("u%d", b.n)}
	s := b.engine.NewSession(id)
	s.Welcomed, s.Decided, s.Condition, s.ChecklistShown, s.WorkDone = true, true, "C2", true, true
	s.Step = "done"
	s.Work = []store.WorkEntry{{Employer: "某某电子商务有限公司", Occupation: "电子商务师", Related: true, Start: "2019-01", End: "至今"}}
	s.Answers = map[string]any{"name": "张三", "id_number": idNumber, "id_expiry": "长期", "mobile": mobile}
	s.Materials = map[string]dialogs.MaterialState{}
	for _, m := range []string{"id_card_front", "id_card_back", "photo", "application_form", "work_commitment"} {
		s.Materials[m] = dialogs.MaterialState{Ref: fmt.Sprintf("%064d", b.n)}
	}
	ctx := context.Background()
	record := func(st store.Status, n int) {
		s.Status = cmpStatus(st, s.Status)
		data, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		tr := store.Turn{Identity: id, PlanID: s.PlanID, MsgID: fmt.Sprint(n), Inbound: "x", Session: data,
			Answers: s.Answers, WorkHistory: s.Work, Condition: "C2", Status: st, StatusReason: "旧的原因", At: time.Now()}
		if err := b.rec.Store.RecordTurn(ctx, &tr); err != nil {
			t.Fatal(err)
		}
	}
	record("", 0)
	for i, st := range pathTo[status] {
		record(st, i+1)
	}
	return id
}

func cmpStatus(a, b store.Status) store.Status {
	if a != "" {
		return a
	}
	return b
}

func (b *importBundle) status(t *testing.T, id store.Identity) store.Status {
	t.Helper()
	app, err := b.rec.Application(context.Background(), id, "internet-marketing-l4")
	if err != nil {
		t.Fatal(err)
	}
	return app.Status
}

// idNumbers are valid ID numbers (GB 11643 checksums), one per candidate.
var idNumbers = []string{"11010519491231002X", "110105199003070017", "110105199003070025", "110105199003070033", "110105199003070041", "11010519900307005X", "110105199003070068"}

func TestStatusImport(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ready := b.candidate(t, idNumbers[0], "13800000001", store.StatusMaterialsReady)
	review := b.candidate(t, idNumbers[1], "13800000002", store.StatusUnderReview)
	approved := b.candidate(t, idNumbers[2], "13800000003", store.StatusUnderReview)
	early := b.candidate(t, idNumbers[3], "13800000004", store.StatusCollecting)
	noReason := b.candidate(t, idNumbers[4], "13800000005", store.StatusUnderReview)
	byMobile := b.candidate(t, idNumbers[5], "13800000006", store.StatusAwaitingPayment)

	file := strings.Join([]string{
		"身份证号,手机号,状态,原因,重新提供",
		idNumbers[0] + ",,审核中,,", // 2 applied
		idNumbers[1] + ",,审核不通过,身份证人像面照片模糊,身份证人像面照片、手机号", // 3 applied
		"'" + strings.ToLower(idNumbers[2]) + ",,待缴费,,",  // 4 applied (Excel's text marker)
		"110105199003070084,,审核中,,",                      // 5 unmatched
		idNumbers[3] + ",,缴费成功,,",                        // 6 refused: collecting → paid
		idNumbers[4] + ",,审核不通过,,",                       // 7 refused: no reason
		idNumbers[0] + ",,已审核,,",                         // 8 refused: unknown status
		"",                                               // blank: skipped
		"12345,,审核中,,",                                   // 10 refused: bad ID number
		",138 0000 0006,缴费成功,,",                          // 11 applied by mobile
		idNumbers[2] + ",,待缴费,,",                         // 12 unchanged (row 4 did it)
		idNumbers[1] + ",,审核不通过,原因,护照",                   // 13 refused: unknown item
	}, "\n")
	var out bytes.Buffer
	rep, err := b.imp.Import(context.Background(), strings.NewReader(file), admin.ImportOptions{Workers: 3}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := admin.ImportReport{Rows: 11, Applied: 4, Unchanged: 1, Unmatched: 1, Refused: 5}
	if rep != want {
		t.Fatalf("report %+v, want %+v\n%s", rep, want, out.String())
	}
	report := out.String()
	for _, line := range []string{
		"line 5: unmatched: no candidate with this ID number",
		"line 6: refused: status cannot change from collecting to paid",
		"line 7: refused: 审核不通过 needs a reason",
		"line 8: refused: unknown status \"已审核\"",
		"line 10: refused: the ID number is not valid",
		"line 13: refused: bad system event: 护照",
		"11 rows: 4 applied, 1 unchanged, 1 unmatched, 5 refused, 0 failed",
	} {
		if !strings.Contains(report, line) {
			t.Errorf("report lacks %q:\n%s", line, report)
		}
	}
	for _, n := range idNumbers {
		if strings.Contains(report, n) {
			t.Fatalf("the report shows an ID number:\n%s", report)
		}
	}
	for id, st := range map[store.Identity]store.Status{ready: store.StatusUnderReview, review: store.StatusRejected,
		approved: store.StatusAwaitingPayment, early: store.StatusCollecting, noReason: store.StatusUnderReview,
		byMobile: store.StatusPaid} {
		if got := b.status(t, id); got != st {
			t.Errorf("%v: status %q, want %q", id, got, st)
		}
	}
	if n := b.rec.notifications(t, review); len(n) != 1 || !strings.Contains(n[0], "身份证人像面照片模糊") || !strings.Contains(n[0], "手机号") {
		t.Fatalf("the rejected candidate's notifications: %q", n)
	}
	if n := b.rec.notifications(t, early); len(n) != 0 {
		t.Fatalf("a refused row sent %q", n)
	}

	// Re-importing the same file changes and sends nothing.
	before := len(b.rec.turns)
	out.Reset()
	rep, err = b.imp.Import(context.Background(), strings.NewReader(file), admin.ImportOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 0 || rep.Unchanged != 5 || len(b.rec.turns) != before {
		t.Fatalf("second import: %+v, %d new turns; want nothing applied\n%s", rep, len(b.rec.turns)-before, out.String())
	}
	for _, id := range []store.Identity{ready, review, approved, byMobile} {
		if n := b.rec.notifications(t, id); len(n) != 1 {
			t.Errorf("%v got %d notifications after two imports, want 1", id, len(n))
		}
	}

	// The rejected candidate resubmits; the official system rejects them
	// again for the same reason: a new change, although the same row.
	if _, err := b.router.Handle(context.Background(), dialogs.Inbound{Channel: review.Channel, UserID: review.UserID,
		MsgID: "resubmit", Text: "我已在官网提交"}); err != nil {
		t.Fatal(err)
	}
	if got := b.status(t, review); got != store.StatusUnderReview {
		t.Fatalf("after 我已在官网提交: %q", got)
	}
	out.Reset()
	rep, err = b.imp.Import(context.Background(), strings.NewReader(file), admin.ImportOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 1 || b.status(t, review) != store.StatusRejected || len(b.rec.notifications(t, review)) != 2 {
		t.Fatalf("rejected again after resubmitting: %+v, status %q, %d notifications\n%s",
			rep, b.status(t, review), len(b.rec.notifications(t, review)), out.String())
	}
}

func TestStatusImportFiles(t *testing.T) {
	t.Parallel()
	gbk := func(s string) string {
		out, err := simplifiedchinese.GBK.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		file    string
		opts    admin.ImportOptions
		wantErr string
		want    admin.ImportReport
	}{
		{name: "empty", file: "", wantErr: "the file is empty"},
		{name: "blank lines only", file: "\n\n  \n", wantErr: "the file is empty"},
		{name: "wrong columns", file: "姓名,结果\n张三,审核中\n", wantErr: "must name a column 身份证号"},
		{name: "no status column", file: "身份证号,原因\n" + idNumbers[0] + ",x\n", wantErr: "must name a column 身份证号"},
		{name: "UTF-8 with BOM", file: "\ufeff身份证号,状态\n" + idNumbers[0] + ",审核中\n",
			want: admin.ImportReport{Rows: 1, Applied: 1}},
		{name: "GBK (Excel)", file: gbk("证件号码,审核状态,审核意见\n" + idNumbers[0] + ",审核中,\r\n"),
			want: admin.ImportReport{Rows: 1, Applied: 1}},
		{name: "GBK said", file: gbk("身份证号,状态\n" + idNumbers[0] + ",审核中\n"), opts: admin.ImportOptions{Encoding: "gbk"},
			want: admin.ImportReport{Rows: 1, Applied: 1}},
		{name: "unknown encoding", file: "身份证号,状态\n", opts: admin.ImportOptions{Encoding: "latin1"}, wantErr: "encoding"},
		{name: "short row", file: "身份证号,状态,原因\n" + idNumbers[0] + "\n", want: admin.ImportReport{Rows: 1, Refused: 1}},
		{name: "dry run", file: "身份证号,状态\n" + idNumbers[0] + ",审核中\n" + idNumbers[0] + ",缴费成功\n",
			opts: admin.ImportOptions{DryRun: true}, want: admin.ImportReport{Rows: 2, Applied: 1, Refused: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupImport(t)
			id := b.candidate(t, idNumbers[0], "13800000001", store.StatusMaterialsReady)
			var out bytes.Buffer
			rep, err := b.imp.Import(context.Background(), strings.NewReader(tt.file), tt.opts, &out)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, admin.ErrBadFile) {
					t.Fatalf("err = %v, want ErrBadFile saying %q", err, tt.wantErr)
				}
				if got := b.status(t, id); got != store.StatusMaterialsReady {
					t.Fatalf("a bad file changed the status to %q", got)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if rep != tt.want {
				t.Fatalf("report %+v, want %+v\n%s", rep, tt.want, out.String())
			}
			wantStatus := store.StatusMaterialsReady
			if tt.want.Applied > 0 && !tt.opts.DryRun {
				wantStatus = store.StatusUnderReview
			}
			if got := b.status(t, id); got != wantStatus {
				t.Fatalf("status %q, want %q", got, wantStatus)
			}
		})
	}
}

// TestStatusImportLargeFile streams 100,000 rows (most for nobody the bot
// knows, a few real changes, some bad) with a progress line every 20,000.
func TestStatusImportLargeFile(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	var ids []store.Identity
	for i := range 5 {
		ids = append(ids, b.candidate(t, idNumbers[i], fmt.Sprintf("1380000000%d", i), store.StatusMaterialsReady))
	}
	const rows = 100_000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintln(pw, "手机号,状态,原因")
		for i := range rows {
			switch {
			case i%20_000 == 7:
				fmt.Fprintf(pw, "1380000000%d,审核中,\n", i/20_000)
			case i%10_000 == 3:
				fmt.Fprintf(pw, "139%08d,审核成功,\n", i) // unknown status
			default:
				fmt.Fprintf(pw, "139%08d,审核中,\n", i)
			}
		}
		pw.Close()
	}()
	var out, progress bytes.Buffer
	rep, err := b.imp.Import(context.Background(), pr, admin.ImportOptions{Progress: &progress, ProgressEvery: 20_000}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := admin.ImportReport{Rows: rows, Applied: 5, Unmatched: rows - 5 - 10, Refused: 10}
	if rep != want {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	if lines := strings.Count(progress.String(), "status import: "); lines != rows/20_000+1 {
		t.Fatalf("%d progress lines, want %d:\n%s", lines, rows/20_000+1, progress.String())
	}
	for _, id := range ids {
		if got := b.status(t, id); got != store.StatusUnderReview {
			t.Errorf("%v: %q", id, got)
		}
	}
}
