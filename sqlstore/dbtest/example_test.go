package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// Store.WithTx: accept an invitation and grant the membership in one
// transaction. If the membership insert fails, the rollback leaves the
// invitation pending and its link working.
func Example_withTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	db, _ := sql.Open("sqlite", sqliteDSN(filepath.Join(dir, "app.db"))) // _txlock=immediate
	defer db.Close()
	store, _ := sqlstore.New(db, sqlstore.SQLite)
	_ = store.Migrate(ctx)
	_, _ = db.ExecContext(ctx, "CREATE TABLE members (account_id TEXT, email TEXT, role TEXT, PRIMARY KEY (account_id, email))")
	mailer := invitationstest.NewMailer()
	svc, _ := invitations.New(store, mailer, invitations.Config{
		Secret:    []byte("an example secret of 32 bytes or more, from your vault"),
		AcceptURL: "https://app.example.com/invitations/accept",
	})

	// Create the invitation with the host's own write, then mail it after commit.
	tx, _ := db.BeginTx(ctx, nil)
	inv, _ := svc.InTx(store.WithTx(tx)).Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	fmt.Println("mailed inside the transaction:", len(mailer.Messages()))
	_ = tx.Commit()
	inv, _ = svc.Deliver(ctx, "acme", inv.ID)
	fmt.Println("mailed after commit:", len(mailer.Messages()), "due:", inv.Delivery.Due == "")

	// The invitee accepts; the membership is written in the same transaction.
	token, _ := invitationstest.TokenFromLink(mailer.Last().Link)
	tx, _ = db.BeginTx(ctx, nil)
	accepted, err := svc.InTx(store.WithTx(tx)).Accept(ctx, token)
	if err == nil {
		_, err = tx.ExecContext(ctx, "INSERT INTO members VALUES (?, ?, ?)", accepted.AccountID, accepted.Email, accepted.Roles[0])
	}
	if err != nil {
		_ = tx.Rollback() // the link still works
		fmt.Println("failed:", err)
		return
	}
	_ = tx.Commit()
	var role string
	_ = db.QueryRowContext(ctx, "SELECT role FROM members WHERE email = ?", "ada@example.com").Scan(&role)
	fmt.Println("member with role:", role)
	// Output:
	// mailed inside the transaction: 0
	// mailed after commit: 1 due: true
	// member with role: admin
}
