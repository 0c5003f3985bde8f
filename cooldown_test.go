package invitations_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestActionsFollowTheCooldown: under RecommendedLimits, right after an
// invite, Actions offers no Resend (it would be refused) and
// ResendAllowedAt says when it will be offered; then it is.
func TestActionsFollowTheCooldown(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Limits = invitations.RecommendedLimits })
	inv, _ := h.invite("ada@example.com")
	assert.Equal(t, []invitations.Action{invitations.ActionCopyLink, invitations.ActionUpdateRoles, invitations.ActionRevoke}, h.svc.Actions(inv))
	assert.Equal(t, h.clock.Now().Add(time.Minute), h.svc.ResendAllowedAt(inv))

	h.clock.Advance(42 * time.Second)
	_, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	var rl *invitations.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 18*time.Second, rl.RetryAfter)
	assert.Equal(t, h.clock.Now().Add(rl.RetryAfter), h.svc.ResendAllowedAt(inv), "the same instant the refusal names")

	h.clock.Advance(18 * time.Second)
	assert.Equal(t, invitations.ActionResend, h.svc.Actions(inv)[0])
	assert.True(t, h.svc.ResendAllowedAt(inv).IsZero())
	resent, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.NotContains(t, h.svc.Actions(resent), invitations.ActionResend)

	// An expired link within the cooldown: Regenerate is held back the
	// same way.
	long := newHarness(t, func(c *invitations.Config) { c.Limits = invitations.Limits{ResendCooldown: 2 * time.Hour} })
	in := input("acct-1", "bob@example.com")
	in.TTL = time.Hour
	short, err := long.svc.Invite(ctx, in)
	require.NoError(t, err)
	long.clock.Advance(90 * time.Minute)
	assert.Equal(t, []invitations.Action{invitations.ActionUpdateRoles, invitations.ActionRevoke}, long.svc.Actions(short))
	_, err = long.svc.Regenerate(ctx, "acct-1", short.ID)
	require.ErrorIs(t, err, invitations.ErrRateLimited)
	long.clock.Advance(30 * time.Minute)
	assert.Equal(t, invitations.ActionRegenerate, long.svc.Actions(short)[0])

	// An invitation that ended will not be mailed again: no time to wait for.
	_, token := long.invite("cy@example.com")
	accepted, err := long.svc.Accept(ctx, token)
	require.NoError(t, err)
	assert.Empty(t, long.svc.Actions(accepted))
	assert.True(t, long.svc.ResendAllowedAt(accepted).IsZero())
}
