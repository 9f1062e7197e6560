package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"regbot/dialogs"
	"regbot/plans"
	"regbot/store"
	"regbot/store/postgres"
	"regbot/store/storetest"
)

// TestStatusImportCommand runs `regbot status import` as a subprocess on a
// real PostgreSQL schema with an Excel-style GBK file: a dry run changes
// nothing, the import applies the good rows and names the bad ones.
func TestStatusImportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.PostgresURL(t)
	pool, err := postgres.NewPool(ctx, dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	pg := testRecord(t, pool)
	plan, err := plans.Default()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]store.Identity{}
	for i, mobile := range []string{"13900000001", "13900000002"} {
		id := store.Identity{Channel: "telegram", UserID: fmt.Sprint(1000 + i)}
		ids[mobile] = id
		s := engine.NewSession(id)
		s.Welcomed, s.Decided, s.Condition, s.Step = true, true, "C2", "done"
		s.Answers = map[string]any{"mobile": mobile}
		for j, st := range []store.Status{"", store.StatusMaterialsReady, store.StatusUnderReview} {
			if st != "" {
				s.Status = st
			}
			data, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := pg.RecordTurn(ctx, &store.Turn{Identity: id, PlanID: plan.ID, MsgID: fmt.Sprint(j), Inbound: "x",
				Session: data, Answers: s.Answers, Condition: "C2", Status: st, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := "privacy:\n  record_key: cmVnYm90LXRlc3QtcmVjb3JkLWtleS0wMTIzNDU2Nzg=\ndatabase:\n  url: " + dbURL + "\nblob:\n  dir: " + filepath.Join(dir, "blobs") + "\n  insecure_no_encryption: true\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := simplifiedchinese.GBK.NewEncoder().String("手机号码,审核状态,审核意见\r\n13900000001,待缴费,\r\n13900000002,审核不通过,\r\n13900000003,审核中,\r\n")
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(csvPath, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(regbotBin, append([]string{"status", "import", "--config", cfgPath}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	status := func(mobile string) store.Status {
		app, err := pg.Application(ctx, ids[mobile], plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		return app.Status
	}

	out, errOut, err := run("--dry-run", csvPath)
	if err != nil || !strings.Contains(out, "3 rows: 1 applied, 0 unchanged, 1 unmatched, 1 refused, 0 failed (dry run") {
		t.Fatalf("dry run: %v\n%s\n%s", err, out, errOut)
	}
	if status("13900000001") != store.StatusUnderReview {
		t.Fatal("the dry run changed a status")
	}
	out, errOut, err = run(csvPath)
	if err != nil {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"line 3: refused: 审核不通过 needs a reason", "line 4: unmatched", "3 rows: 1 applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "status import: 3 rows") {
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
	if strings.Contains(out+errOut, "1390000000") {
		t.Errorf("the output shows a mobile:\n%s\n%s", out, errOut)
	}
	if status("13900000001") != store.StatusAwaitingPayment || status("13900000002") != store.StatusUnderReview {
		t.Fatalf("statuses after the import: %s, %s", status("13900000001"), status("13900000002"))
	}
	if _, _, err := run(); err == nil {
		t.Fatal("no file: accepted")
	}
}
