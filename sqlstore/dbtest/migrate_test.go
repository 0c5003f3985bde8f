package dbtest

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/sqlstore"
)

func TestMigrateIsIdempotent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t)
			require.NoError(t, s.Migrate(context.Background()), "a second Migrate is a no-op")
			var n int
			require.NoError(t, db.QueryRow("SELECT count(*) FROM invitations_migrations").Scan(&n))
			assert.Equal(t, 10, n, "each migration recorded once")
		})
	}
}

func TestMigrateConcurrently(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			// Several "processes": separate Store values sharing nothing but
			// the database.
			errs := together(8, func(int) error {
				s, err := sqlstore.New(db, b.dialect)
				if err != nil {
					return err
				}
				return s.Migrate(context.Background())
			})
			for _, err := range errs {
				require.NoError(t, err)
			}
			var n int
			require.NoError(t, db.QueryRow("SELECT count(*) FROM invitations_migrations").Scan(&n))
			assert.Equal(t, 10, n)
		})
	}
}

func TestCustomTableName(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t, sqlstore.WithTable("team_invites"))
			var n int
			require.NoError(t, db.QueryRow("SELECT count(*) FROM team_invites").Scan(&n))
			require.NoError(t, db.QueryRow("SELECT count(*) FROM team_invites_migrations").Scan(&n))
			assert.Equal(t, 10, n)
			_, err := s.Get(context.Background(), "acme", [16]byte{})
			require.ErrorIs(t, err, invitations.ErrNotFound)
			_, err = db.Query("SELECT count(*) FROM invitations")
			require.Error(t, err, "nothing is created under the default name")
		})
	}
}

// TestLinkCopiedMigrationKeepsRows: migration 007 adds link_copied_at to a
// table that already holds invitations; they read back as they were, never
// copied.
func TestLinkCopiedMigrationKeepsRows(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db := b.newStore(t)
			svc := quietService(t, s)
			inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Name: "Ada", Roles: []string{"admin"},
				Metadata: map[string]string{"locale": "de"}})
			require.NoError(t, err)
			_, err = svc.CopyLink(ctx, "acme", inv.ID)
			require.NoError(t, err)
			before, err := s.Get(ctx, "acme", inv.ID)
			require.NoError(t, err)
			require.False(t, before.LinkCopiedAt.IsZero())

			// Back to the schema of migration 006, the row still in it.
			_, err = db.ExecContext(ctx, "ALTER TABLE invitations DROP COLUMN link_copied_at")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "DELETE FROM invitations_migrations WHERE version = 7")
			require.NoError(t, err)

			require.NoError(t, s.Migrate(ctx))
			after, err := s.Get(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.True(t, after.LinkCopiedAt.IsZero(), "NULL reads as never copied")
			before.LinkCopiedAt = time.Time{}
			assert.Equal(t, before, after, "every other column is kept")
		})
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	for name, call := range map[string]func() (*sqlstore.Store, error){
		"nil db":          func() (*sqlstore.Store, error) { return sqlstore.New(nil, sqlstore.SQLite) },
		"zero dialect":    func() (*sqlstore.Store, error) { return sqlstore.New(db, 0) },
		"unknown dialect": func() (*sqlstore.Store, error) { return sqlstore.New(db, 42) },
		"injection": func() (*sqlstore.Store, error) {
			return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTable("x; DROP TABLE y"))
		},
		"qualified": func() (*sqlstore.Store, error) {
			return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTable("public.invites"))
		},
		"empty table": func() (*sqlstore.Store, error) { return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTable("")) },
		"too long": func() (*sqlstore.Store, error) {
			return sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTable(strings.Repeat("t", 49)))
		},
	} {
		s, err := call()
		require.ErrorIs(t, err, invitations.ErrInvalidInput, name)
		assert.Nil(t, s)
	}
}

func TestMigrationsFilesAreTheSchema(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		files, err := fs.Glob(sqlstore.Migrations(d), "*.sql")
		require.NoError(t, err)
		require.Equal(t, []string{"001_create_invitations.sql", "002_delivery.sql", "003_search_count.sql", "004_reminders.sql", "005_limits.sql", "006_purge.sql", "007_link_copied.sql", "008_claimed.sql", "009_events.sql", "010_event_writes.sql"}, files, d.String())
		body, err := fs.ReadFile(sqlstore.Migrations(d), files[0])
		require.NoError(t, err)
		assert.Contains(t, string(body), "CREATE UNIQUE INDEX invitations_pending_email_key")
	}
	_, err := fs.ReadDir(sqlstore.Migrations(0), ".")
	require.Error(t, err, "an unknown dialect has no files")

	// Applying the files by hand, as goose would, gives a working store.
	db := openSQLite(t)
	files, err := fs.Glob(sqlstore.Migrations(sqlstore.SQLite), "*.sql")
	require.NoError(t, err)
	for _, name := range files {
		body, err := fs.ReadFile(sqlstore.Migrations(sqlstore.SQLite), name)
		require.NoError(t, err)
		_, err = db.Exec(string(body))
		require.NoError(t, err, name)
	}
	s, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = s.Get(ctx, "acme", [16]byte{})
	require.ErrorIs(t, err, invitations.ErrNotFound)
	inv, ev := revokedWithEvent(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 0)
	require.NoError(t, s.Create(ctx, inv, ev))
	history, err := s.History(ctx, "acme", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{ev.ID}, eventIDs(history), "the triggers work as applied by hand")
}
