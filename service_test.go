package invitations_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	link := h.mailer.Last().Link

	rotated := h.cfg
	rotated.Secret, rotated.PreviousSecrets = secretB, [][]byte{secretA}
	svcB := h.service(rotated)

	found, err := svcB.Lookup(ctx, token)
	require.NoError(t, err, "links of a previous secret keep working")
	assert.Equal(t, inv.ID, found.ID)
	copied, err := svcB.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, copied, "copy gives back the link issued under the old secret")
	_, err = svcB.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, h.mailer.Last().Link)

	// New invitations use the new secret; the old service can't open them.
	_, err = svcB.Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Lookup(ctx, h.lastToken())
	require.ErrorIs(t, err, invitations.ErrInvalidToken)

	// Dropping the old secret kills its links; Regenerate works even before expiry.
	dropped := h.cfg
	dropped.Secret, dropped.PreviousSecrets = secretB, nil
	svcOnlyB := h.service(dropped)
	_, err = svcOnlyB.Lookup(ctx, token)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.CopyLink(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = svcOnlyB.Accept(ctx, h.lastToken())
	require.NoError(t, err)
}

func TestMalformedTokensNeverReachTheStore(t *testing.T) {
	h := newHarness(t)
	_, valid := h.invite("ada@example.com")
	counting := &countingStore{Store: h.store}
	svc, err := invitations.New(counting, h.mailer, h.cfg)
	require.NoError(t, err)

	flip := []byte(valid)
	flip[0] ^= 1 // another key id: unknown to the Service
	for name, token := range map[string]string{
		"empty":          "",
		"short":          "abc",
		"truncated":      valid[:len(valid)-1],
		"too long":       valid + "A",
		"over 200 bytes": strings.Repeat("A", 201),
		"wrong alphabet": "+" + valid[1:],
		"padding":        valid[:len(valid)-1] + "=",
		"newline":        valid[:len(valid)-1] + "\n",
		"unknown key":    string(flip),
		"unicode":        "é" + valid[2:],
	} {
		for op, call := range map[string]func(context.Context, string) (*invitations.Invitation, error){
			"Lookup": svc.Lookup, "Accept": svc.Accept, "Decline": svc.Decline,
		} {
			inv, err := call(context.Background(), token)
			require.ErrorIs(t, err, invitations.ErrInvalidToken, "%s %s", op, name)
			assert.Nil(t, inv)
		}
	}
	assert.Zero(t, counting.calls.Load(), "malformed tokens are rejected before any store call")

	// A well-formed token of a held key that matches nothing is looked up once.
	body := []byte(valid)
	body[len(body)-2] = 'A' + (body[len(body)-2]-'A'+1)%26
	_, err = svc.Lookup(context.Background(), string(body))
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	assert.EqualValues(t, 1, counting.calls.Load())
}

func TestTimesAreStoredInUTCMicroseconds(t *testing.T) {
	h := newHarness(t)
	h.clock.Set(time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.FixedZone("CEST", 2*3600)))
	inv, _ := h.invite("ada@example.com")
	stored := h.get(inv.ID)
	for _, ts := range []time.Time{stored.CreatedAt, stored.SentAt, stored.ExpiresAt} {
		assert.Equal(t, time.UTC, ts.Location())
		assert.Zero(t, ts.Nanosecond()%1000, "truncated to microseconds")
	}
	assert.Equal(t, 123456000, stored.CreatedAt.Nanosecond())
	assert.Equal(t, time.Date(2026, 5, 8, 8, 0, 0, 123456000, time.UTC), stored.ExpiresAt)
}

func TestTokenFromLink(t *testing.T) {
	h := newHarness(t)
	_, token := h.invite("ada@example.com")
	assert.Len(t, token, 48)
	_, err := invitationstest.TokenFromLink("https://app.example.com/accept")
	require.ErrorIs(t, err, invitationstest.ErrNoToken)
	_, err = invitationstest.TokenFromLink("://bad")
	require.ErrorIs(t, err, invitationstest.ErrNoToken)
}

// TestInTxRefusesTheFeed: the feed hands out cursors over committed
// events only, so a Service from InTx, whose Store would see the
// transaction's own events, refuses Events (on SQLite a cursor taken past
// an event that then rolled back skipped the next event committed). The
// invitation's own history, like Get, reads the transaction's changes.
func TestInTxRefusesTheFeed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	tx := h.svc.InTx(h.store)
	inv, err := tx.Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	for _, account := range []string{"acct-1", ""} {
		page, err := tx.Events(ctx, invitations.EventQuery{AccountID: account})
		require.ErrorIs(t, err, invitations.ErrInTx)
		assert.Nil(t, page)
	}
	history, err := tx.History(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Len(t, history, 1)
	page, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1"})
	require.NoError(t, err, "outside the transaction the feed is read as ever")
	assert.Len(t, page.Events, 1)
}

// TestInTxSendsNoMail: a Service from InTx records the mail as due and
// sends none; Deliver sends it once, and refuses inside the transaction.
func TestInTxSendsNoMail(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	tx := h.svc.InTx(h.store) // memstore has no transactions; the mail rule is the Service's
	inv, err := tx.Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	assert.Empty(t, h.mailer.Messages())
	assert.Equal(t, invitations.MessageInvite, inv.Delivery.Due)
	assert.Equal(t, inv.Delivery, h.get(inv.ID).Delivery, "returned as stored")
	_, err = tx.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInTx)
	_, err = tx.DeliverDue(ctx)
	require.ErrorIs(t, err, invitations.ErrInTx)
	kinds := []invitations.EventKind{}
	for _, e := range h.recorded() {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []invitations.EventKind{invitations.EventInvited}, kinds, "events still reach OnEvent; no delivery yet")

	got, err := h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	require.Len(t, h.mailer.Messages(), 1)
	assert.Empty(t, got.Delivery.Due)
	assert.Equal(t, got.Delivery, h.get(inv.ID).Delivery)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Len(t, h.mailer.Messages(), 1, "nothing due: no-op")
	assert.Equal(t, h.get(inv.ID).Version, got.Version)

	_, err = tx.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Len(t, h.mailer.Messages(), 1)
	h.mailer.FailNext(1, errOutage)
	_, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "backing off: left to DeliverDue")
	assert.Len(t, h.mailer.Messages(), 1)
	assert.Equal(t, invitations.MessageResend, got.Delivery.Due)
	_, err = h.svc.Deliver(ctx, "acct-1", uuid.New())
	require.ErrorIs(t, err, invitations.ErrNotFound)
}
