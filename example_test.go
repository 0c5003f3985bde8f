package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

// exampleService wires a Service for the examples: memstore, a recording
// mailer and a fake clock starting on 2 November 2026 at 09:00 UTC.
func exampleService() (*invitations.Service, *invitationstest.Mailer, *invitationstest.Clock) {
	clock := invitationstest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	mailer := invitationstest.NewMailer()
	svc, err := invitations.New(memstore.New(), mailer, invitations.Config{
		Secret:    []byte("an example secret of 32 bytes or more, from your vault"),
		AcceptURL: "https://app.example.com/invitations/accept",
		Now:       clock.Now,
	})
	if err != nil {
		panic(err)
	}
	return svc, mailer, clock
}

func ExampleService_Invite() {
	svc, mailer, _ := exampleService()
	ctx := context.Background()

	inv, err := svc.Invite(ctx, invitations.InviteInput{
		AccountID: "acme",
		Email:     "Ada@Example.com",
		Roles:     []string{"admin", "billing"},
		InvitedBy: "Grace Hopper",
	})
	if err != nil {
		fmt.Println("invite failed:", err)
		return
	}
	fmt.Println("invited:", inv.Email, inv.Roles)
	fmt.Println("status:", inv.StatusAt(inv.CreatedAt))
	fmt.Println("expires:", inv.ExpiresAt.Format(time.RFC1123))

	msg := mailer.Last()
	fmt.Println("mailed:", msg.Kind, "to", msg.To)
	fmt.Println("subject:", msg.Subject)
	fmt.Println("link:", strings.HasPrefix(msg.Link, "https://app.example.com/invitations/accept?token="))

	_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"viewer"}})
	var already *invitations.AlreadyInvitedError
	if errors.As(err, &already) {
		fmt.Println("second invite refused; existing invitation is the same:", already.ExistingID == inv.ID)
	}
	// Output:
	// invited: ada@example.com [admin billing]
	// status: pending
	// expires: Mon, 09 Nov 2026 09:00:00 UTC
	// mailed: invite to ada@example.com
	// subject: Grace Hopper invited you to join acme
	// link: true
	// second invite refused; existing invitation is the same: true
}

func ExampleService_Resend() {
	svc, mailer, clock := exampleService()
	ctx := context.Background()
	inv, _ := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	firstLink := mailer.Last().Link

	clock.Advance(3 * 24 * time.Hour)
	inv, err := svc.Resend(ctx, "acme", inv.ID)
	if err != nil {
		fmt.Println("resend failed:", err)
		return
	}
	fmt.Println("mailed:", mailer.Last().Kind, "same link:", mailer.Last().Link == firstLink)
	fmt.Println("expires:", inv.ExpiresAt.Format(time.RFC1123))

	clock.Advance(8 * 24 * time.Hour)
	_, err = svc.Resend(ctx, "acme", inv.ID)
	fmt.Println("after expiry:", errors.Is(err, invitations.ErrExpired))
	// Output:
	// mailed: resend same link: true
	// expires: Thu, 12 Nov 2026 09:00:00 UTC
	// after expiry: true
}

func ExampleService_CopyLink() {
	svc, mailer, clock := exampleService()
	ctx := context.Background()
	inv, _ := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})

	link, err := svc.CopyLink(ctx, "acme", inv.ID)
	if err != nil {
		fmt.Println("copy failed:", err)
		return
	}
	fmt.Println("same link as mailed:", link == mailer.Last().Link)
	inv, _ = svc.Get(ctx, "acme", inv.ID)
	fmt.Println("copy recorded:", !inv.LinkCopiedAt.IsZero())

	clock.Advance(7 * 24 * time.Hour)
	_, err = svc.CopyLink(ctx, "acme", inv.ID)
	fmt.Println(err)
	// Output:
	// same link as mailed: true
	// copy recorded: true
	// invitations: invitation expired: regenerate it to get a new link
}

func ExampleService_Regenerate() {
	svc, mailer, clock := exampleService()
	ctx := context.Background()
	inv, _ := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	oldToken, _ := invitationstest.TokenFromLink(mailer.Last().Link)

	_, err := svc.Regenerate(ctx, "acme", inv.ID)
	fmt.Println("while valid:", errors.Is(err, invitations.ErrNotExpired))

	clock.Advance(10 * 24 * time.Hour)
	inv, err = svc.Regenerate(ctx, "acme", inv.ID)
	if err != nil {
		fmt.Println("regenerate failed:", err)
		return
	}
	fmt.Println("mailed:", mailer.Last().Kind, "expires:", inv.ExpiresAt.Format(time.DateOnly))
	_, err = svc.Lookup(ctx, oldToken)
	fmt.Println("old link:", err)
	// Output:
	// while valid: true
	// mailed: regenerate expires: 2026-11-19
	// old link: invitations: invalid invitation token: unknown or superseded
}

