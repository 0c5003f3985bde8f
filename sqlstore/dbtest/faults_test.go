package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// go-sqlmock stands in for the database only where a real server cannot be
// made to fail on demand: a failed commit, a connection dropped mid-call, a
// context cancelled mid-query.

func mockStore(t *testing.T, d sqlstore.Dialect) (*sqlstore.Store, sqlmock.Sqlmock) {
	t.Helper()
	db, mock, err := sqlmock.New()
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, mock.ExpectationsWereMet(), "no statement beyond the expected ones")
		db.Close()
	})
	s, err := sqlstore.New(db, d)
	require.NoError(t, err)
	return s, mock
}

func q(pattern string) string { return regexp.QuoteMeta(pattern) }

func expectMigrationStart(mock sqlmock.Sqlmock) {
	mock.ExpectExec(q("BEGIN")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(q("SELECT pg_advisory_xact_lock($1)")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(q("CREATE TABLE IF NOT EXISTS invitations_migrations")).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectQuery(q("SELECT version FROM invitations_migrations")).WillReturnRows(sqlmock.NewRows([]string{"version"}))
}

func TestMigrateFailedCommit(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	expectMigrationStart(mock)
	// Every file runs as one statement, then is recorded.
	files, err := fs.Glob(sqlstore.Migrations(sqlstore.Postgres), "*.sql")
	require.NoError(t, err)
	for _, name := range files {
		body, err := fs.ReadFile(sqlstore.Migrations(sqlstore.Postgres), name)
		require.NoError(t, err)
		firstLine, _, _ := strings.Cut(string(body), "\n")
		version, err := strconv.Atoi(name[:3])
		require.NoError(t, err)
		mock.ExpectExec(q(strings.Join(strings.Fields(firstLine), " "))).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectExec(q("INSERT INTO invitations_migrations")).WithArgs(version, name).WillReturnResult(sqlmock.NewResult(1, 1))
	}
	commitErr := errors.New("could not serialize access")
	mock.ExpectExec(q("COMMIT")).WillReturnError(commitErr)

	err = s.Migrate(context.Background())
	require.ErrorIs(t, err, commitErr)
	assert.Contains(t, err.Error(), "sqlstore: migrate: commit")
}

func TestMigrateFailedStatementRollsBack(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	expectMigrationStart(mock)
	ddlErr := errors.New(`relation "invitations" already exists`)
	mock.ExpectExec(q("CREATE TABLE invitations")).WillReturnError(ddlErr)
	mock.ExpectExec(q("ROLLBACK")).WillReturnResult(sqlmock.NewResult(0, 0))

	err := s.Migrate(context.Background())
	require.ErrorIs(t, err, ddlErr)
	assert.Contains(t, err.Error(), "001_create_invitations.sql", "the error names the migration")
}

func TestMigrateCancelledMidStatementRollsBack(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	expectMigrationStart(mock)
	mock.ExpectExec(q("CREATE TABLE invitations")).WillDelayFor(2 * time.Second).WillReturnResult(sqlmock.NewResult(0, 0))
	mock.ExpectExec(q("ROLLBACK")).WillReturnResult(sqlmock.NewResult(0, 0))

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Migrate(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConnectionDroppedMidUpdate(t *testing.T) {
	s, mock := mockStore(t, sqlstore.SQLite)
	mock.ExpectPrepare(q("UPDATE invitations SET")).ExpectExec().WillReturnError(io.ErrUnexpectedEOF)

	inv := &invitations.Invitation{ID: uuid.New(), AccountID: "acme", Roles: []string{"admin"}, Version: 2, Token: invitations.TokenMaterial{Hash: make([]byte, 32)}}
	err := s.Update(context.Background(), inv, 1, nil)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.NotErrorIs(t, err, invitations.ErrConflict, "a broken connection is not a lost race: the Service must not retry it as one")
	assert.NotErrorIs(t, err, invitations.ErrNotFound)
	assert.Contains(t, err.Error(), "sqlstore: update")
}

func TestCreateWithBrokenResult(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	resultErr := errors.New("connection reset by peer")
	mock.ExpectPrepare(q("INSERT INTO invitations")).ExpectExec().WillReturnResult(sqlmock.NewErrorResult(resultErr))

	inv := &invitations.Invitation{ID: uuid.New(), AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}, State: invitations.StatusPending}
	err := s.Create(context.Background(), inv, nil)
	require.ErrorIs(t, err, resultErr)
	assert.NotErrorIs(t, err, invitations.ErrAlreadyInvited)
}

func TestListRowErrorReturnsNoPartialPage(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	cols := []string{"id", "account_id", "email", "name", "roles", "invited_by", "metadata", "state", "created_at", "sent_at",
		"expires_at", "accepted_at", "declined_at", "revoked_at", "send_count", "version",
		"delivery_due", "delivery_attempts", "delivery_last_error", "delivery_next_at", "delivered_at", "delivery_failed_at",
		"delivery_reminded_at", "link_copied_at", "delivery_claimed_at", "key_id", "token_nonce", "token_hash"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rowErr := errors.New("server closed the connection unexpectedly")
	rows := sqlmock.NewRows(cols).
		AddRow(uuid.NewString(), "acme", "a@example.com", "", `["admin"]`, "", "{}", "pending", now, now, now, nil, nil, nil, 1, 1, "", 0, "", nil, nil, nil, nil, nil, nil, "k", []byte("n"), []byte("h")).
		AddRow(uuid.NewString(), "acme", "b@example.com", "", `["admin"]`, "", "{}", "pending", now, now, now, nil, nil, nil, 1, 1, "", 0, "", nil, nil, nil, nil, nil, nil, "k", []byte("n"), []byte("h")).
		RowError(1, rowErr)
	mock.ExpectPrepare(q("SELECT id, account_id")).ExpectQuery().WillReturnRows(rows)

	page, err := s.List(context.Background(), invitations.ListFilter{AccountID: "acme", Now: now, Limit: 10})
	require.ErrorIs(t, err, rowErr)
	assert.Nil(t, page, "a page cut short is not returned as if complete")
}

func TestCancelledMidQuery(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	mock.ExpectPrepare(q("SELECT id, account_id")).ExpectQuery().WillDelayFor(2 * time.Second).WillReturnRows(sqlmock.NewRows([]string{"id"}))

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err := s.GetByTokenHash(ctx, make([]byte, 32))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, invitations.ErrNotFound, "a cancelled lookup is not an unknown token")
}

// TestFailedPrepareIsRetried: a statement that could not be prepared (the
// connection dropped) is not remembered; the next call prepares again.
func TestFailedPrepareIsRetried(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	mock.ExpectPrepare(q("SELECT id, account_id")).WillReturnError(io.ErrUnexpectedEOF)
	mock.ExpectPrepare(q("SELECT id, account_id")).ExpectQuery().WillReturnRows(sqlmock.NewRows([]string{"id"}))

	_, err := s.GetByTokenHash(context.Background(), make([]byte, 32))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = s.GetByTokenHash(context.Background(), make([]byte, 32))
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

// TestServiceOnBrokenStore: a store fault reaches the caller as a store
// error; nothing is mailed and no event is emitted for a change that was
// not stored.
func TestServiceOnBrokenStore(t *testing.T) {
	s, mock := mockStore(t, sqlstore.Postgres)
	mock.ExpectPrepare(q("INSERT INTO invitations")).ExpectExec().WillReturnError(io.ErrUnexpectedEOF)
	mailer := invitationstest.NewMailer()
	events := 0
	svc, err := invitations.New(s, mailer, invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept",
		OnEvent: func(context.Context, invitations.Event) { events++ },
	})
	require.NoError(t, err)
	_, err = svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "invitations: store")
	assert.Empty(t, mailer.Messages())
	assert.Zero(t, events)
}

// TestFailedMigrationLeavesNothing runs on the real databases: a migration
// that fails half way (an index name already taken) leaves neither the
// table nor a record, and works once the obstacle is gone.
func TestFailedMigrationLeavesNothing(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			ctx := context.Background()
			_, err := db.ExecContext(ctx, "CREATE TABLE obstacle (x integer)")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "CREATE INDEX invitations_account_state_created_idx ON obstacle (x)")
			require.NoError(t, err)
			s, err := sqlstore.New(db, b.dialect)
			require.NoError(t, err)

			require.Error(t, s.Migrate(ctx))
			assertNoTable(t, db, "invitations")
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM invitations_migrations").Scan(&n); err == nil {
				assert.Zero(t, n, "no migration recorded")
			}

			_, err = db.ExecContext(ctx, "DROP TABLE obstacle")
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))
		})
	}
}

func assertNoTable(t *testing.T, db *sql.DB, table string) {
	t.Helper()
	rows, err := db.Query("SELECT 1 FROM " + table)
	if err == nil {
		rows.Close()
	}
	assert.Error(t, err, "table %s must not exist", table)
}
