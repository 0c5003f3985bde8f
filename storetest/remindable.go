package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// testListRemindable: the pending links expiring in the window, with no
// message due, not reminded since they were last sent, whose delivery
// has not failed; soonest first.
func testListRemindable(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(invitations.DefaultTTL - 24*time.Hour) // the fixtures below expire a day or so from now
	until := now.Add(48 * time.Hour)
	in := func(email string, offset time.Duration) *invitations.Invitation {
		return fixture(t, "acct-"+email[:1], email, offset)
	}
	soon := create(t, s, in("a@example.com", time.Hour))
	sooner := create(t, s, in("b@example.com", 0))
	resentSince := in("c@example.com", 2*time.Hour) // reminded of an earlier link, sent again since
	resentSince.Delivery.RemindedAt = resentSince.SentAt.Add(-time.Hour)
	create(t, s, resentSince)

	reminded := in("d@example.com", 0)
	reminded.Delivery.RemindedAt = reminded.SentAt.Add(time.Hour)
	create(t, s, reminded)
	due := in("e@example.com", 0)
	due.Delivery = invitations.Delivery{Due: invitations.MessageResend, NextAttempt: now}
	create(t, s, due)
	expired := in("f@example.com", -48*time.Hour)
	create(t, s, expired)
	later := in("g@example.com", 72*time.Hour)
	create(t, s, later)
	ended := in("h@example.com", 0)
	ended.State, ended.AcceptedAt = invitations.StatusAccepted, base
	create(t, s, ended)
	failed := in("i@example.com", 0) // its message failed for good: no reminder
	failed.Delivery = invitations.Delivery{FailedAt: failed.SentAt.Add(time.Minute), LastError: "550 no such mailbox"}
	create(t, s, failed)

	got, err := s.ListRemindable(ctx, now, until, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{sooner.ID, soon.ID, resentSince.ID}, ids(got))
	requireSame(t, soon, got[1])
	got, err = s.ListRemindable(ctx, now, until, 1)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{sooner.ID}, ids(got), "limit")

	marked := sooner.Clone()
	marked.Delivery.RemindedAt, marked.Version = now, 2
	require.NoError(t, s.Update(ctx, marked, 1, nil))
	got, err = s.ListRemindable(ctx, now, until, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon.ID, resentSince.ID}, ids(got), "reminded: out until it is sent again")
}
