// Command sql tells the quick-start story on sqlstore: on a SQLite file by
// default, or on PostgreSQL.
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
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver, no cgo needed

	"github.com/invitekit/invitations/examples/internal/story"
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
	// A fresh account per run, so the story can be told again on the same
	// database (one pending invitation per email and account).
	account := "acme-" + rand.Text()[:6]
	return story.Run(out, store, account, nil)
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
