package invitations_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

// The host's policy: which roles an account has and what it is called
// come from the host's own data, not from the request.
func ExampleConfig_roles() {
	mailer := invitationstest.NewMailer()
	svc, err := invitations.New(memstore.New(), mailer, invitations.Config{
		Secret:    []byte("an example secret of 32 bytes or more, from your vault"),
		AcceptURL: "https://app.example.com/invitations/accept",
		Roles: func(ctx context.Context, accountID string) ([]string, error) {
			return []string{"admin", "member"}, nil // your account's groups
		},
		AccountName: func(ctx context.Context, accountID string) (string, error) {
			return "Acme Inc.", nil // your account's name
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"owner"}})
	var input *invitations.InputError
	if errors.As(err, &input) {
		fmt.Println("refused:", input.Field)
	}
	_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"},
		Metadata: map[string]string{invitations.MetadataAccountName: "PayPal Security"}})
	if errors.As(err, &input) {
		fmt.Println("refused:", input.Field)
	}
	_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
	fmt.Println(err, mailer.Last().Subject)
	// Output:
	// refused: roles
	// refused: metadata
	// <nil> An administrator invited you to join Acme Inc.
}

// A signed-in person accepts only an invitation for their own email; a
// stranger holding the link learns nothing about it.
func ExampleService_AcceptAs() {
	svc, mailer, _ := exampleService()
	ctx := context.Background()
	if _, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}}); err != nil {
		panic(err)
	}
	token, _ := invitationstest.TokenFromLink(mailer.Last().Link)

	inv, err := svc.AcceptAs(ctx, token, "grace@acme.test") // an admin who copied the link
	fmt.Println(inv == nil, errors.Is(err, invitations.ErrEmailMismatch))
	inv, err = svc.AcceptAs(ctx, token, "Ada@Example.com")
	fmt.Println(inv.State, err)
	// Output:
	// true true
	// accepted <nil>
}