func ExampleService_Accept() {
	svc, mailer, clock := exampleService()
	ctx := context.Background()
	_, _ = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})

	// The accept page reads the token from the link's query.
	token, _ := invitationstest.TokenFromLink(mailer.Last().Link)
	clock.Advance(2 * time.Hour)
	inv, err := svc.Accept(ctx, token)
	if err != nil {
		fmt.Println("accept failed:", err)
		return
	}
	// Now grant inv.Roles in inv.AccountID to the user signing in as inv.Email.
	fmt.Println(inv.State, inv.AccountID, inv.Roles, inv.AcceptedAt.Format(time.Kitchen))

	_, err = svc.Accept(ctx, token)
	fmt.Println("again:", err)
	// Output:
	// accepted acme [admin] 11:00AM
	// again: invitations: invitation no longer pending
}

// The "•••" menu of the Users page: Actions lists exactly what will
// succeed now, here after the secret that issued the link was dropped.
func ExampleService_Actions() {
	svc, _, clock := exampleService()
	ctx := context.Background()
	inv, _ := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	fmt.Println("valid:", svc.Actions(inv))

	clock.Advance(8 * 24 * time.Hour)
	fmt.Println("expired:", svc.Actions(inv))

	rotated, _ := invitations.New(memstore.New(), invitationstest.NewMailer(), invitations.Config{
		Secret:    []byte("a new secret of 32 bytes or more, the old one dropped"),
		AcceptURL: "https://app.example.com/invitations/accept",
		Now:       clock.Now,
	})
	clock.Advance(-8 * 24 * time.Hour)
	fmt.Println("valid, secret dropped:", rotated.Actions(inv))
	fmt.Println("the rule alone:", inv.ActionsAt(clock.Now()))
	// Output:
	// valid: [resend copy_link update_roles revoke]
	// expired: [regenerate update_roles revoke]
	// valid, secret dropped: [regenerate update_roles revoke]
	// the rule alone: [resend copy_link update_roles revoke]
}

// IsMember lets the Service refuse an email that already belongs to the
// account; WithActor names the admin in the events an audit log records.
func ExampleConfig_isMember() {
	mailer := invitationstest.NewMailer()
	svc, _ := invitations.New(memstore.New(), mailer, invitations.Config{
		Secret:    []byte("an example secret of 32 bytes or more, from your vault"),
		AcceptURL: "https://app.example.com/invitations/accept",
		IsMember: func(_ context.Context, accountID, email string) (bool, error) {
			return accountID == "acme" && email == "grace@example.com", nil // your membership table
		},
		OnEvent: func(_ context.Context, e invitations.Event) {
			fmt.Println("audit:", e.Kind, e.Invitation.Email, "by", e.Actor)
		},
	})
	ctx := invitations.WithActor(context.Background(), "linus@acme.test")

	_, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "Grace@Example.com", Roles: []string{"admin"}})
	fmt.Println("member refused:", errors.Is(err, invitations.ErrAlreadyMember))
	_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	fmt.Println("invited:", err == nil, "mails:", len(mailer.Messages()))
	// Output:
	// member refused: true
	// audit: invited ada@example.com by linus@acme.test
	// audit: delivered ada@example.com by linus@acme.test
	// invited: true mails: 1
}

// Limits shut off the invitation form as a spam vector: over a limit
// nothing is stored or sent, and the error says when to try again.
func ExampleConfig_limits() {
	clock := invitationstest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	svc, err := invitations.New(memstore.New(), invitationstest.NewMailer(), invitations.Config{
		Secret:    []byte("an example secret of 32 bytes or more, from your vault"),
		AcceptURL: "https://app.example.com/invitations/accept",
		Now:       clock.Now,
		Limits:    invitations.Limits{MailsPerAccountPerDay: 2, ResendCooldown: time.Minute},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	invite := func(email string) (*invitations.Invitation, error) {
		return svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: email, Roles: []string{"member"}})
	}

	ada, _ := invite("ada@example.com")
	clock.Advance(20 * time.Second)
	_, err = svc.Resend(ctx, "acme", ada.ID)
	var limited *invitations.RateLimitedError
	if errors.As(err, &limited) {
		fmt.Println("resend:", limited.Limit, "retry after", limited.RetryAfter)
	}

	clock.Advance(time.Hour)
	_, _ = invite("bob@example.com")
	_, err = invite("cy@example.com")
	if errors.As(err, &limited) {
		fmt.Println("invite:", limited.Limit, "retry after", limited.RetryAfter)
	}
	fmt.Println(errors.Is(err, invitations.ErrRateLimited))
	// Output:
	// resend: resend_cooldown retry after 40s
	// invite: mails_per_account_per_day retry after 22h59m40s
	// true
}
