package invitations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/limitsuite"
	"github.com/invitekit/invitations/memstore"
)

func TestLimitsOnMemstore(t *testing.T) {
	limitsuite.Run(t, func(*testing.T) invitations.LimitStore { return memstore.New() })
}

// plainStore hides memstore's LimitStore methods: a Store of before Limits.
type plainStore struct{ invitations.Store }

func TestLimitsConfig(t *testing.T) {
	cfg := func(l invitations.Limits) invitations.Config {
		return invitations.Config{Secret: secretA, AcceptURL: acceptURL, Limits: l}
	}
	_, err := invitations.New(plainStore{memstore.New()}, discard{}, cfg(invitations.Limits{}))
	require.NoError(t, err, "zero Limits: any Store, as before")
	_, err = invitations.New(plainStore{memstore.New()}, discard{}, cfg(invitations.Limits{ResendCooldown: time.Minute}))
	require.NoError(t, err, "the cooldown is judged off the invitation itself")
	for _, l := range []invitations.Limits{{MailsPerAccountPerDay: 1}, {MaxPendingPerAccount: 1}} {
		_, err = invitations.New(plainStore{memstore.New()}, discard{}, cfg(l))
		require.ErrorIs(t, err, invitations.ErrInvalidInput, "%+v needs a LimitStore", l)
		assert.Contains(t, err.Error(), "LimitStore")
	}
	for _, l := range []invitations.Limits{{MailsPerAccountPerDay: -1}, {ResendCooldown: -1}, {MaxPendingPerAccount: -1}} {
		_, err = invitations.New(memstore.New(), discard{}, cfg(l))
		require.ErrorIs(t, err, invitations.ErrInvalidInput, "%+v", l)
	}
	_, err = invitations.New(memstore.New(), discard{}, cfg(invitations.RecommendedLimits))
	require.NoError(t, err)
	assert.Equal(t, invitations.Limits{MailsPerAccountPerDay: 500, ResendCooldown: time.Minute, MaxPendingPerAccount: 10_000},
		invitations.RecommendedLimits)
}

type discard struct{}

func (discard) Send(context.Context, invitations.Message) error { return nil }

func TestRateLimitedError(t *testing.T) {
	err := error(&invitations.RateLimitedError{RetryAfter: 90 * time.Second, Limit: invitations.LimitResendCooldown})
	require.ErrorIs(t, err, invitations.ErrRateLimited)
	require.NotErrorIs(t, err, invitations.ErrTooManyPending)
	assert.Equal(t, "invitations: rate limited (resend_cooldown): retry after 90s", err.Error())
	var rl *invitations.RateLimitedError
	require.True(t, errors.As(err, &rl))
	assert.Equal(t, 90*time.Second, rl.RetryAfter)
}

// TestLimitsZeroIsUnlimited: without Limits, a hundred mails to one
// invitation in a second, and many pending, as before.
func TestLimitsZeroIsUnlimited(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	for range 100 {
		_, err := h.svc.Resend(ctx, "acct-1", inv.ID)
		require.NoError(t, err)
	}
	assert.Len(t, h.mailer.Messages(), 101)
}

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
}
