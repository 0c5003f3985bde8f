package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/invitekit/invitations/internal/netdelay"
	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/sqlstore"
)

// sqliteDSN opens a database file in WAL mode with a busy timeout, and
// begins transactions IMMEDIATE (for Store.WithTx), as the
// README recommends, so that concurrent writers wait instead of failing.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(t.TempDir(), "invitations.db")))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

var schemaSeq atomic.Int64

// openPostgres returns a connection pool whose search_path is a schema of
// the test's own, dropped when the test ends, so tests can run in parallel.
// Without a server it skips locally and fails in CI.
func openPostgres(t testing.TB) *sql.DB { return openPostgresAt(t, 0) }

// openPostgresAt is openPostgres with the pool's connections going through
// a link of the given round trip (internal/netdelay); 0 is loopback.
func openPostgresAt(t testing.TB, rtt time.Duration) *sql.DB {
	t.Helper()
	dsn := servers.PostgresDSN(t)
	schema := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer admin.Close()
	ctx := context.Background()
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err, "creating the test schema")
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", dsn)
		if err == nil {
			_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		}
	})
	if rtt > 0 {
		u, err := url.Parse(dsn)
		require.NoError(t, err, "a link needs a URL DSN")
		u.Host = netdelay.Relay(t, u.Host, rtt)
		dsn = u.String()
	}
	db, err := sql.Open("pgx", withSearchPath(dsn, schema))
	require.NoError(t, err)
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { db.Close() })
	return db
}

func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " search_path=" + schema
}

// backend is one real database the tests run on.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	open    func(testing.TB) *sql.DB
}

var (
	sqliteBackend = backend{"SQLite", sqlstore.SQLite, openSQLite}
	backends      = []backend{sqliteBackend, {"Postgres", sqlstore.Postgres, openPostgres}}
)

// postgresThrough is the PostgreSQL backend with its connections going
// through a link of the given round trip (internal/netdelay), named
// "Postgres/loopback" or "Postgres/rtt=...".
func postgresThrough(rtt time.Duration) backend {
	return backend{"Postgres/" + netdelay.Name(rtt), sqlstore.Postgres, func(t testing.TB) *sql.DB { return openPostgresAt(t, rtt) }}
}

// newStore opens a fresh database of the backend and migrates it.
func (b backend) newStore(t testing.TB, opts ...sqlstore.Option) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db := b.open(t)
	s, err := sqlstore.New(db, b.dialect, opts...)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s, db
}
