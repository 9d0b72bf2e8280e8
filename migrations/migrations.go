// Package migrations holds fenqi's PostgreSQL schema as numbered SQL files
// (NNN_name.sql, tern format) embedded in the binary, and applies them with
// github.com/jackc/tern/v2/migrate.
//
// Each migration runs in its own transaction together with the update of the
// version table (VersionTable), so a failing migration leaves nothing behind
// and the recorded version stays at the last migration that succeeded. tern
// holds a PostgreSQL advisory lock while it migrates, so concurrent Up calls
// from several processes apply every migration exactly once.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

// VersionTable is the table recording the applied schema version.
const VersionTable = "public.fenqi_schema_version"

// CodeAppendOnly is the SQLSTATE raised by the audit_log trigger when a row
// is updated or deleted, or the table truncated.
const CodeAppendOnly = "FQ001"

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files.
func FS() fs.FS { return files }

// Up applies every pending migration to the database at databaseURL and
// returns the schema version reached. Running it again is a no-op.
func Up(ctx context.Context, databaseURL string) (version int32, err error) {
	return UpFS(ctx, databaseURL, files)
}

// UpFS applies the migrations found in fsys (files NNN_name.sql) like Up.
// Tests use it to apply a crafted set of migrations.
func UpFS(ctx context.Context, databaseURL string, fsys fs.FS) (version int32, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return UpConn(ctx, conn, fsys)
}

// UpConn applies the migrations found in fsys over conn and returns the
// schema version reached. conn must not be inside a transaction.
func UpConn(ctx context.Context, conn *pgx.Conn, fsys fs.FS) (version int32, err error) {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return 0, fmt.Errorf("migrate: prepare %s: %w", VersionTable, err)
	}
	if err := m.LoadMigrations(fsys); err != nil {
		return 0, fmt.Errorf("migrate: load migrations: %w", err)
	}
	latest := int32(len(m.Migrations))

	// OnStart fires before each migration; the previous one has committed
	// by then, so everything started except the last one is applied.
	var started []*migrate.Migration
	m.OnStart = func(seq int32, name, direction, _ string) {
		started = append(started, m.Migrations[seq-1])
		slog.DebugContext(ctx, "applying migration", "version", seq, "name", name, "direction", direction)
	}
	migrateErr := m.Migrate(ctx)
	applied := started
	if migrateErr != nil && len(applied) > 0 {
		applied = applied[:len(applied)-1]
	}
	for _, mig := range applied {
		slog.InfoContext(ctx, fmt.Sprintf("applied migration %d %s", mig.Sequence, mig.Name),
			"version", mig.Sequence, "name", mig.Name)
	}

	version, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, errors.Join(migrateErr, fmt.Errorf("migrate: read version: %w", err))
	}
	if migrateErr != nil {
		name := "?"
		if len(started) > 0 {
			name = started[len(started)-1].Name
		}
		return version, fmt.Errorf("migrate: apply %s (schema stays at version %d): %w", name, version, migrateErr)
	}
	if len(applied) == 0 {
		slog.DebugContext(ctx, "schema up to date", "version", version, "latest", latest)
	}
	return version, nil
}

// Status reports the schema version applied to the database at databaseURL
// (0 when no migration ever ran) and the latest version embedded in this
// binary. It changes nothing in the database.
func Status(ctx context.Context, databaseURL string) (current, latest int32, err error) {
	paths, err := migrate.FindMigrations(files)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate status: list migrations: %w", err)
	}
	latest = int32(len(paths))

	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, latest, fmt.Errorf("migrate status: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", VersionTable).Scan(&exists); err != nil {
		return 0, latest, fmt.Errorf("migrate status: look up %s: %w", VersionTable, err)
	}
	if !exists {
		return 0, latest, nil
	}
	if err := conn.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&current); err != nil {
		return 0, latest, fmt.Errorf("migrate status: read %s: %w", VersionTable, err)
	}
	return current, latest, nil
}
