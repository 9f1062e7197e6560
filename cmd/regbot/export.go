package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"regbot/admin"
	"regbot/dialogs"
)

// runExportMaterials is `regbot export materials --config FILE --candidate ID
// [--out FILE]`: it writes a candidate's material package (the zip the
// official site's uploads are made from, with the answers summary).
func runExportMaterials(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export materials", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	candidate := fs.String("candidate", "", "the record's candidate id, or channel:user_id")
	out := fs.String("out", "", "zip file to write (default: stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *candidate == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot export materials --config FILE --candidate ID [--out FILE]", errUsage)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return fmt.Errorf("database.url is empty: the embedded store keeps nothing to export")
	}
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
	pkgs, err := admin.NewPackages(cfg.Admin, engine, st.sessions, blobs, log)
	if err != nil {
		return err
	}
	snap, err := pkgs.Find(ctx, *candidate)
	if err != nil {
		return fmt.Errorf("candidate %s: %w", *candidate, err)
	}
	var buf bytes.Buffer
	if err := pkgs.Write(ctx, &buf, snap); err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes)\n", *out, buf.Len())
	return nil
}
