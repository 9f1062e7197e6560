package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"regbot/dialogs"
	"regbot/store/blob"
	"regbot/store/postgres"
)

// runMigrate is `regbot migrate --config FILE [--reseal-all]`: it brings the
// database schema to the version this binary needs and seals what the
// record holds unsealed; with --reseal-all also what an old record key
// sealed (after a rotation). `regbot serve` does the same (without
// --reseal-all) at start; this command lets an operator do it before a
// rollout. It also renames blobs stored under the plain SHA-256 of their
// bytes to keyed names (blob.Dir.Rekey).
func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (see config.example.yaml)")
	all := fs.Bool("reseal-all", false, "also reseal under privacy.record_key what privacy.old_record_keys sealed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: regbot migrate --config FILE [--reseal-all]", errUsage)
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
	plan, err := loadPlan(cfg.Plan.Path)
	if err != nil {
		return err
	}
	opts, keyFile, err := cfg.recordOptions(plan)
	if err != nil {
		return err
	}
	if keyFile != "" {
		fmt.Fprintf(stderr, "privacy.record_key is not set: using the record key in %s; keep it with your backups and give every instance the same key\n", keyFile)
	}
	rec := postgres.New(pool, opts...)
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = rec.Ping(pingCtx)
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
	} else {
		fmt.Fprintf(stdout, "database migrated from version %d to %d\n", from, to)
	}
	if err := rec.CheckKeys(ctx); err != nil {
		return oneLine(fmt.Errorf("database: %w", err))
	}
	c, err := rec.Reseal(ctx, *all)
	if err != nil {
		return oneLine(fmt.Errorf("database: %w", err))
	}
	fmt.Fprintf(stdout, "record resealed: %d applications, %d inbound messages, %d ticket messages, %d documents\n",
		c.Applications, c.Inbound, c.TicketMessages, c.Documents)
	if key := cfg.blobKey(); key != nil {
		dir, err := blob.NewDir(cfg.Blob.Dir, key)
		if err != nil {
			return fmt.Errorf("blob.dir: %w", err)
		}
		n, err := dir.Rekey(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "blobs renamed to keyed names: %d\n", n)
	}
	return nil
}

// recordOptions are the record's protection of personal data: its keys and
// plan's sensitive answers. keyFile names the file the record key was read
// from or generated in when the configuration has none.
func (c Config) recordOptions(plan *dialogs.Plan) (opts []postgres.Option, keyFile string, err error) {
	keys, keyFile, err := c.recordKeys()
	if err != nil {
		return nil, "", err
	}
	var sensitive []string
	for _, sl := range plan.Slots {
		if sl.Sensitive {
			sensitive = append(sensitive, sl.Key)
		}
	}
	return []postgres.Option{postgres.WithKeys(keys), postgres.WithSensitive(sensitive...)}, keyFile, nil
}

// reseal seals what the record holds unsealed (rows written before the
// record key, or under an old key with all) and logs what it changed.
func reseal(ctx context.Context, rec *postgres.Store, all bool, log *slog.Logger) error {
	c, err := rec.Reseal(ctx, all)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if c != (postgres.ResealCounts{}) {
		log.Info("record resealed", "applications", c.Applications, "inbound_messages", c.Inbound,
			"ticket_messages", c.TicketMessages, "documents", c.Documents)
	}
	return nil
}
