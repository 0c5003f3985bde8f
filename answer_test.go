package invitations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestEndedLinkStillSaysWhatHappened: Lookup, Accept and Decline of an
// ended invitation return it with ErrNotPending, so the page can tell
// "you already joined" from "declined" from "withdrawn", and a retried
// Accept learns the account and roles.
func TestEndedLinkStillSaysWhatHappened(t *testing.T) {
	ctx := context.Background()
	for _, status := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		t.Run(string(status), func(t *testing.T) {
			h := newHarness(t)
			inv, token := h.inStatus(status)
			for name, call := range map[string]func(context.Context, string) (*invitations.Invitation, error){
				"Lookup": h.svc.Lookup, "Accept": h.svc.Accept, "Decline": h.svc.Decline,
			} {
				got, err := call(ctx, token)
				require.ErrorIs(t, err, invitations.ErrNotPending, name)
				require.NotNil(t, got, name)
				assert.Equal(t, inv.ID, got.ID, name)
				assert.Equal(t, status, got.State, name)
				assert.Equal(t, "acct-1", got.AccountID, name)
				assert.Equal(t, []string{"admin"}, got.Roles, name)
				assertNoTokenSecrets(t, got.Token)
			}
			assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing changed")
		})
	}
	h := newHarness(t)
	_, token := h.inStatus(invitations.StatusExpired)
	got, err := h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired)
	require.NotNil(t, got)
	got, err = h.svc.Lookup(ctx, strings.Repeat("A", 48))
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	assert.Nil(t, got)
}

func TestExpiryBoundaryIsExpired(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")

	h.clock.Set(inv.ExpiresAt.Add(-time.Microsecond))
	_, err := h.svc.Lookup(ctx, token)
	require.NoError(t, err, "one microsecond before ExpiresAt the link works")
	_, err = h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)

	h.clock.Set(inv.ExpiresAt)
	assert.Equal(t, invitations.StatusExpired, inv.StatusAt(h.clock.Now()))
	found, err := h.svc.Lookup(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired, "at exactly ExpiresAt the link is expired")
	require.NotNil(t, found, "an expired link still says whose invitation it was")
	assert.Equal(t, inv.ID, found.ID)

	got, err := h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired)
	require.NotNil(t, got)
	assert.Equal(t, invitations.StatusPending, got.State)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrExpired)
}

func TestDeclineEndsTheInvitation(t *testing.T) {
	h := newHarness(t)
	_, token := h.invite("ada@example.com")
	declined, err := h.svc.Decline(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusDeclined, declined.State)
	assert.True(t, declined.DeclinedAt.Equal(start))
	_, err = h.svc.Accept(context.Background(), token)
	require.ErrorIs(t, err, invitations.ErrNotPending)
}

func TestLookupChangesNothing(t *testing.T) {
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	events := len(h.recorded())
	for range 3 {
		_, err := h.svc.Lookup(context.Background(), token)
		require.NoError(t, err)
	}
	assert.Equal(t, inv.Version, h.get(inv.ID).Version)
	assert.Len(t, h.recorded(), events, "a lookup is no event")
}
