// Command sql keeps invitations in a SQL database, on a SQLite file by
// default or on PostgreSQL, and accepts one the way an app should: the
// acceptance and the new membership in one transaction, so that a failed
// insert leaves the link working.
//
//	go run ./examples/sql                                  # a new SQLite file in the temp directory
//	go run ./examples/sql -sqlite ./invitations.db         # a SQLite file of your choice
//	go run ./examples/sql -postgres 'postgres://user@localhost:5432/app?sslmode=disable'
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver, no cgo needed

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

func main() {
	sqlitePath := flag.String("sqlite", "", "SQLite database file (default: a new file in the temp directory)")
	postgresDSN := flag.String("postgres", "", "PostgreSQL connection URL; when set, SQLite is not used")
	flag.Parse()
	if err := run(os.Stdout, *sqlitePath, *postgresDSN); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer, sqlitePath, postgresDSN string) error {
	db, dialect, where, err := open(sqlitePath, postgresDSN)
	if err != nil {
		return err
	}
	defer db.Close()

	store, err := sqlstore.New(db, dialect)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "Invitations stored in %s.\n", where)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS memberships (
		account_id TEXT NOT NULL, email TEXT NOT NULL, roles TEXT NOT NULL, PRIMARY KEY (account_id, email))`); err != nil {
		return err
	}
	mailer := invitationstest.NewMailer() // keeps the mail, to read the link back
	svc, err := invitations.New(store, mailer, invitations.Config{
		Secret:    []byte("sql-example-secret-0123456789abcdef"), // in production: 32+ random bytes from your vault
		AcceptURL: "https://app.example.com/invitations/accept",
		Limits:    invitations.RecommendedLimits,
	})
	if err != nil {
		return err
	}
	// A fresh account per run, so the example can run again on the same
	// database (one pending invitation per email and account).
	account := "acme-" + rand.Text()[:6]
	inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: account, Email: "ada@example.com", Roles: []string{"admin"}, InvitedBy: "Grace"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Invited %s into %s, link valid until %s.\n", inv.Email, account, inv.ExpiresAt.Format(time.RFC1123))
	token, err := invitationstest.TokenFromLink(mailer.Last().Link)
	if err != nil {
		return err
	}

	// Ada accepts: the acceptance and her membership commit together.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	accepted, err := svc.InTx(store.WithTx(tx)).Accept(ctx, token)
	if err != nil {
		return err // expired, already used, ...: nothing changed
	}
	roles := strings.Join(accepted.Roles, ",")
	insert := "INSERT INTO memberships (account_id, email, roles) VALUES ($1, $2, $3)" // both drivers take $N
	if _, err := tx.ExecContext(ctx, insert, accepted.AccountID, accepted.Email, roles); err != nil {
		return err // rolled back: the invitation is still pending, the link still works
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	got, err := svc.Get(ctx, account, inv.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is %s and a member of %s as %s.\n", got.Email, got.State, got.AccountID, roles)
	return nil
}

func open(sqlitePath, postgresDSN string) (*sql.DB, sqlstore.Dialect, string, error) {
	if postgresDSN != "" {
		db, err := sql.Open("pgx", postgresDSN)
		return db, sqlstore.Postgres, "PostgreSQL", err
	}
	if sqlitePath == "" {
		dir, err := os.MkdirTemp("", "invitations-example-")
		if err != nil {
			return nil, 0, "", err
		}
		sqlitePath = filepath.Join(dir, "invitations.db")
	}
	// WAL lets readers and the writer work at once; the busy timeout makes
	// concurrent writers wait instead of failing with "database is locked".
	dsn := "file:" + sqlitePath + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	return db, sqlstore.SQLite, "SQLite file " + sqlitePath, err
}
