package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// testCount: one number per status at now, expired read off pending.
func testCount(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	end := func(inv *invitations.Invitation, state invitations.Status) {
		c := inv.Clone()
		c.State, c.Version = state, 2
		switch state {
		case invitations.StatusAccepted:
			c.AcceptedAt = base
		case invitations.StatusDeclined:
			c.DeclinedAt = base
		case invitations.StatusRevoked:
			c.RevokedAt = base
		}
		require.NoError(t, s.Update(ctx, c, 1, nil))
	}
	for i := range 3 {
		create(t, s, fixture(t, "acct-1", fmt.Sprintf("p%d@example.com", i), time.Duration(i)*time.Hour))
	}
	old := fixture(t, "acct-1", "old@example.com", -invitations.DefaultTTL) // expires at base
	create(t, s, old)
	end(create(t, s, fixture(t, "acct-1", "a1@example.com", 0)), invitations.StatusAccepted)
	end(create(t, s, fixture(t, "acct-1", "a2@example.com", 0)), invitations.StatusAccepted)
	end(create(t, s, fixture(t, "acct-1", "d@example.com", 0)), invitations.StatusDeclined)
	create(t, s, fixture(t, "acct-2", "other@example.com", 0))

	counts, err := s.Count(ctx, "acct-1", base)
	require.NoError(t, err)
	want := map[invitations.Status]int{
		invitations.StatusPending: 3, invitations.StatusExpired: 1,
		invitations.StatusAccepted: 2, invitations.StatusDeclined: 1,
	}
	for _, st := range []invitations.Status{invitations.StatusPending, invitations.StatusExpired,
		invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		assert.Equal(t, want[st], counts[st], "status %s", st)
	}

	// A day on, the first pending one has still not expired; a week on, all have.
	counts, err = s.Count(ctx, "acct-1", base.Add(invitations.DefaultTTL+3*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 0, counts[invitations.StatusPending])
	assert.Equal(t, 4, counts[invitations.StatusExpired])

	counts, err = s.Count(ctx, "nobody", base)
	require.NoError(t, err)
	for st, n := range counts {
		assert.Zero(t, n, "status %s of an empty account", st)
	}
}
