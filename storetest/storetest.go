// Package storetest is the conformance suite of invitations.Store. Every
// Store, ours or yours, should pass it:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) invitations.Store {
//			return mystore.New(freshDatabase(t))
//		})
//	}
//
// newStore is called once per subtest and must return an empty Store that
// no other subtest uses. Subtests call t.Parallel, so stores must not share
// state (give each its own schema, database or table).
package storetest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// concurrency is how many goroutines the race subtests start.
const concurrency = 50

// base is the suite's fixed clock reading: UTC, whole microseconds, as the
// Service writes times.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the conformance suite against the stores newStore makes. The
// subtests named Limits... check invitations.LimitStore and skip, saying
// so, on a Store that does not implement it.
func Run(t *testing.T, newStore func(t *testing.T) invitations.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s invitations.Store)
	}{
		{"CreateThenGetReadsBackEveryField", testRoundTrip},
		{"GetIsScopedToAccount", testGetScoped},
		{"GetByTokenHash", testGetByTokenHash},
		{"OnePendingPerAccountAndEmail", testOnePending},
		{"EndedInvitationFreesEmail", testEndedFreesEmail},
		{"ReturnsCopies", testCopies},
		{"UpdateIsCompareAndSet", testUpdateCAS},
		{"UpdateReplacesTokenHash", testUpdateTokenHash},
		{"UpdateUnknownIsNotFound", testUpdateUnknown},
		{"UpdateKeepsOnePending", testUpdateKeepsOnePending},
		{"ListNewestFirstWithCursor", testListPaging},
		{"ListOrdersTiesByID", testListTies},
		{"ListStatusFiltersAtNow", testListStatus},
		{"ListIsolatesAccounts", testListIsolation},
		{"ListDue", testListDue},
		{"ListDueFollowsUpdates", testListDueFollowsUpdates},
		{"DeleteEnded", testDeleteEnded},
		{"DeleteEndedFreesPendingEmail", testDeleteFreesEmail},
		{"DeleteEndedTwoCutoffs", testDeleteTwoCutoffs},
		{"ListSearchByEmailPrefix", testListSearch},
		{"CountByStatusAtNow", testCount},
		{"CreateManyRowByRow", testCreateMany},
		{"CreateManyCancelledStoresAllOrNothing", testCreateManyCancelled},
		{"ListRemindable", testListRemindable},
		{"ConcurrentCreateManyOneWinnerPerEmail", testConcurrentCreateMany},
		{"CancelledContext", testCancelled},
		{"ConcurrentUpdatesOneWinner", testConcurrentUpdate},
		{"ConcurrentCreatesOneWinner", testConcurrentCreate},
		{"EventsStoredWithTheirChange", testEventsWithChange},
		{"EventsFeedPagesInOrder", testEventsFeed},
		{"EventsDeletedWithTheirInvitation", testEventsPurged},
		{"EventsPositionOutlivesPurge", testEventsPositionOutlivesPurge},
		{"EventsFeedMissesNothingUnderConcurrency", testEventsConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
	runLimitTests(t, newStore)
}

// fixture returns a pending invitation as the Service would create it,
// created at base+offset, with fresh token material.
func fixture(t *testing.T, account, email string, offset time.Duration) *invitations.Invitation {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	created := base.Add(offset)
	return &invitations.Invitation{
		ID:        id,
		AccountID: account,
		Email:     email,
		Name:      "Ada Lovelace",
		Roles:     []string{"admin", "billing"},
		InvitedBy: "grace@example.com",
		Metadata:  map[string]string{"locale": "en-GB"},
		State:     invitations.StatusPending,
		CreatedAt: created,
		SentAt:    created,
		ExpiresAt: created.Add(invitations.DefaultTTL),
		SendCount: 1,
		Version:   1,
		Token:     material(t),
	}
}

func material(t *testing.T) invitations.TokenMaterial {
	t.Helper()
	nonce, hash := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(nonce)
	_, _ = rand.Read(hash)
	return invitations.TokenMaterial{KeyID: "k1AbCd", Nonce: nonce, Hash: hash}
}

func create(t *testing.T, s invitations.Store, inv *invitations.Invitation) *invitations.Invitation {
	t.Helper()
	require.NoError(t, s.Create(context.Background(), inv, nil))
	return inv
}

// requireSame checks that got reads back exactly what was written: every
// field, times equal to the microsecond.
func requireSame(t *testing.T, want, got *invitations.Invitation) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.AccountID, got.AccountID)
	assert.Equal(t, want.Email, got.Email)
	assert.Equal(t, want.Name, got.Name)
	assert.Equal(t, want.Roles, got.Roles)
	assert.Equal(t, want.InvitedBy, got.InvitedBy)
	if len(want.Metadata) == 0 {
		assert.Empty(t, got.Metadata)
	} else {
		assert.Equal(t, want.Metadata, got.Metadata)
	}
	assert.Equal(t, want.State, got.State)
	for _, pair := range []struct {
		name      string
		want, got time.Time
	}{
		{"CreatedAt", want.CreatedAt, got.CreatedAt},
		{"SentAt", want.SentAt, got.SentAt},
		{"ExpiresAt", want.ExpiresAt, got.ExpiresAt},
		{"AcceptedAt", want.AcceptedAt, got.AcceptedAt},
		{"DeclinedAt", want.DeclinedAt, got.DeclinedAt},
		{"RevokedAt", want.RevokedAt, got.RevokedAt},
		{"LinkCopiedAt", want.LinkCopiedAt, got.LinkCopiedAt},
	} {
		assert.True(t, pair.want.Equal(pair.got), "%s: wrote %s, read %s", pair.name, pair.want, pair.got)
		assert.Equal(t, pair.want.IsZero(), pair.got.IsZero(), "%s: zero time must read back zero", pair.name)
	}
	assert.Equal(t, want.Delivery.Due, got.Delivery.Due)
	assert.Equal(t, want.Delivery.Attempts, got.Delivery.Attempts)
	assert.Equal(t, want.Delivery.LastError, got.Delivery.LastError)
	for _, pair := range []struct {
		name      string
		want, got time.Time
	}{
		{"Delivery.NextAttempt", want.Delivery.NextAttempt, got.Delivery.NextAttempt},
		{"Delivery.DeliveredAt", want.Delivery.DeliveredAt, got.Delivery.DeliveredAt},
		{"Delivery.FailedAt", want.Delivery.FailedAt, got.Delivery.FailedAt},
		{"Delivery.RemindedAt", want.Delivery.RemindedAt, got.Delivery.RemindedAt},
		{"Delivery.ClaimedAt", want.Delivery.ClaimedAt, got.Delivery.ClaimedAt},
	} {
		assert.True(t, pair.want.Equal(pair.got), "%s: wrote %s, read %s", pair.name, pair.want, pair.got)
		assert.Equal(t, pair.want.IsZero(), pair.got.IsZero(), "%s: zero time must read back zero", pair.name)
	}
	assert.Equal(t, want.SendCount, got.SendCount)
	assert.Equal(t, want.Version, got.Version)
	assert.Equal(t, want.Token.KeyID, got.Token.KeyID)
	assert.Equal(t, []byte(want.Token.Nonce), []byte(got.Token.Nonce), "Token.Nonce")
	assert.Equal(t, []byte(want.Token.Hash), []byte(got.Token.Hash), "Token.Hash")
}

func testCancelled(t *testing.T, s invitations.Store) {
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, context.Canceled)
	next := inv.Clone()
	next.Version = 2
	require.ErrorIs(t, s.Update(ctx, next, 1, nil), context.Canceled)
	got, err := s.Get(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, inv, got)
}

// race runs fn on concurrency goroutines released together and returns
// their errors.
func race(fn func(i int) error) []error {
	errs := make([]error, concurrency)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range concurrency {
		done.Go(func() {
			start.Wait()
			errs[i] = fn(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}
