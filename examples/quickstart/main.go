// Command quickstart walks through the whole invitation story on the
// in-memory store, with a fake clock to jump through the seven days:
// invite, copy the link, resend, expire, regenerate, accept, list.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run tells the story, writing it to out.
func run(out io.Writer) error {
	const account = "acme"
	step := func(format string, args ...any) { fmt.Fprintf(out, "\n"+format+"\n", args...) }
	say := func(format string, args ...any) { fmt.Fprintf(out, "    "+format+"\n", args...) }
	ctx := context.Background()
	clock := invitationstest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	svc, err := invitations.New(memstore.New(), narrating(out), invitations.Config{
		// In production: 32+ random bytes from your secret store.
		Secret:    []byte("quickstart-secret-0123456789abcdef"),
		AcceptURL: "https://app.example.com/invitations/accept",
		Now:       clock.Now,
		// Where users sign up by themselves, an invitation form is a spam
		// vector: cap each account's mail (500 a day), space out resends
		// (a minute) and cap its working links (10,000).
		Limits: invitations.RecommendedLimits,
	})
	if err != nil {
		return err
	}
	when := func(t time.Time) string { return t.Format("Mon 2 Jan 15:04") }

	step("1. %s — Grace invites Ada into the %q account as admin.", when(clock.Now()), account)
	ada, err := svc.Invite(ctx, invitations.InviteInput{
		AccountID: account, Email: "ada@example.com", Name: "Ada", Roles: []string{"admin"}, InvitedBy: "Grace",
	})
	if err != nil {
		return err
	}
	say("status %s, link valid until %s", ada.StatusAt(clock.Now()), when(ada.ExpiresAt))

	step("2. Grace copies the link to send it over chat as well.")
	link, err := svc.CopyLink(ctx, account, ada.ID)
	if err != nil {
		return err
	}
	say("copied %s (the same link as mailed)", shorten(link))

	clock.Advance(3 * 24 * time.Hour)
	step("3. %s — three days later, no answer: Grace resends.", when(clock.Now()))
	ada, err = svc.Resend(ctx, account, ada.ID)
	if err != nil {
		return err
	}
	say("same link, expiry moved to %s (sent %d times)", when(ada.ExpiresAt), ada.SendCount)

	clock.Set(ada.ExpiresAt.Add(time.Hour))
	step("4. %s — the link has expired.", when(clock.Now()))
	say("status %s; the admin menu offers %v", ada.StatusAt(clock.Now()), ada.ActionsAt(clock.Now()))
	oldToken, _ := invitationstest.TokenFromLink(link)
	if _, err := svc.Resend(ctx, account, ada.ID); errors.Is(err, invitations.ErrExpired) {
		say("resend refused: %v", err)
	}
	if _, err := svc.Lookup(ctx, oldToken); errors.Is(err, invitations.ErrExpired) {
		say("Ada's accept page says: this invitation expired, ask your administrator for a new one")
	}

	step("5. Grace sends a new invitation (Regenerate).")
	ada, err = svc.Regenerate(ctx, account, ada.ID)
	if err != nil {
		return err
	}
	say("new link, valid until %s", when(ada.ExpiresAt))
	if _, err := svc.Lookup(ctx, oldToken); errors.Is(err, invitations.ErrInvalidToken) {
		say("the old link is dead: invalid, not expired")
	}
	newLink, err := svc.CopyLink(ctx, account, ada.ID)
	if err != nil {
		return err
	}

	clock.Advance(2 * time.Hour)
	step("6. %s — Ada opens the new link and accepts.", when(clock.Now()))
	token, err := invitationstest.TokenFromLink(newLink)
	if err != nil {
		return err
	}
	ada, err = svc.Accept(ctx, token)
	if err != nil {
		return err
	}
	say("%s: grant %v in %q to %s", ada.State, ada.Roles, ada.AccountID, ada.Email)

	step("7. Meanwhile Grace invited two more people; one of them is revoked.")
	for _, email := range []string{"bob@example.com", "cy@example.com"} {
		if _, err := svc.Invite(ctx, invitations.InviteInput{AccountID: account, Email: email, Roles: []string{"viewer"}, InvitedBy: "Grace"}); err != nil {
			return err
		}
	}
	page, err := svc.List(ctx, invitations.ListQuery{AccountID: account, Limit: 10})
	if err != nil {
		return err
	}
	if _, err := svc.Revoke(ctx, account, page.Invitations[0].ID); err != nil {
		return err
	}

	step("8. Settings > Users, invitations newest first:")
	page, err = svc.List(ctx, invitations.ListQuery{AccountID: account})
	if err != nil {
		return err
	}
	for _, inv := range page.Invitations {
		say("%-18s %-9s %v", inv.Email, inv.StatusAt(clock.Now()), inv.Roles)
	}
	return nil
}

// narrating is the Mailer: it prints each mail instead of sending it, the
// link shortened (even a demo should not spill whole tokens into
// terminals and logs).
func narrating(out io.Writer) invitations.MailerFunc {
	return func(_ context.Context, msg invitations.Message) error {
		fmt.Fprintf(out, "    ✉  to %s: %q\n       link %s\n", msg.To, msg.Subject, shorten(msg.Link))
		return nil
	}
}

func shorten(link string) string {
	i := strings.Index(link, "token=")
	if i < 0 || len(link) < i+18 {
		return link
	}
	return link[:i+18] + "…"
}
