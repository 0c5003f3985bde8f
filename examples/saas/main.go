// Command saas is the product this library models, runnable: Settings >
// Users with invitations, the invitee's page with registration, on
// SQLite, in one binary with plain HTML, CSS and JavaScript.
//
//	go run ./examples/saas                       # http://127.0.0.1:8080, mail in the page's outbox
//	go run ./examples/saas -smtp 127.0.0.1:1025  # also mail through an SMTP server (Mailpit)
//
// The page's script uses only invitationshttp's admin API for
// invitations; /demo/... serves the members list, the outbox and the
// demo clock, which a real app would not have.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/smtpmailer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := flag.String("db", filepath.Join(os.TempDir(), "invitations-saas.db"), "SQLite file")
	smtpAddr := flag.String("smtp", "", "also send mail through this SMTP server (host:port); plain text only to loopback")
	smtpTLS := flag.String("smtp-tls", "none", "none, starttls or tls")
	smtpUser := flag.String("smtp-user", "", "SMTP user; the password is read from $SMTP_PASSWORD")
	smtpFrom := flag.String("smtp-from", "invitations@acme.test", "sender address")
	flag.Parse()
	if err := run(*addr, *dbPath, *smtpAddr, *smtpTLS, *smtpUser, *smtpFrom); err != nil {
		log.Fatal(err)
	}
}

func run(addr, dbPath, smtpAddr, smtpTLS, smtpUser, smtpFrom string) error {
	db, err := openDB(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := loadSecret(dbPath + ".secret")
	if err != nil {
		return err
	}
	var relay *smtpRelay
	if smtpAddr != "" {
		if relay, err = newSMTPRelay(smtpAddr, smtpTLS, smtpUser, os.Getenv("SMTP_PASSWORD"), smtpFrom); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	a, err := newApp(context.Background(), config{db: db, baseURL: base, mailer: relay, secret: secret, every: time.Second})
	if err != nil {
		return err
	}
	log.Printf("Settings > Users at %s (database %s)", base, dbPath)
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// openDB opens SQLite as the README says: WAL, a busy timeout, and
// IMMEDIATE transactions for the accept-and-join transaction.
func openDB(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
}

// loadSecret reads the token secret kept beside the database, making one on
// the first run, so that links survive a restart.
func loadSecret(path string) ([]byte, error) {
	secret, err := os.ReadFile(path)
	if err == nil && len(secret) >= invitations.MinSecretSize {
		return secret, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	secret = make([]byte, 32)
	_, _ = rand.Read(secret)
	return secret, os.WriteFile(path, secret, 0o600)
}

// smtpRelay sends the outbox's mail on to an SMTP server.
type smtpRelay struct{ *smtpmailer.Mailer }

func newSMTPRelay(addr, mode, user, password, from string) (*smtpRelay, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-smtp: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("-smtp: bad port %q", portText)
	}
	tls := map[string]smtpmailer.TLSMode{"none": smtpmailer.NoTLS, "starttls": smtpmailer.StartTLS, "tls": smtpmailer.ImplicitTLS}
	tlsMode, ok := tls[mode]
	if !ok {
		return nil, fmt.Errorf("-smtp-tls: %q is not none, starttls or tls", mode)
	}
	m, err := smtpmailer.New(smtpmailer.Config{Host: host, Port: port, TLS: tlsMode, Username: user, Password: password,
		From: from, FromName: accountName})
	if err != nil {
		return nil, err
	}
	return &smtpRelay{m}, nil
}
