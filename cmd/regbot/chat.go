package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"regbot/bot"
	"regbot/bot/console"
	"regbot/bot/telegram"
	"regbot/bot/web"
	"regbot/bot/wechat"
	"regbot/dialogs"
	"regbot/materials"
	"regbot/plans"
	"regbot/store/memory"
)

// runChat is `regbot chat`: the terminal channel on the embedded stores.
func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print one JSON object per bot message (the scripting contract)")
	planPath := fs.String("plan", "", "plan file (default: the embedded "+plans.DefaultFile+")")
	nowFlag := fs.String("now", "", "fix today's date, YYYY-MM-DD, for reproducible runs")
	user := fs.String("user", "local", "candidate id on the console channel")
	imageDir := fs.String("image-dir", "", "where images the bot sends are written (default: a new folder per run)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	now := time.Now
	if *nowFlag != "" {
		t, err := time.ParseInLocation("2006-01-02", *nowFlag, dialogs.ChinaTime)
		if err != nil {
			return fmt.Errorf("%w: --now must be YYYY-MM-DD, got %q", errUsage, *nowFlag)
		}
		fixed := t.Add(12 * time.Hour)
		now = func() time.Time { return fixed }
	}
	plan, err := loadPlan(*planPath)
	if err != nil {
		return err
	}
	// Each run writes into a folder of its own, so two runs never overwrite
	// each other's images.
	dir := *imageDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "regbot-chat-"); err != nil {
			return fmt.Errorf("image folder: %w", err)
		}
		defer removeIfUnused(dir)
	}
	// The human conversation owns the terminal: log lines go to a file in
	// the run's folder. Scripts (--json) read stdout and get them on stderr.
	logOut := stderr
	if !*jsonOut {
		f, err := os.OpenFile(filepath.Join(dir, "regbot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, err := dialogs.NewEngine(plan, dialogs.Options{
		Now:       now,
		Inspector: materials.NewInspector(plan.Texts),
		Fixer:     materials.NewFixer(plan.Texts),
		Log:       log,
	})
	if err != nil {
		return err
	}
	mem := memory.New()
	router := bot.NewRouter(engine, bot.Deps{Fast: mem, Record: mem}, log)
	c := console.New(console.Config{JSON: *jsonOut, UserID: *user, ImageDir: dir, Texts: plan.Texts}, router, stdout)
	if !*jsonOut {
		fmt.Fprintln(stdout, c.Banner(plan.Title))
	}
	return c.Run(ctx, stdin)
}

// removeIfUnused removes a run's folder when the run left nothing in it
// but an empty log.
func removeIfUnused(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.Name() != "regbot.log" || info.Size() > 0 {
			return
		}
	}
	_ = os.RemoveAll(dir)
}

// loadPlan reads the plan at path, or the embedded default when path is "",
// and checks its materials' photo checks and the sentences they say. Rules
// are compiled by dialogs.NewEngine.
func loadPlan(path string) (*dialogs.Plan, error) {
	var plan *dialogs.Plan
	var err error
	// Every text every part of regbot says must be there, with only the
	// placeholders it takes, and no text nobody says.
	if path == "" {
		plan, err = plans.Default()
		if err == nil {
			err = plan.CheckTexts(true, append(textKeys(), dialogs.TextKeys)...)
		}
	} else {
		plan, err = dialogs.LoadPlanFile(path, textKeys()...)
	}
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, m := range plan.Materials {
		if err := materials.Validate(m.Checks); err != nil {
			errs = append(errs, fmt.Errorf("materials.%s.checks: %w", m.Key, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("plan %s: %w", plan.ID, err)
	}
	return plan, nil
}

// textKeys are the texts of the parts of regbot besides the engine that
// talk to candidates, each with the placeholders it may use.
func textKeys() []map[string][]string {
	return []map[string][]string{materials.TextKeys, web.TextKeys, telegram.TextKeys, wechat.TextKeys, console.TextKeys}
}

// runPlanCheck is `regbot plan check FILE`: it loads and compiles a plan and
// reports every problem in it.
func runPlanCheck(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: regbot plan check FILE", errUsage)
	}
	plan, err := loadPlan(args[0])
	if err != nil {
		return err
	}
	if _, err := dialogs.NewEngine(plan, dialogs.Options{}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "plan %s (%s): %d slots, %d conditions, %d materials: ok\n",
		plan.ID, plan.Title, len(plan.Slots), len(plan.Conditions), len(plan.Materials))
	return nil
}
