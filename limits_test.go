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
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

func TestLimitsOnMemstore(t *testing.T) {
	limitsuite.Run(t, func(*testing.T) invitations.LimitStore { return memstore.New() })
}

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

// TestLostCommitReplyIsNotAFailure: a write whose commit landed although
// its reply was lost is reported as stored, so that what a call returns is
// what the store holds: Invite returns the invitation, InviteMany its rows.
func TestLostCommitReplyIsNotAFailure(t *testing.T) {
	var cancel context.CancelFunc
	call := func() context.Context {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		return ctx
	}
	ctx := context.Background()
	store := lostReply{memstore.New(), map[string]bool{"acct-2": true}, map[string]bool{"acct-3": true}, &cancel}
	mailer := invitationstest.NewMailer()
	svc, err := invitations.New(store, mailer, invitations.Config{
		Secret: secretA, AcceptURL: acceptURL, Limits: invitations.Limits{MailsPerAccountPerDay: 10},
	})
	require.NoError(t, err)
	inv, err := svc.Invite(call(), input("acct-2", "ada@example.com"))
	require.NotNil(t, inv, "stored, so not a failure")
	require.ErrorIs(t, err, invitations.ErrDelivery, "the context ended before the mail could go")

	results, err := svc.InviteMany(call(), []invitations.InviteInput{input("acct-1", "a@example.com"), input("acct-2", "b@example.com")})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r.Err)
		require.NotNil(t, r.Invitation)
		_, err := svc.Get(ctx, r.Invitation.AccountID, r.Invitation.ID)
		require.NoError(t, err)
	}

	// A write that did not land stays a failure.
	_, err = svc.Invite(call(), input("acct-3", "cy@example.com"))
	require.ErrorIs(t, err, errReplyLost)
	results, err = svc.InviteMany(call(), []invitations.InviteInput{input("acct-1", "c@example.com"), input("acct-3", "d@example.com")})
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	require.ErrorIs(t, results[1].Err, errReplyLost)
	assert.Equal(t, 4, store.Len())
}
