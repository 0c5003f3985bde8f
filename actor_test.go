package invitations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestWithActorNamesWhoDidIt(t *testing.T) {
	h := newHarness(t)
	admin := invitations.WithActor(context.Background(), "grace@acme.test")
	inv, err := h.svc.Invite(admin, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Resend(invitations.WithActor(context.Background(), "linus@acme.test"), "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.CopyLink(invitations.WithActor(context.Background(), "linus@acme.test"), "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.Revoke(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)

	got := map[invitations.EventKind][]string{}
	for _, e := range h.recorded() {
		got[e.Kind] = append(got[e.Kind], e.Actor)
	}
	assert.Equal(t, []string{"grace@acme.test"}, got[invitations.EventInvited])
	assert.Equal(t, []string{"linus@acme.test"}, got[invitations.EventResent])
	assert.Equal(t, []string{"linus@acme.test"}, got[invitations.EventLinkCopied])
	assert.Equal(t, []string{""}, got[invitations.EventRevoked], "no actor given")
	assert.Equal(t, []string{"grace@acme.test", "linus@acme.test"}, got[invitations.EventDelivered],
		"a delivery is reported by the call that sent it")
	for _, msg := range h.mailer.Messages() {
		assert.NotContains(t, msg.Text+msg.HTML+msg.Subject, "acme.test", "the actor is never mailed")
	}
}
