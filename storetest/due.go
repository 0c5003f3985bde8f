package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func due(t *testing.T, s invitations.Store, account, email string, kind invitations.MessageKind, next time.Time) *invitations.Invitation {
	t.Helper()
	inv := fixture(t, account, email, 0)
	inv.Delivery = invitations.Delivery{Due: kind, NextAttempt: next}
	return create(t, s, inv)
}

func testListDue(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(time.Hour)
	later := due(t, s, "acct-1", "later@example.com", invitations.MessageInvite, now.Add(time.Microsecond))
	first := due(t, s, "acct-2", "first@example.com", invitations.MessageResend, now.Add(-time.Hour))
	atNow := due(t, s, "acct-1", "atnow@example.com", invitations.MessageRegenerate, now)
	second := due(t, s, "acct-3", "second@example.com", invitations.MessageInvite, now.Add(-time.Minute))
	create(t, s, fixture(t, "acct-1", "nothing@example.com", 0)) // nothing due

	got, err := s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID, atNow.ID}, ids(got), "due at or before now, earliest first, across accounts")
	requireSame(t, first, got[0])

	got, err = s.ListDue(ctx, now, 2)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID}, ids(got), "limit")

	got, err = s.ListDue(ctx, now.Add(time.Microsecond), 10)
	require.NoError(t, err)
	require.Contains(t, ids(got), later.ID)
}

func testListDueFollowsUpdates(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(time.Hour)
	inv := due(t, s, "acct-1", "ada@example.com", invitations.MessageInvite, now.Add(-time.Second))

	claimed := inv.Clone()
	claimed.Delivery.NextAttempt, claimed.Version = now.Add(5*time.Minute), 2
	require.NoError(t, s.Update(ctx, claimed, 1, nil))
	got, err := s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Empty(t, got, "a claimed message is not due until its lease ends")

	sent := claimed.Clone()
	sent.Delivery, sent.Version = invitations.Delivery{DeliveredAt: now}, 3
	require.NoError(t, s.Update(ctx, sent, 2, nil))
	got, err = s.ListDue(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, got, "a delivered message is no longer due")

	again := sent.Clone()
	again.Delivery, again.Version = invitations.Delivery{Due: invitations.MessageResend, NextAttempt: now}, 4
	require.NoError(t, s.Update(ctx, again, 3, nil))
	got, err = s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{inv.ID}, ids(got))

	n, err := s.DeleteEnded(ctx, now.Add(invitations.DefaultTTL+time.Hour), now.Add(invitations.DefaultTTL+time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err = s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Empty(t, got, "a purged invitation is not due")
}
