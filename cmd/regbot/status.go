package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"regbot/admin"
	"regbot/bot"
	"regbot/dialogs"
)

// statusRecord is what status changes need of the record.
type statusRecord interface {
	admin.Applications
	admin.StatusEvents
}

// newStatusChanger runs status changes as system turns through router.
func newStatusChanger(router *bot.Router) *admin.StatusChanger {
	return admin.NewStatusChanger(router, func(err error) bool { return errors.Is(err, bot.ErrDuplicate) })
}

// runStatusImport is `regbot status import --config FILE [--dry-run]
// [--encoding utf-8|gbk] [--actor staff:<id>] FILE.csv`: it applies the
// official system's export, one system turn per row, and prints a line per
// row it did not apply and the summary; a progress line goes to stderr.
func runStatusImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	dryRun := fs.Bool("dry-run", false, "find and check every row, change nothing")
	encoding := fs.String("encoding", "", "utf-8 or gbk (default: detected)")
	actor := fs.String("actor", "import", "who the status events name: import or staff:<id>")
	workers := fs.Int("workers", 8, "rows applied in parallel (each needs a database connection)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: regbot status import --config FILE [--dry-run] [--encoding utf-8|gbk] [--actor staff:<id>] FILE.csv", errUsage)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return errors.New("database.url is empty: the embedded store has no candidates to update")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	plan, err := loadPlan(cfg.Plan.Path)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, cfg, plan, log)
	if err != nil {
		return oneLine(err)
	}
	defer st.close()
	blobs, err := openBlobs(cfg, log)
	if err != nil {
		return oneLine(err)
	}
	engine, err := dialogs.NewEngine(plan, dialogs.Options{Blobs: blobs, Log: log})
	if err != nil {
		return err
	}
	router := bot.NewRouter(engine, st.deps, log)
	imp := admin.NewStatusImport(newStatusChanger(router), st.statuses, plan)
	rep, err := imp.Import(ctx, f, admin.ImportOptions{DryRun: *dryRun, Encoding: *encoding, Actor: *actor,
		Workers: *workers, Progress: stderr}, stdout)
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d rows failed (a store error); run the import again: applied rows are not applied twice", rep.Failed)
	}
	return nil
}
