package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"regbot/store/postgres"
)

// runMigrate is `regbot migrate --config FILE`: it brings the database
// schema to the version this binary needs. `regbot serve` does the same at
// start; this command lets an operator do it before a rollout.
func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot migrate --config FILE", errUsage)
	}
	cfg, err := loadConfig(*path, os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		return errors.New("database.url is empty: the embedded memory store has no schema to migrate")
	}
	pool, err := postgres.NewPool(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = postgres.New(pool).Ping(pingCtx)
	cancel()
	if err != nil {
		return oneLine(fmt.Errorf("database: cannot connect: %w", err))
	}
	from, to, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return oneLine(fmt.Errorf("database: %w", err))
	}
	if from == to {
		fmt.Fprintf(stdout, "database schema is up to date (version %d)\n", to)
		return nil
	}
	fmt.Fprintf(stdout, "database migrated from version %d to %d\n", from, to)
	return nil
}
