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

// lostReply is a LimitStore whose LockAccount commits and then reports
// failure, as a database does whose reply to COMMIT never arrived (the
// context ended while it was on its way); for the accounts in lose only.
type lostReply struct {
	*memstore.Store
	lose, down map[string]bool
}

var errReplyLost = errors.New("commit: context deadline exceeded")

func (s lostReply) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	if s.down[accountID] {
		return errReplyLost // nothing committed
	}
	if err := s.Store.LockAccount(ctx, accountID, fn); err != nil || !s.lose[accountID] {
		return err
	}
	return errReplyLost
}

// TestLostCommitReplyIsNotAFailure: a write whose commit landed although
// its reply was lost is reported as stored, so that what a call returns is
// what the store holds: Invite returns the invitation, InviteMany its rows.
func TestLostCommitReplyIsNotAFailure(t *testing.T) {
	ctx := context.Background()
	store := lostReply{memstore.New(), map[string]bool{"acct-2": true}, map[string]bool{"acct-3": true}}
	mailer := invitationstest.NewMailer()
	svc, err := invitations.New(store, mailer, invitations.Config{
		Secret: secretA, AcceptURL: acceptURL, Limits: invitations.Limits{MailsPerAccountPerDay: 10},
	})
	require.NoError(t, err)
	inv, err := svc.Invite(ctx, input("acct-2", "ada@example.com"))
	require.NoError(t, err, "stored, so not a failure")
	require.NotNil(t, inv)
	assert.Len(t, mailer.Messages(), 1)

	results, err := svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "a@example.com"), input("acct-2", "b@example.com")})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r.Err)
		require.NotNil(t, r.Invitation)
		_, err := svc.Get(ctx, r.Invitation.AccountID, r.Invitation.ID)
		require.NoError(t, err)
	}

	// A write that did not land stays a failure.
	_, err = svc.Invite(ctx, input("acct-3", "cy@example.com"))
	require.ErrorIs(t, err, errReplyLost)
	results, err = svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "c@example.com"), input("acct-3", "d@example.com")})
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	require.ErrorIs(t, results[1].Err, errReplyLost)
	assert.Equal(t, 4, store.Len())
}
