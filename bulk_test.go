package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestInviteManyRowByRow(t *testing.T) {
	ctx := context.Background()
	m := &members{emails: map[string]bool{"acct-1/member@example.com": true}}
	h := newHarness(t, func(c *invitations.Config) { c.IsMember = m.isMember })
	held, _ := h.invite("held@example.com")
	sent := len(h.mailer.Messages())

	rows := []invitations.InviteInput{
		input("acct-1", "Ada@Example.com"),
		input("acct-1", "not an email"),
		input("acct-1", "held@example.com"),
		input("acct-1", "ada@example.com"), // the first row's email again
		input("acct-1", "member@example.com"),
		input("acct-2", "ada@example.com"),
		{AccountID: "acct-1", Email: "quiet@example.com", Roles: []string{"viewer"}, SkipMail: true},
	}
	results, err := h.svc.InviteMany(ctx, rows)
	require.NoError(t, err)
	require.Len(t, results, len(rows))

	require.NoError(t, results[0].Err)
	assert.Equal(t, "ada@example.com", results[0].Invitation.Email)
	assert.Equal(t, invitations.MessageInvite, results[0].Invitation.Delivery.Due, "due, not sent")
	assertNoTokenSecrets(t, results[0].Invitation.Token)
	var inputErr *invitations.InputError
	require.ErrorAs(t, results[1].Err, &inputErr)
	assert.Equal(t, "email", inputErr.Field)
	var already *invitations.AlreadyInvitedError
	require.ErrorAs(t, results[2].Err, &already)
	assert.Equal(t, held.ID, already.ExistingID)
	require.ErrorAs(t, results[3].Err, &already)
	assert.Equal(t, results[0].Invitation.ID, already.ExistingID, "the same email twice in one call")
	require.ErrorIs(t, results[4].Err, invitations.ErrAlreadyMember)
	require.NoError(t, results[5].Err, "another account")
	require.NoError(t, results[6].Err)
	assert.Empty(t, results[6].Invitation.Delivery.Due)
	for i, r := range results {
		assert.True(t, (r.Invitation == nil) != (r.Err == nil), "row %d has an invitation or an error", i)
	}

	assert.Len(t, h.mailer.Messages(), sent, "no mail inside the call")
	report, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, report.Delivered, "the next DeliverDue sends them")
	got := h.get(results[0].Invitation.ID)
	assert.False(t, got.Delivery.DeliveredAt.IsZero())
	invited := 0
	for _, e := range h.recorded() {
		if e.Kind == invitations.EventInvited {
			invited++
		}
	}
	assert.Equal(t, 1+3, invited, "one event per stored row")
}

func TestInviteManyCallErrors(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	rows := make([]invitations.InviteInput, invitations.MaxInviteMany+1)
	for i := range rows {
		rows[i] = input("acct-1", fmt.Sprintf("u%d@example.com", i))
	}
	_, err := h.svc.InviteMany(ctx, rows)
	var inputErr *invitations.InputError
	require.ErrorAs(t, err, &inputErr)
	assert.Zero(t, h.store.Len())

	results, err := h.svc.InviteMany(ctx, rows[:invitations.MaxInviteMany])
	require.NoError(t, err, "exactly the maximum is fine")
	assert.Len(t, results, invitations.MaxInviteMany)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = h.svc.InviteMany(cancelled, []invitations.InviteInput{input("acct-1", "late@example.com")})
	require.ErrorIs(t, err, context.Canceled)

	down := errors.New("database is down")
	broken, err := invitations.New(createFailing{h.store, down}, h.mailer, h.cfg)
	require.NoError(t, err)
	_, err = broken.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "x@example.com")})
	require.ErrorIs(t, err, down)
}
