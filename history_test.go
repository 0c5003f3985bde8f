package invitations_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestHistoryTellsTheStory: one invitation's events with who did what,
// the same IDs OnEvent reported, and the mail's outcome with its message.
func TestHistoryTellsTheStory(t *testing.T) {
	h := newHarness(t)
	grace := invitations.WithActor(context.Background(), "grace@acme.test")
	alan := invitations.WithActor(context.Background(), "alan@acme.test")
	inv, err := h.svc.Invite(grace, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	_, err = h.svc.CopyLink(grace, "acct-1", inv.ID)
	require.NoError(t, err)
	h.clock.Advance(day)
	h.mailer.FailNext(1, invitations.Permanent(errors.New("550 no such mailbox")))
	_, err = h.svc.Resend(alan, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	token := h.lastToken()
	_, err = h.svc.Accept(context.Background(), token)
	require.NoError(t, err)

	history, err := h.svc.History(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)
	type step struct {
		kind    invitations.EventKind
		actor   string
		message invitations.MessageKind
	}
	var got []step
	for _, e := range history {
		got = append(got, step{e.Kind, e.Actor, e.Message})
	}
	assert.Equal(t, []step{
		{invitations.EventInvited, "grace@acme.test", ""},
		{invitations.EventDelivered, "grace@acme.test", invitations.MessageInvite},
		{invitations.EventLinkCopied, "grace@acme.test", ""},
		{invitations.EventResent, "alan@acme.test", ""},
		{invitations.EventDeliveryFailed, "alan@acme.test", invitations.MessageResend},
		{invitations.EventAccepted, "", ""},
	}, got)
	assert.Equal(t, "550 no such mailbox", history[4].Error, "the failure as the admin sees it")
	assert.Equal(t, invitations.StatusAccepted, history[5].Invitation.State, "the invitation right after the change")
	assertNoTokenSecrets(t, history[5].Invitation.Token)

	reported := map[uuid.UUID]bool{}
	for _, e := range h.recorded() {
		reported[e.ID] = true
	}
	for _, e := range history {
		assert.True(t, reported[e.ID], "%s: the same ID in OnEvent and in the store", e.Kind)
		assert.NotEqual(t, uuid.Nil, e.ID)
	}

	_, err = h.svc.History(context.Background(), "acct-2", inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound, "another account's invitation")
	h.clock.Advance(30 * day)
	_, err = h.svc.Purge(context.Background(), h.clock.Now())
	require.NoError(t, err)
	_, err = h.svc.History(context.Background(), "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound, "purged, history and all")
}

// TestEventsFeed: an account's feed in pages, resumable from Next (also
// from an empty page), the cursor refused on another feed.
func TestEventsFeed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		h.invite(email)
	}
	_, err := h.svc.Invite(ctx, input("acct-2", "x@example.com"))
	require.NoError(t, err)

	page, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", Limit: 4})
	require.NoError(t, err)
	require.Len(t, page.Events, 4, "invited and delivered, twice")
	for _, e := range page.Events {
		assert.Equal(t, "acct-1", e.Invitation.AccountID)
	}
	page, err = h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", After: page.Next})
	require.NoError(t, err)
	require.Len(t, page.Events, 2)
	empty, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", After: page.Next})
	require.NoError(t, err)
	assert.Empty(t, empty.Events)
	assert.NotNil(t, empty.Events)
	assert.NotEmpty(t, empty.Next, "a cursor to resume from, also when empty")
	h.invite("d@example.com")
	resumed, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", After: empty.Next})
	require.NoError(t, err)
	assert.Len(t, resumed.Events, 2, "what came since, and only that")

	all, err := h.svc.Events(ctx, invitations.EventQuery{Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, all.Events, 10, "every account, for the host's relay")

	_, err = h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-2", After: page.Next})
	var in *invitations.InputError
	require.ErrorAs(t, err, &in, "acct-1's cursor on acct-2's feed")
	assert.Equal(t, "after", in.Field)
	_, err = h.svc.Events(ctx, invitations.EventQuery{After: page.Next})
	require.ErrorIs(t, err, invitations.ErrInvalidInput, "an account's cursor on the feed of every account")
	_, err = h.svc.Events(ctx, invitations.EventQuery{Limit: -1})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
	capped, err := h.svc.Events(ctx, invitations.EventQuery{Limit: 5000})
	require.NoError(t, err)
	assert.Len(t, capped.Events, 10)
}

// TestRetriedAttemptIsNotAnEvent: a send that failed and will be retried
// stores no event; the retry that delivers stores one, and a message
// given up stores delivery_failed once.
func TestRetriedAttemptIsNotAnEvent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.mailer.FailNext(1, errOutage)
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	kinds := func() []invitations.EventKind {
		history, err := h.svc.History(ctx, "acct-1", inv.ID)
		require.NoError(t, err)
		var out []invitations.EventKind
		for _, e := range history {
			out = append(out, e.Kind)
		}
		return out
	}
	assert.Equal(t, []invitations.EventKind{invitations.EventInvited}, kinds(), "the failed attempt will be retried")

	h.clock.Advance(time.Hour)
	_, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, []invitations.EventKind{invitations.EventInvited, invitations.EventDelivered}, kinds())
}

// TestEventsPageSizes: a page holds DefaultEventPageSize events when the
// query names no limit and at most MaxEventPageSize whatever it names.
func TestEventsPageSizes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for i := range invitations.MaxEventPageSize + 1 {
		in := input("acct-1", "user"+strconv.Itoa(i)+"@example.com")
		in.SkipMail = true // one event each: invited
		_, err := h.svc.Invite(ctx, in)
		require.NoError(t, err)
	}
	page, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.Len(t, page.Events, invitations.DefaultEventPageSize)
	assert.Equal(t, 100, invitations.DefaultEventPageSize)

	page, err = h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", Limit: 5000})
	require.NoError(t, err)
	assert.Len(t, page.Events, invitations.MaxEventPageSize, "capped")
	assert.Equal(t, 1000, invitations.MaxEventPageSize)
	rest, err := h.svc.Events(ctx, invitations.EventQuery{AccountID: "acct-1", After: page.Next, Limit: 5000})
	require.NoError(t, err)
	assert.Len(t, rest.Events, 1)
}
