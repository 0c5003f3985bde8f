package invitations_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

// TestSkipMail: the invitation is stored with nothing due; the admin's
// copied link works.
func TestSkipMail(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	in := input("acct-1", "ada@example.com")
	in.SkipMail = true
	inv, err := h.svc.Invite(ctx, in)
	require.NoError(t, err)
	assert.Empty(t, h.mailer.Messages(), "nothing mailed")
	assert.Equal(t, invitations.Delivery{}, inv.Delivery, "nothing due")
	assert.Zero(t, inv.SendCount)
	assert.Equal(t, inv.Delivery, h.get(inv.ID).Delivery)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted)

	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	token, err := invitationstest.TokenFromLink(link)
	require.NoError(t, err)
	accepted, err := h.svc.Accept(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusAccepted, accepted.State)
	assert.Empty(t, h.mailer.Messages())
}

// TestInviteTTL: an invitation's own validity, kept by Resend and
// Regenerate; out-of-range values are refused.
func TestInviteTTL(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, bad := range []time.Duration{time.Minute, time.Hour - time.Nanosecond, 30*day + time.Second, -time.Hour} {
		in := input("acct-1", "bad@example.com")
		in.TTL = bad
		_, err := h.svc.Invite(ctx, in)
		var inputErr *invitations.InputError
		require.ErrorAs(t, err, &inputErr, "%s", bad)
		assert.Equal(t, "ttl", inputErr.Field)
	}
	assert.Zero(t, h.store.Len(), "nothing stored")

	in := input("acct-1", "ada@example.com")
	in.TTL = 48 * time.Hour
	inv, err := h.svc.Invite(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, start.Add(48*time.Hour), inv.ExpiresAt)

	h.clock.Advance(24 * time.Hour)
	inv, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, h.clock.Now().Add(48*time.Hour), inv.ExpiresAt, "Resend keeps the invitation's TTL")

	h.clock.Advance(48 * time.Hour)
	assert.Equal(t, invitations.StatusExpired, inv.StatusAt(h.clock.Now()))
	inv, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, h.clock.Now().Add(48*time.Hour), inv.ExpiresAt, "so does Regenerate")

	for _, edge := range []time.Duration{invitations.MinInviteTTL, invitations.MaxInviteTTL} {
		in := input("acct-1", edge.String()+"@example.com")
		in.TTL = edge
		inv, err := h.svc.Invite(ctx, in)
		require.NoError(t, err, "%s is allowed", edge)
		assert.Equal(t, h.clock.Now().Add(edge), inv.ExpiresAt)
	}
	other, _ := h.invite("bob@example.com")
	assert.Equal(t, h.clock.Now().Add(week), other.ExpiresAt, "TTL 0 is the Service's")
}
