package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func testGetScoped(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	_, err := s.Get(ctx, "acct-2", inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound, "another account's invitation must look absent")
	_, err = s.Get(ctx, "acct-1", uuid.New())
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

func testGetByTokenHash(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	a := create(t, s, fixture(t, "acct-1", "a@example.com", 0))
	b := create(t, s, fixture(t, "acct-2", "b@example.com", 0))
	for _, want := range []*invitations.Invitation{a, b} {
		got, err := s.GetByTokenHash(ctx, want.Token.Hash)
		require.NoError(t, err)
		requireSame(t, want, got)
	}
	_, err := s.GetByTokenHash(ctx, material(t).Hash)
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

func testCopies(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := fixture(t, "acct-1", "ada@example.com", 0)
	want := inv.Clone()
	create(t, s, inv)
	inv.Roles[0], inv.Metadata["locale"], inv.Token.Hash[0] = "mutated", "mutated", inv.Token.Hash[0]^0xff

	got, err := s.Get(ctx, "acct-1", want.ID)
	require.NoError(t, err)
	requireSame(t, want, got)
	got.Roles[0], got.Metadata["locale"] = "mutated", "mutated"
	again, err := s.Get(ctx, "acct-1", want.ID)
	require.NoError(t, err)
	requireSame(t, want, again)
}
