package invitations_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestReminders: one reminder per send, the same link, the expiry
// unchanged; none to ended or expired invitations, none before the window.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Delivery.RemindBefore = 24 * time.Hour })
	inv, token := h.invite("ada@example.com")
	_, accepted := h.invite("bob@example.com")
	_, err := h.svc.Accept(ctx, accepted)
	require.NoError(t, err)
	h.invite("cy@example.com")
	h.clock.Advance(-3 * week) // an invitation that expired long ago
	old, _ := h.invite("old@example.com")
	h.clock.Advance(3 * week)
	sent := func() int { return len(h.mailer.Messages()) }
	before := sent()

	h.clock.Advance(5 * day)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "two days left: not yet")

	h.clock.Advance(36 * time.Hour) // 12 hours left
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 2, Delivered: 2}, r, "Ada and Cy, not Bob (accepted) nor the expired one")
	assert.Equal(t, before+2, sent())
	var reminder invitations.Message
	for _, m := range h.mailer.Messages() {
		if m.Kind == invitations.MessageReminder && m.To == "ada@example.com" {
			reminder = m
		}
	}
	require.Equal(t, invitations.MessageReminder, reminder.Kind)
	assert.Contains(t, reminder.Link, token, "the same link")
	assert.Contains(t, reminder.Subject, "expires soon")
	got := h.get(inv.ID)
	assert.Equal(t, inv.ExpiresAt, got.ExpiresAt, "the expiry does not move")
	assert.Equal(t, 2, got.SendCount)
	assert.Equal(t, h.clock.Now(), got.Delivery.RemindedAt)
	assert.Empty(t, got.Delivery.Due)
	assert.Equal(t, invitations.StatusPending, h.get(old.ID).State)

	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "one reminder per send")

	// Resent (an hour later): a new expiry, and a reminder again before it.
	h.clock.Advance(time.Hour)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	h.clock.Advance(week - 2*time.Hour)
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Delivered, "reminded again after the resend")

	h.clock.Advance(3 * time.Hour) // expired now
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "never to an expired link")
}

func TestRemindersOff(t *testing.T) {
	h := newHarness(t)
	h.invite("ada@example.com")
	h.clock.Advance(week - time.Hour)
	r, err := h.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "RemindBefore 0: no reminders")
	_, err = invitations.New(h.store, h.mailer, invitations.Config{Secret: secretA, AcceptURL: acceptURL,
		Delivery: invitations.DeliveryPolicy{RemindBefore: -time.Hour}})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
}

// TestNoReminderAfterAFailedDelivery: an address whose mail failed for
// good gets no reminder, and the failure stays visible to the admin until
// a Resend sends a new message.
func TestNoReminderAfterAFailedDelivery(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Delivery.RemindBefore = 24 * time.Hour })
	h.mailer.FailNext(1, invitations.Permanent(errors.New("550 no such mailbox")))
	inv, err := h.svc.Invite(ctx, invitations.InviteInput{AccountID: "acct-1", Email: "nobody@example.com", Roles: []string{"member"}})
	require.ErrorIs(t, err, invitations.ErrDelivery)
	failedAt := h.get(inv.ID).Delivery.FailedAt
	require.False(t, failedAt.IsZero())

	h.clock.Advance(6 * day)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "no reminder to an address that failed")
	assert.Len(t, h.mailer.Messages(), 0)
	got := h.get(inv.ID)
	assert.Equal(t, failedAt, got.Delivery.FailedAt, "the failure stays visible")
	assert.Equal(t, "550 no such mailbox", got.Delivery.LastError)

	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.True(t, h.get(inv.ID).Delivery.FailedAt.IsZero(), "a new message clears it")
}
