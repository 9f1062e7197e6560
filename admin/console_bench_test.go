package admin_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"regbot/admin"
	"regbot/dialogs"
	"regbot/store"
)

// BenchmarkConsolePages: the console's pages as staff use them, over a
// record of REGBOT_BENCH_CANDIDATES (default 5,000) applications in
// PostgreSQL, a tenth of them with an open ticket: the time to serve one
// page, through HTTP and the session check.
func BenchmarkConsolePages(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("REGBOT_BENCH_CANDIDATES"))
	n = cmp.Or(n, 5000)
	cb := setupConsole(b, admin.Config{})
	ctx := context.Background()
	statuses := [][]store.Status{{""}, {"", store.StatusMaterialsReady}, {"", store.StatusMaterialsReady, store.StatusUnderReview},
		{"", store.StatusMaterialsReady, store.StatusUnderReview, store.StatusAwaitingPayment}}
	start := time.Now()
	for i := range n {
		id := store.Identity{Channel: []string{"wechat", "telegram", "web"}[i%3], UserID: fmt.Sprintf("o-bench-%06d", i)}
		s := cb.engine.NewSession(id)
		s.Answers = map[string]any{"name": fmt.Sprintf("张%d", i), "mobile": fmt.Sprintf("138%08d", i)}
		for j, st := range statuses[i%len(statuses)] {
			s.Status = cmp.Or(st, store.StatusCollecting)
			data, err := s.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			tr := store.Turn{Identity: id, PlanID: s.PlanID, MsgID: strconv.Itoa(j), Inbound: "你好", Session: data,
				Answers: s.Answers, Condition: []string{"C1", "C2", "C3", ""}[i%4], Status: st, At: time.Now()}
			if j == 0 && i%10 == 0 {
				tr.Escalations = []store.Escalation{{Reason: dialogs.TicketRequested, Code: fmt.Sprintf("B%05d", i), Handover: true, At: tr.At}}
			}
			if err := cb.pg.RecordTurn(ctx, &tr); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("seeded %d applications in %s", n, time.Since(start).Round(time.Millisecond))
	rows, _, err := cb.pg.CandidateList(ctx, store.CandidateFilter{Limit: 1})
	if err != nil || len(rows) == 0 {
		b.Fatal(rows, err)
	}
	// As in production, the planner knows the tables (autovacuum would
	// have analysed them by now).
	if _, err := cb.pool.Exec(ctx, "analyze"); err != nil {
		b.Fatal(err)
	}
	c := cb.signedIn("bench", store.RoleStaff)
	poll := http.Header{"X-Regbot-Poll": {"1"}}
	pages := []struct {
		name, path string
		header     http.Header
	}{
		{"dashboard", "/admin/", nil},
		{"inbox-live", "/admin/tickets/live", poll},
		{"candidates", "/admin/candidates", nil},
		{"candidates-filtered-page-5", "/admin/candidates?status=materials_ready&channel=wechat&page=5", nil},
		{"candidates-waiting", "/admin/candidates?waiting=1", nil},
		{"search-mobile", "/admin/candidates?q=" + fmt.Sprintf("138%08d", n/2), nil},
		{"search-name", "/admin/candidates?q=" + "张" + strconv.Itoa(n/3), nil},
		{"candidate", "/admin/candidates/" + strconv.FormatInt(rows[0].CandidateID, 10), nil},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if status, _, body := c.do(http.MethodGet, p.path, nil, p.header); status != http.StatusOK {
					b.Fatalf("%s: %d\n%s", p.path, status, body)
				}
			}
		})
	}
}
