package admin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"regbot/admin"
	"regbot/bot"
	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/redis"
	"regbot/store/storetest"
)

// pgImport is the import on the production pair: PostgreSQL as the record,
// Redis for sessions, duplicates and locks.
type pgImport struct {
	pg     *postgres.Store
	engine *dialogs.Engine
	imp    *admin.StatusImport
}

func setupPGImport(tb testing.TB) *pgImport {
	tb.Helper()
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, storetest.PostgresURL(tb), 8)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		tb.Fatal(err)
	}
	rdb, prefix := storetest.RedisPrefix(tb)
	rs, err := redis.New(rdb, redis.WithPrefix(prefix))
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := plans.Default()
	if err != nil {
		tb.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Blobs: dialogs.NewMemoryBlobs()})
	if err != nil {
		tb.Fatal(err)
	}
	pg := postgres.New(pool)
	router := bot.NewRouter(engine, bot.Deps{Fast: rs, Record: pg}, slog.New(slog.DiscardHandler))
	changer := admin.NewStatusChanger(router, func(err error) bool { return errors.Is(err, bot.ErrDuplicate) })
	return &pgImport{pg: pg, engine: engine, imp: admin.NewStatusImport(changer, pg, plan)}
}

// seed records n candidates at materials_ready with mobiles 139000xxxxx.
func (p *pgImport) seed(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		id := store.Identity{Channel: "wechat", UserID: fmt.Sprintf("o-%d", i)}
		s := p.engine.NewSession(id)
		s.Welcomed, s.Decided, s.Condition, s.Step = true, true, "C2", "done"
		s.Answers = map[string]any{"mobile": fmt.Sprintf("139%08d", i)}
		for j, st := range []store.Status{"", store.StatusMaterialsReady} {
			s.Status = cmpStatus(st, s.Status)
			data, err := s.Marshal()
			if err != nil {
				tb.Fatal(err)
			}
			if err := p.pg.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: s.PlanID, MsgID: fmt.Sprint(j), Inbound: "x",
				Session: data, Answers: s.Answers, Condition: "C2", Status: st, At: time.Now()}); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func csvRows(n int, status string) io.Reader {
	var b strings.Builder
	b.WriteString("手机号,状态,原因\n")
	for i := range n {
		fmt.Fprintf(&b, "139%08d,%s,\n", i, status)
	}
	return strings.NewReader(b.String())
}

// TestStatusImportPostgres: the import on PostgreSQL + Redis, twice: the
// second run changes nothing.
func TestStatusImportPostgres(t *testing.T) {
	t.Parallel()
	p := setupPGImport(t)
	p.seed(t, 20)
	var out strings.Builder
	rep, err := p.imp.Import(context.Background(), csvRows(25, "审核中"), admin.ImportOptions{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if want := (admin.ImportReport{Rows: 25, Applied: 20, Unmatched: 5}); rep != want {
		t.Fatalf("report %+v, want %+v\n%s", rep, want, out.String())
	}
	rep, err = p.imp.Import(context.Background(), csvRows(25, "审核中"), admin.ImportOptions{}, &out)
	if err != nil || rep.Applied != 0 || rep.Unchanged != 20 {
		t.Fatalf("second import: %+v, %v", rep, err)
	}
	events, err := p.pg.StatusEvents(context.Background(), store.Identity{Channel: "wechat", UserID: "o-7"}, "internet-marketing-l4")
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; len(events) != 3 || last.To != store.StatusUnderReview || last.Actor != "import" {
		t.Fatalf("status events %+v, want one import to under_review after materials_ready", events)
	}
}

// BenchmarkStatusImport measures rows/s of a status import into PostgreSQL
// (every row a change: lookup, Redis lock and session, engine, one
// transaction).
func BenchmarkStatusImport(b *testing.B) {
	p := setupPGImport(b)
	p.seed(b, b.N)
	file := csvRows(b.N, "审核中")
	b.ResetTimer()
	start := time.Now()
	rep, err := p.imp.Import(context.Background(), file, admin.ImportOptions{}, io.Discard)
	if err != nil || rep.Applied != b.N {
		b.Fatalf("%+v %v", rep, err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
