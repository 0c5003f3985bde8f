package invitations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// ctxKey marks the context a host passes to a call.
type ctxKey struct{}

// TestOnEventGetsTheCallsContext: OnEvent runs with the caller's own
// context (a host keeps its transaction there for the audit row), for
// every event of the call, the delivery included.
func TestOnEventGetsTheCallsContext(t *testing.T) {
	var seen []any
	h := newHarness(t, func(c *invitations.Config) {
		c.OnEvent = func(ctx context.Context, e invitations.Event) { seen = append(seen, ctx.Value(ctxKey{})) }
	})
	ctx := context.WithValue(context.Background(), ctxKey{}, "the host's tx")
	_, err := h.svc.InTx(h.store).Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	assert.Equal(t, []any{"the host's tx", "the host's tx", "the host's tx"}, seen, "invited, invited, delivered")
}

func TestEventsFollowEveryStoredChange(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	_, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{"viewer"})
	require.NoError(t, err)
	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.Accept(ctx, h.lastToken())
	require.NoError(t, err)
	other, token := h.invite("bob@example.com")
	_, err = h.svc.Decline(ctx, token)
	require.NoError(t, err)
	third, _ := h.invite("cy@example.com")
	_, err = h.svc.Revoke(ctx, "acct-1", third.ID)
	require.NoError(t, err)
	_, err = h.svc.Revoke(ctx, "acct-1", third.ID)
	require.ErrorIs(t, err, invitations.ErrNotPending)

	var kinds []invitations.EventKind
	for _, e := range h.recorded() {
		kinds = append(kinds, e.Kind)
		assertNoTokenSecrets(t, e.Invitation.Token)
		assert.True(t, e.At.Equal(h.clock.Now()) || e.At.Equal(start))
	}
	delivered := invitations.EventDelivered
	assert.Equal(t, []invitations.EventKind{
		invitations.EventInvited, delivered, invitations.EventResent, delivered, invitations.EventLinkCopied,
		invitations.EventRolesUpdated,
		invitations.EventRegenerated, delivered, invitations.EventAccepted,
		invitations.EventInvited, delivered, invitations.EventDeclined,
		invitations.EventInvited, delivered, invitations.EventRevoked,
	}, kinds, "one event per stored change, none for a refused one")
	events := h.recorded()
	assert.Equal(t, other.ID, events[11].Invitation.ID)
	assert.Equal(t, invitations.StatusDeclined, events[11].Invitation.State, "the event shows the stored state")
	assert.EqualValues(t, 3, events[11].Invitation.Version)
}
