package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the schema as numbered SQL files (001_name.sql, ...)
// for the dialect, with the default table name "invitations", for teams
// that apply migrations with goose, atlas or their own tool. Migrate
// applies the same files.
func Migrations(d Dialect) fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations/"+d.String())
	if err != nil {
		// Only an invalid Dialect gets here: give it an empty FS.
		return emptyFS{}
	}
	return sub
}

type emptyFS struct{}

func (emptyFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// migration is one numbered schema file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the dialect's files in version order, with the table
// name substituted for "invitations".
func (s *Store) migrations() ([]migration, error) {
	files := Migrations(s.dialect)
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || path.Ext(name) != ".sql" {
			continue
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: reading migration %s: %w", name, err)
		}
		out = append(out, migration{version, name, strings.ReplaceAll(string(body), DefaultTable, s.table)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// Migrate brings the schema up to date: it applies, in one transaction,
// the migrations not yet recorded in the TABLE_migrations table. It is
// idempotent and safe to run from several processes at once: PostgreSQL
// serializes them with a transaction-scoped advisory lock, SQLite with
// BEGIN IMMEDIATE (waiting up to the connection's busy timeout, at least
// five seconds).
func (s *Store) Migrate(ctx context.Context) error {
	pending, err := s.migrations()
	if err != nil {
		return err
	}
	conn, err := s.connect(ctx)
	if err != nil {
		return fail(ctx, "migrate", err)
	}
	defer conn.Close()

	commit, rollback, err := s.lockForMigration(ctx, conn)
	if err != nil {
		return fail(ctx, "migrate", err)
	}
	if err := s.applyMigrations(ctx, conn, pending); err != nil {
		return errors.Join(fail(ctx, "migrate", err), rollback())
	}
	if err := commit(); err != nil {
		return fail(ctx, "migrate: commit", err)
	}
	return nil
}

// connect takes a connection for the migration. On SQLite, opening a
// connection to a brand-new file runs the DSN's pragmas (journal_mode(WAL)
// switches the file's mode) and can fail with SQLITE_BUSY, without waiting
// for the busy timeout, while another process does the same: the first
// Migrate of several starting together. It is retried for a few seconds.
func (s *Store) connect(ctx context.Context) (*sql.Conn, error) {
	delay := 5 * time.Millisecond
	for waited := time.Duration(0); ; waited += delay {
		conn, err := s.db.Conn(ctx)
		if err == nil || s.dialect != SQLite || !strings.Contains(err.Error(), "database is locked") || waited > 5*time.Second {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// lockForMigration opens the migration transaction on conn and takes the
// lock that makes concurrent migrators wait for each other.
func (s *Store) lockForMigration(ctx context.Context, conn *sql.Conn) (commit, rollback func() error, err error) {
	// Statements run on conn with Exec rather than a *sql.Tx because
	// SQLite needs BEGIN IMMEDIATE, which database/sql cannot ask for.
	exec := func(query string, args ...any) error {
		_, err := conn.ExecContext(ctx, query, args...)
		return err
	}
	// Roll back and commit without ctx: a cancelled migration must still
	// release its lock.
	end := func(stmt string) func() error {
		return func() error {
			_, err := conn.ExecContext(context.WithoutCancel(ctx), stmt)
			return err
		}
	}
	if s.dialect == SQLite {
		var timeout int
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
			return nil, nil, err
		}
		if timeout < 5000 {
			if err := exec("PRAGMA busy_timeout = 5000"); err != nil {
				return nil, nil, err
			}
		}
		if err := exec("BEGIN IMMEDIATE"); err != nil {
			return nil, nil, err
		}
		return end("COMMIT"), end("ROLLBACK"), nil
	}
	if err := exec("BEGIN"); err != nil {
		return nil, nil, err
	}
	h := fnv.New64a()
	h.Write([]byte("invitekit/invitations migrate " + s.table))
	if err := exec("SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
		return nil, nil, errors.Join(err, end("ROLLBACK")())
	}
	return end("COMMIT"), end("ROLLBACK"), nil
}

func (s *Store) applyMigrations(ctx context.Context, conn *sql.Conn, all []migration) error {
	record := s.table + "_migrations"
	created := "timestamptz NOT NULL DEFAULT now()"
	if s.dialect == SQLite {
		created = "TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP"
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+record+
		" (version integer PRIMARY KEY, name text NOT NULL, applied_at "+created+")"); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM "+record)
	if err != nil {
		return err
	}
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		if _, err := conn.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO "+record+" (version, name) VALUES ("+
			s.dialect.param(1)+", "+s.dialect.param(2)+")", m.version, m.name); err != nil {
			return fmt.Errorf("%s: recording: %w", m.name, err)
		}
	}
	return nil
}
