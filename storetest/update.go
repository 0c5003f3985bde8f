package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func testUpdateCAS(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	next := inv.Clone()
	next.Roles, next.ExpiresAt, next.SendCount, next.Version = []string{"viewer"}, base.Add(9*24*time.Hour), 2, 2
	next.LinkCopiedAt = base.Add(time.Hour + 5*time.Microsecond)
	require.NoError(t, s.Update(ctx, next, 1, nil))
	got, err := s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, next, got)

	stale := inv.Clone()
	stale.Roles, stale.Version = []string{"owner"}, 2
	require.ErrorIs(t, s.Update(ctx, stale, 1, nil), invitations.ErrConflict)
	got, err = s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, next, got)

	other := next.Clone()
	other.AccountID, other.Version = "acct-2", 3
	require.ErrorIs(t, s.Update(ctx, other, 2, nil), invitations.ErrNotFound, "an Update may not cross accounts")
}

func testUpdateTokenHash(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	copied := fixture(t, "acct-1", "ada@example.com", 0)
	copied.LinkCopiedAt = base.Add(time.Minute)
	inv := create(t, s, copied)
	next := inv.Clone()
	next.Token, next.Version, next.LinkCopiedAt = material(t), 2, time.Time{} // as Regenerate does
	require.NoError(t, s.Update(ctx, next, 1, nil))
	_, err := s.GetByTokenHash(ctx, inv.Token.Hash)
	require.ErrorIs(t, err, invitations.ErrNotFound, "the replaced hash must no longer find the invitation")
	got, err := s.GetByTokenHash(ctx, next.Token.Hash)
	require.NoError(t, err)
	requireSame(t, next, got)
}

func testUpdateUnknown(t *testing.T, s invitations.Store) {
	inv := fixture(t, "acct-1", "ada@example.com", 0)
	inv.Version = 2
	require.ErrorIs(t, s.Update(context.Background(), inv, 1, nil), invitations.ErrNotFound)
}

// testUpdateKeepsOnePending: the Service never re-opens an ended
// invitation, but a store must not let an Update break the one-pending rule.
func testUpdateKeepsOnePending(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	old := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	ended := old.Clone()
	ended.State, ended.RevokedAt, ended.Version = invitations.StatusRevoked, base, 2
	require.NoError(t, s.Update(ctx, ended, 1, nil))
	current := create(t, s, fixture(t, "acct-1", "ada@example.com", time.Second))

	reopened := ended.Clone()
	reopened.State, reopened.RevokedAt, reopened.Version = invitations.StatusPending, time.Time{}, 3
	require.ErrorIs(t, s.Update(ctx, reopened, 2, nil), invitations.ErrAlreadyInvited)
	got, err := s.Get(ctx, "acct-1", old.ID)
	require.NoError(t, err)
	requireSame(t, ended, got)
	got, err = s.Get(ctx, "acct-1", current.ID)
	require.NoError(t, err)
	requireSame(t, current, got)
}

func testConcurrentUpdate(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	errs := race(func(i int) error {
		next := inv.Clone()
		next.Roles, next.Version = []string{fmt.Sprintf("role-%d", i)}, 2
		return s.Update(ctx, next, 1, nil)
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two compare-and-sets on one version both succeeded")
			winner = i
			continue
		}
		require.ErrorIs(t, err, invitations.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "no compare-and-set succeeded")
	got, err := s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprintf("role-%d", winner)}, got.Roles)
	require.EqualValues(t, 2, got.Version)
}
