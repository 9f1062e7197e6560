package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is tern's table of the applied version, in the schema the
// connection's search_path selects.
const versionTable = "regbot_schema_version"

// Migrate brings the schema that the pool's search_path selects up to the
// latest version. It is idempotent and safe to run from several processes
// at once (tern holds an advisory lock).
func Migrate(ctx context.Context, pool *pgxpool.Pool) (from, to int32, err error) {
	return migrateTo(ctx, pool, -1)
}

// migrateTo migrates to version target (-1: the latest).
func migrateTo(ctx context.Context, pool *pgxpool.Pool, target int32) (from, to int32, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	var schema *string
	if err := conn.QueryRow(ctx, "select current_schema()").Scan(&schema); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if schema == nil {
		return 0, 0, fmt.Errorf("migrate: no schema of the search_path exists")
	}
	m, err := migrate.NewMigrator(ctx, conn.Conn(), pgx.Identifier{*schema, versionTable}.Sanitize())
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return 0, 0, fmt.Errorf("migrate: load migrations: %w", err)
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	if target < 0 {
		err = m.Migrate(ctx)
	} else {
		err = m.MigrateTo(ctx, target)
	}
	if err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	if to, err = m.GetCurrentVersion(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	return from, to, nil
}
