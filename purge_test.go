package invitations_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestPurgeNeverDeletesAWorkingLink: however far ahead the cutoff, a
// pending invitation whose link still works at the Service's clock stays.
func TestPurgeNeverDeletesAWorkingLink(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	valid, token := h.invite("ada@example.com")
	accepted, _ := h.inStatus(invitations.StatusAccepted)
	expired, _ := h.inStatus(invitations.StatusExpired)

	n, err := h.svc.Purge(ctx, h.clock.Now().Add(30*day))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the accepted and the expired ones")
	for _, gone := range []uuid.UUID{accepted.ID, expired.ID} {
		_, err := h.svc.Get(ctx, "acct-1", gone)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	assert.Equal(t, valid.ID, h.get(valid.ID).ID)
	_, err = h.svc.Accept(ctx, token)
	require.NoError(t, err, "the link still works")
}

func TestPurgeDeletesWhatEndedBefore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	accepted, _ := h.inStatus(invitations.StatusAccepted) // ended at start
	expired, _ := h.inStatus(invitations.StatusExpired)   // expired at start - 1h
	pending, _ := h.inStatus(invitations.StatusPending)   // expires at start + week
	h.clock.Advance(time.Hour)
	revokedLater, _ := h.inStatus(invitations.StatusRevoked)

	n, err := h.svc.Purge(ctx, start.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, gone := range []uuid.UUID{accepted.ID, expired.ID} {
		_, err := h.svc.Get(ctx, "acct-1", gone)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	for _, kept := range []uuid.UUID{pending.ID, revokedLater.ID} {
		h.get(kept)
	}
	_, err = h.svc.Invite(ctx, input("acct-1", expired.Email))
	require.NoError(t, err, "a purged expired invitation frees its email")
}
