package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func testDeleteEnded(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	cutoff := base.Add(30 * 24 * time.Hour)
	ended := func(email string, state invitations.Status, at time.Time) *invitations.Invitation {
		inv := fixture(t, "acct-1", email, 0)
		inv.State = state
		switch state {
		case invitations.StatusAccepted:
			inv.AcceptedAt = at
		case invitations.StatusDeclined:
			inv.DeclinedAt = at
		case invitations.StatusRevoked:
			inv.RevokedAt = at
		}
		return create(t, s, inv)
	}
	gone := []*invitations.Invitation{
		ended("a@example.com", invitations.StatusAccepted, cutoff.Add(-time.Microsecond)),
		ended("d@example.com", invitations.StatusDeclined, base),
		ended("r@example.com", invitations.StatusRevoked, base),
		create(t, s, fixture(t, "acct-2", "x@example.com", 0)), // expired long before the cutoff
	}
	kept := []*invitations.Invitation{
		ended("a2@example.com", invitations.StatusAccepted, cutoff), // not strictly before
		ended("r2@example.com", invitations.StatusRevoked, cutoff.Add(time.Hour)),
	}
	late := fixture(t, "acct-1", "late@example.com", 0)
	late.ExpiresAt = cutoff // expires at the cutoff, not before
	kept = append(kept, create(t, s, late))

	n, err := s.DeleteEnded(ctx, cutoff, cutoff)
	require.NoError(t, err)
	require.Equal(t, len(gone), n)
	for _, inv := range gone {
		_, err := s.Get(ctx, inv.AccountID, inv.ID)
		require.ErrorIs(t, err, invitations.ErrNotFound)
		_, err = s.GetByTokenHash(ctx, inv.Token.Hash)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	for _, inv := range kept {
		got, err := s.Get(ctx, inv.AccountID, inv.ID)
		require.NoError(t, err)
		requireSame(t, inv, got)
	}
	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 2})
	require.ElementsMatch(t, ids(kept), ids(got))

	n, err = s.DeleteEnded(ctx, cutoff, cutoff)
	require.NoError(t, err)
	require.Zero(t, n, "a second purge finds nothing")
}

func testDeleteFreesEmail(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	n, err := s.DeleteEnded(ctx, base.Add(invitations.DefaultTTL+time.Second), base.Add(invitations.DefaultTTL+time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.Create(ctx, fixture(t, "acct-1", "ada@example.com", time.Hour), nil))
}

// testDeleteTwoCutoffs: ended invitations go by the first cutoff, pending
// ones by the second, so that the Service can purge what ended long ago
// without touching a link that still works.
func testDeleteTwoCutoffs(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	accepted := fixture(t, "acct-1", "a@example.com", 0)
	accepted.State, accepted.AcceptedAt = invitations.StatusAccepted, base.Add(time.Hour)
	create(t, s, accepted)
	valid := create(t, s, fixture(t, "acct-1", "v@example.com", 0)) // expires base+TTL
	far := base.Add(invitations.DefaultTTL + 30*24*time.Hour)

	n, err := s.DeleteEnded(ctx, far, base.Add(invitations.DefaultTTL))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the accepted one: the pending one expires at the second cutoff, not before")
	_, err = s.Get(ctx, "acct-1", accepted.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = s.Get(ctx, "acct-1", valid.ID)
	require.NoError(t, err)
}
