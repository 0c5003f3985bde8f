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
