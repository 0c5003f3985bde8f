package invitations_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestListNewestFirstAcrossPages(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	var want []uuid.UUID
	for i := range 7 {
		inv, _ := h.invite(fmt.Sprintf("user%d@example.com", i))
		want = append([]uuid.UUID{inv.ID}, want...)
		h.clock.Advance(time.Minute)
	}
	_, err := h.svc.Invite(ctx, input("acct-2", "other@example.com"))
	require.NoError(t, err)

	var got []uuid.UUID
	q := invitations.ListQuery{AccountID: "acct-1", Limit: 3}
	pages := 0
	for {
		page, err := h.svc.List(ctx, q)
		require.NoError(t, err)
		pages++
		for _, inv := range page.Invitations {
			got = append(got, inv.ID)
			assertNoTokenSecrets(t, inv.Token)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 3, pages)

	exact, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Limit: 7})
	require.NoError(t, err)
	assert.Len(t, exact.Invitations, 7)
	assert.Empty(t, exact.Next, "a full last page has no next cursor")
}

func TestListFiltersByStatusAtNow(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	expired, _ := h.inStatus(invitations.StatusExpired)
	pending, _ := h.inStatus(invitations.StatusPending)
	accepted, _ := h.inStatus(invitations.StatusAccepted)
	revoked, _ := h.inStatus(invitations.StatusRevoked)
	declined, _ := h.inStatus(invitations.StatusDeclined)
	for status, want := range map[invitations.Status]uuid.UUID{
		invitations.StatusPending: pending.ID, invitations.StatusExpired: expired.ID,
		invitations.StatusAccepted: accepted.ID, invitations.StatusRevoked: revoked.ID,
		invitations.StatusDeclined: declined.ID,
	} {
		page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Status: status})
		require.NoError(t, err)
		require.Len(t, page.Invitations, 1, status)
		assert.Equal(t, want, page.Invitations[0].ID, status)
	}

	// The filter is judged at the Service's clock: a week on, pending is expired.
	h.clock.Advance(week)
	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Status: invitations.StatusPending})
	require.NoError(t, err)
	assert.Empty(t, page.Invitations)
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for i := range invitations.MaxPageSize + 1 {
		h.invite(fmt.Sprintf("u%d@example.com", i))
	}
	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.Len(t, page.Invitations, invitations.DefaultPageSize, "zero Limit means 50")
	assert.NotEmpty(t, page.Next)
	page, err = h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1", Limit: 10_000})
	require.NoError(t, err)
	assert.Len(t, page.Invitations, invitations.MaxPageSize, "Limit is capped at 500")
	assert.NotEmpty(t, page.Next)
}

func TestListRejectsBadQueries(t *testing.T) {
	h := newHarness(t)
	for name, q := range map[string]invitations.ListQuery{
		"no account":     {},
		"unknown status": {AccountID: "acct-1", Status: "lost"},
		"negative limit": {AccountID: "acct-1", Limit: -1},
		"bad cursor":     {AccountID: "acct-1", After: "not-a-cursor"},
		"cursor charset": {AccountID: "acct-1", After: "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"},
	} {
		_, err := h.svc.List(context.Background(), q)
		require.ErrorIs(t, err, invitations.ErrInvalidInput, name)
	}
}

func TestPurgeDeletesWhatEndedBefore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	accepted, _ := h.inStatus(invitations.StatusAccepted) // ended at start
	expired, _ := h.inStatus(invitations.StatusExpired)   // expired at start - 1h
	pending, _ := h.inStatus(invitations.StatusPending)   // expires at start + week
	h.clock.Advance(time.Hour)
	revokedLater, _ := h.inStatus(invitations.StatusRevoked)

	n, err := h.svc.Purge(ctx, start.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, gone := range []uuid.UUID{accepted.ID, expired.ID} {
		_, err := h.svc.Get(ctx, "acct-1", gone)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	for _, kept := range []uuid.UUID{pending.ID, revokedLater.ID} {
		h.get(kept)
	}
	_, err = h.svc.Invite(ctx, input("acct-1", expired.Email))
	require.NoError(t, err, "a purged expired invitation frees its email")
}
