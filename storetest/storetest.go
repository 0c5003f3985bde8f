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
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// Concurrency is how many goroutines the race subtests start.
const Concurrency = 50

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
	require.NoError(t, s.Create(context.Background(), inv))
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

func testRoundTrip(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := fixture(t, "acct-1", "ada@example.com", time.Microsecond*7)
	inv.Roles = []string{"viewer", "admin", "with \"quotes\" and ünïcode"}
	inv.Metadata = map[string]string{"locale": "de-DE", "account_name": "Acme <GmbH>", "empty": ""}
	inv.Delivery = invitations.Delivery{
		Due: invitations.MessageResend, Attempts: 2, LastError: "smtp: 451 try again later",
		NextAttempt: base.Add(time.Minute + 9*time.Microsecond), DeliveredAt: base.Add(time.Second),
	}
	inv.LinkCopiedAt = base.Add(2*time.Minute + 11*time.Microsecond)
	create(t, s, inv)
	got, err := s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, inv, got)

	bare := fixture(t, "acct-1", "bare@example.com", 0)
	bare.Name, bare.InvitedBy, bare.Metadata = "", "", nil
	create(t, s, bare)
	got, err = s.Get(ctx, "acct-1", bare.ID)
	require.NoError(t, err)
	requireSame(t, bare, got)

	ended := fixture(t, "acct-1", "ended@example.com", 0)
	ended.State, ended.AcceptedAt = invitations.StatusAccepted, base.Add(time.Hour+3*time.Microsecond)
	ended.Delivery = invitations.Delivery{Attempts: 5, LastError: "gave up", FailedAt: base.Add(time.Hour)}
	create(t, s, ended)
	got, err = s.Get(ctx, "acct-1", ended.ID)
	require.NoError(t, err)
	requireSame(t, ended, got)
}

func testGetScoped(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	_, err := s.Get(ctx, "acct-2", inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound, "another account's invitation must look absent")
	_, err = s.Get(ctx, "acct-1", uuid.New())
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

func testGetByTokenHash(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	a := create(t, s, fixture(t, "acct-1", "a@example.com", 0))
	b := create(t, s, fixture(t, "acct-2", "b@example.com", 0))
	for _, want := range []*invitations.Invitation{a, b} {
		got, err := s.GetByTokenHash(ctx, want.Token.Hash)
		require.NoError(t, err)
		requireSame(t, want, got)
	}
	_, err := s.GetByTokenHash(ctx, material(t).Hash)
	require.ErrorIs(t, err, invitations.ErrNotFound)
}

func testOnePending(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	first := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	err := s.Create(ctx, fixture(t, "acct-1", "ada@example.com", time.Second))
	require.ErrorIs(t, err, invitations.ErrAlreadyInvited)
	var already *invitations.AlreadyInvitedError
	require.ErrorAs(t, err, &already)
	assert.Equal(t, first.ID, already.ExistingID)

	// The same email in another account is another invitation.
	create(t, s, fixture(t, "acct-2", "ada@example.com", 0))
	page, err := s.List(ctx, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1, "a refused Create must store nothing")
}

func testEndedFreesEmail(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	for _, state := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		email := string(state) + "@example.com"
		inv := create(t, s, fixture(t, "acct-1", email, 0))
		next := inv.Clone()
		next.State, next.Version = state, inv.Version+1
		switch state {
		case invitations.StatusAccepted:
			next.AcceptedAt = base.Add(time.Hour)
		case invitations.StatusDeclined:
			next.DeclinedAt = base.Add(time.Hour)
		case invitations.StatusRevoked:
			next.RevokedAt = base.Add(time.Hour)
		}
		require.NoError(t, s.Update(ctx, next, inv.Version))
		require.NoError(t, s.Create(ctx, fixture(t, "acct-1", email, time.Hour)), "after %s the email may be invited again", state)
	}
}

func testCopies(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := fixture(t, "acct-1", "ada@example.com", 0)
	want := inv.Clone()
	create(t, s, inv)
	inv.Roles[0], inv.Metadata["locale"], inv.Token.Hash[0] = "mutated", "mutated", inv.Token.Hash[0]^0xff

	got, err := s.Get(ctx, "acct-1", want.ID)
	require.NoError(t, err)
	requireSame(t, want, got)
	got.Roles[0], got.Metadata["locale"] = "mutated", "mutated"
	again, err := s.Get(ctx, "acct-1", want.ID)
	require.NoError(t, err)
	requireSame(t, want, again)
}

func testUpdateCAS(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	next := inv.Clone()
	next.Roles, next.ExpiresAt, next.SendCount, next.Version = []string{"viewer"}, base.Add(9*24*time.Hour), 2, 2
	next.LinkCopiedAt = base.Add(time.Hour + 5*time.Microsecond)
	require.NoError(t, s.Update(ctx, next, 1))
	got, err := s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, next, got)

	stale := inv.Clone()
	stale.Roles, stale.Version = []string{"owner"}, 2
	require.ErrorIs(t, s.Update(ctx, stale, 1), invitations.ErrConflict)
	got, err = s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, next, got)

	other := next.Clone()
	other.AccountID, other.Version = "acct-2", 3
	require.ErrorIs(t, s.Update(ctx, other, 2), invitations.ErrNotFound, "an Update may not cross accounts")
}

func testUpdateTokenHash(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	copied := fixture(t, "acct-1", "ada@example.com", 0)
	copied.LinkCopiedAt = base.Add(time.Minute)
	inv := create(t, s, copied)
	next := inv.Clone()
	next.Token, next.Version, next.LinkCopiedAt = material(t), 2, time.Time{} // as Regenerate does
	require.NoError(t, s.Update(ctx, next, 1))
	_, err := s.GetByTokenHash(ctx, inv.Token.Hash)
	require.ErrorIs(t, err, invitations.ErrNotFound, "the replaced hash must no longer find the invitation")
	got, err := s.GetByTokenHash(ctx, next.Token.Hash)
	require.NoError(t, err)
	requireSame(t, next, got)
}

func testUpdateUnknown(t *testing.T, s invitations.Store) {
	inv := fixture(t, "acct-1", "ada@example.com", 0)
	inv.Version = 2
	require.ErrorIs(t, s.Update(context.Background(), inv, 1), invitations.ErrNotFound)
}

// testUpdateKeepsOnePending: the Service never re-opens an ended
// invitation, but a store must not let an Update break the one-pending rule.
func testUpdateKeepsOnePending(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	old := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	ended := old.Clone()
	ended.State, ended.RevokedAt, ended.Version = invitations.StatusRevoked, base, 2
	require.NoError(t, s.Update(ctx, ended, 1))
	current := create(t, s, fixture(t, "acct-1", "ada@example.com", time.Second))

	reopened := ended.Clone()
	reopened.State, reopened.RevokedAt, reopened.Version = invitations.StatusPending, time.Time{}, 3
	require.ErrorIs(t, s.Update(ctx, reopened, 2), invitations.ErrAlreadyInvited)
	got, err := s.Get(ctx, "acct-1", old.ID)
	require.NoError(t, err)
	requireSame(t, ended, got)
	got, err = s.Get(ctx, "acct-1", current.ID)
	require.NoError(t, err)
	requireSame(t, current, got)
}

func listAll(t *testing.T, s invitations.Store, f invitations.ListFilter) []*invitations.Invitation {
	t.Helper()
	var all []*invitations.Invitation
	for {
		page, err := s.List(context.Background(), f)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), f.Limit)
		all = append(all, page...)
		if len(page) < f.Limit {
			return all
		}
		last := page[len(page)-1]
		f.After = &invitations.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
}

func ids(list []*invitations.Invitation) []uuid.UUID {
	out := make([]uuid.UUID, len(list))
	for i, inv := range list {
		out[i] = inv.ID
	}
	return out
}

func testListPaging(t *testing.T, s invitations.Store) {
	var want []*invitations.Invitation
	// Created out of order, to show the order comes from CreatedAt.
	for _, i := range []int{3, 0, 7, 5, 1, 6, 2, 4, 9, 8, 10} {
		want = append(want, create(t, s, fixture(t, "acct-1", fmt.Sprintf("u%d@example.com", i), time.Duration(i)*time.Minute)))
	}
	slices.SortFunc(want, invitations.CompareNewestFirst)
	for _, limit := range []int{1, 3, 4, 11, 12, 100} {
		got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: limit})
		require.Equal(t, ids(want), ids(got), "limit %d", limit)
	}
	page, err := s.List(context.Background(), invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 3})
	require.NoError(t, err)
	requireSame(t, want[0], page[0])
}

func testListTies(t *testing.T, s invitations.Store) {
	var want []*invitations.Invitation
	for i := range 7 {
		want = append(want, create(t, s, fixture(t, "acct-1", fmt.Sprintf("tie%d@example.com", i), 0)))
	}
	slices.SortFunc(want, invitations.CompareNewestFirst)
	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 2})
	require.Equal(t, ids(want), ids(got), "equal CreatedAt: ID descending, no row lost or repeated across pages")
}

func testListStatus(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(10 * 24 * time.Hour)
	valid := fixture(t, "acct-1", "valid@example.com", 0)
	valid.ExpiresAt = now.Add(time.Microsecond)
	atBoundary := fixture(t, "acct-1", "boundary@example.com", time.Second)
	atBoundary.ExpiresAt = now // expired at exactly ExpiresAt
	expired := fixture(t, "acct-1", "expired@example.com", 2*time.Second)
	byState := map[invitations.Status]*invitations.Invitation{}
	for _, inv := range []*invitations.Invitation{valid, atBoundary, expired} {
		create(t, s, inv)
	}
	for i, state := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		inv := fixture(t, "acct-1", string(state)+"@example.com", time.Duration(3+i)*time.Second)
		inv.State = state
		inv.AcceptedAt, inv.DeclinedAt, inv.RevokedAt = base, base, base
		byState[state] = create(t, s, inv)
	}
	cases := map[invitations.Status][]uuid.UUID{
		invitations.StatusPending:  {valid.ID},
		invitations.StatusExpired:  {expired.ID, atBoundary.ID},
		invitations.StatusAccepted: {byState[invitations.StatusAccepted].ID},
		invitations.StatusDeclined: {byState[invitations.StatusDeclined].ID},
		invitations.StatusRevoked:  {byState[invitations.StatusRevoked].ID},
	}
	for status, want := range cases {
		got, err := s.List(ctx, invitations.ListFilter{AccountID: "acct-1", Status: status, Now: now, Limit: 10})
		require.NoError(t, err)
		require.Equal(t, want, ids(got), "status %s at %s", status, now)
	}
	all, err := s.List(ctx, invitations.ListFilter{AccountID: "acct-1", Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, all, 6)

	// Paging through a filtered list skips the others without losing rows.
	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Status: invitations.StatusExpired, Now: now, Limit: 1})
	require.Equal(t, cases[invitations.StatusExpired], ids(got))
}

func testListIsolation(t *testing.T, s invitations.Store) {
	mine := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	create(t, s, fixture(t, "acct-2", "ada@example.com", time.Second))
	create(t, s, fixture(t, "acct-10", "bob@example.com", 2*time.Second))
	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 10})
	require.Equal(t, []uuid.UUID{mine.ID}, ids(got))
	got = listAll(t, s, invitations.ListFilter{AccountID: "acct-none", Now: base, Limit: 10})
	require.Empty(t, got)
}

func due(t *testing.T, s invitations.Store, account, email string, kind invitations.MessageKind, next time.Time) *invitations.Invitation {
	t.Helper()
	inv := fixture(t, account, email, 0)
	inv.Delivery = invitations.Delivery{Due: kind, NextAttempt: next}
	return create(t, s, inv)
}

func testListDue(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(time.Hour)
	later := due(t, s, "acct-1", "later@example.com", invitations.MessageInvite, now.Add(time.Microsecond))
	first := due(t, s, "acct-2", "first@example.com", invitations.MessageResend, now.Add(-time.Hour))
	atNow := due(t, s, "acct-1", "atnow@example.com", invitations.MessageRegenerate, now)
	second := due(t, s, "acct-3", "second@example.com", invitations.MessageInvite, now.Add(-time.Minute))
	create(t, s, fixture(t, "acct-1", "nothing@example.com", 0)) // nothing due

	got, err := s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID, atNow.ID}, ids(got), "due at or before now, earliest first, across accounts")
	requireSame(t, first, got[0])

	got, err = s.ListDue(ctx, now, 2)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID, second.ID}, ids(got), "limit")

	got, err = s.ListDue(ctx, now.Add(time.Microsecond), 10)
	require.NoError(t, err)
	require.Contains(t, ids(got), later.ID)
}

func testListDueFollowsUpdates(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(time.Hour)
	inv := due(t, s, "acct-1", "ada@example.com", invitations.MessageInvite, now.Add(-time.Second))

	claimed := inv.Clone()
	claimed.Delivery.NextAttempt, claimed.Version = now.Add(5*time.Minute), 2
	require.NoError(t, s.Update(ctx, claimed, 1))
	got, err := s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Empty(t, got, "a claimed message is not due until its lease ends")

	sent := claimed.Clone()
	sent.Delivery, sent.Version = invitations.Delivery{DeliveredAt: now}, 3
	require.NoError(t, s.Update(ctx, sent, 2))
	got, err = s.ListDue(ctx, now.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, got, "a delivered message is no longer due")

	again := sent.Clone()
	again.Delivery, again.Version = invitations.Delivery{Due: invitations.MessageResend, NextAttempt: now}, 4
	require.NoError(t, s.Update(ctx, again, 3))
	got, err = s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{inv.ID}, ids(got))

	n, err := s.DeleteEnded(ctx, now.Add(invitations.DefaultTTL+time.Hour), now.Add(invitations.DefaultTTL+time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err = s.ListDue(ctx, now, 10)
	require.NoError(t, err)
	require.Empty(t, got, "a purged invitation is not due")
}

func testDeleteEnded(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	cutoff := base.Add(30 * 24 * time.Hour)
	ended := func(email string, state invitations.Status, at time.Time) *invitations.Invitation {
		inv := fixture(t, "acct-1", email, 0)
		inv.State = state
		switch state {
		case invitations.StatusAccepted:
			inv.AcceptedAt = at
		case invitations.StatusDeclined:
			inv.DeclinedAt = at
		case invitations.StatusRevoked:
			inv.RevokedAt = at
		}
		return create(t, s, inv)
	}
	gone := []*invitations.Invitation{
		ended("a@example.com", invitations.StatusAccepted, cutoff.Add(-time.Microsecond)),
		ended("d@example.com", invitations.StatusDeclined, base),
		ended("r@example.com", invitations.StatusRevoked, base),
		create(t, s, fixture(t, "acct-2", "x@example.com", 0)), // expired long before the cutoff
	}
	kept := []*invitations.Invitation{
		ended("a2@example.com", invitations.StatusAccepted, cutoff), // not strictly before
		ended("r2@example.com", invitations.StatusRevoked, cutoff.Add(time.Hour)),
	}
	late := fixture(t, "acct-1", "late@example.com", 0)
	late.ExpiresAt = cutoff // expires at the cutoff, not before
	kept = append(kept, create(t, s, late))

	n, err := s.DeleteEnded(ctx, cutoff, cutoff)
	require.NoError(t, err)
	require.Equal(t, len(gone), n)
	for _, inv := range gone {
		_, err := s.Get(ctx, inv.AccountID, inv.ID)
		require.ErrorIs(t, err, invitations.ErrNotFound)
		_, err = s.GetByTokenHash(ctx, inv.Token.Hash)
		require.ErrorIs(t, err, invitations.ErrNotFound)
	}
	for _, inv := range kept {
		got, err := s.Get(ctx, inv.AccountID, inv.ID)
		require.NoError(t, err)
		requireSame(t, inv, got)
	}
	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: 2})
	require.ElementsMatch(t, ids(kept), ids(got))

	n, err = s.DeleteEnded(ctx, cutoff, cutoff)
	require.NoError(t, err)
	require.Zero(t, n, "a second purge finds nothing")
}

func testDeleteFreesEmail(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	n, err := s.DeleteEnded(ctx, base.Add(invitations.DefaultTTL+time.Second), base.Add(invitations.DefaultTTL+time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.Create(ctx, fixture(t, "acct-1", "ada@example.com", time.Hour)))
}

func testCancelled(t *testing.T, s invitations.Store) {
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, context.Canceled)
	next := inv.Clone()
	next.Version = 2
	require.ErrorIs(t, s.Update(ctx, next, 1), context.Canceled)
	got, err := s.Get(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)
	requireSame(t, inv, got)
}

// race runs fn on Concurrency goroutines released together and returns
// their errors.
func race(fn func(i int) error) []error {
	errs := make([]error, Concurrency)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range Concurrency {
		done.Go(func() {
			start.Wait()
			errs[i] = fn(i)
		})
	}
	start.Done()
	done.Wait()
	return errs
}

func testConcurrentUpdate(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	errs := race(func(i int) error {
		next := inv.Clone()
		next.Roles, next.Version = []string{fmt.Sprintf("role-%d", i)}, 2
		return s.Update(ctx, next, 1)
	})
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two compare-and-sets on one version both succeeded")
			winner = i
			continue
		}
		require.ErrorIs(t, err, invitations.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "no compare-and-set succeeded")
	got, err := s.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	require.Equal(t, []string{fmt.Sprintf("role-%d", winner)}, got.Roles)
	require.EqualValues(t, 2, got.Version)
}

func testConcurrentCreate(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	invs := make([]*invitations.Invitation, Concurrency)
	for i := range invs {
		invs[i] = fixture(t, "acct-1", "ada@example.com", time.Duration(i)*time.Second)
	}
	errs := race(func(i int) error { return s.Create(ctx, invs[i]) })
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		var already *invitations.AlreadyInvitedError
		require.True(t, errors.As(err, &already), "want *AlreadyInvitedError, got %v", err)
	}
	require.Equal(t, 1, won)
	page, err := s.List(ctx, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: Concurrency})
	require.NoError(t, err)
	require.Len(t, page, 1)
}

// testDeleteTwoCutoffs: ended invitations go by the first cutoff, pending
// ones by the second, so that the Service can purge what ended long ago
// without touching a link that still works.
func testDeleteTwoCutoffs(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	accepted := fixture(t, "acct-1", "a@example.com", 0)
	accepted.State, accepted.AcceptedAt = invitations.StatusAccepted, base.Add(time.Hour)
	create(t, s, accepted)
	valid := create(t, s, fixture(t, "acct-1", "v@example.com", 0)) // expires base+TTL
	far := base.Add(invitations.DefaultTTL + 30*24*time.Hour)

	n, err := s.DeleteEnded(ctx, far, base.Add(invitations.DefaultTTL))
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the accepted one: the pending one expires at the second cutoff, not before")
	_, err = s.Get(ctx, "acct-1", accepted.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = s.Get(ctx, "acct-1", valid.ID)
	require.NoError(t, err)
}

// testListSearch: Search keeps the emails that start with it, combined
// with the status filter and the cursor, in one account only.
func testListSearch(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	var adas []*invitations.Invitation
	for i := range 5 {
		adas = append(adas, create(t, s, fixture(t, "acct-1", fmt.Sprintf("ada%d@example.com", i), time.Duration(i)*time.Minute)))
	}
	create(t, s, fixture(t, "acct-1", "bob@example.com", 10*time.Minute))
	create(t, s, fixture(t, "acct-1", "xada@example.com", 11*time.Minute)) // contains, does not start with
	create(t, s, fixture(t, "acct-2", "ada9@example.com", 12*time.Minute))
	accepted := adas[1].Clone()
	accepted.State, accepted.AcceptedAt, accepted.Version = invitations.StatusAccepted, base.Add(time.Hour), 2
	require.NoError(t, s.Update(ctx, accepted, 1))

	got := listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Search: "ada", Now: base, Limit: 2})
	want := []uuid.UUID{adas[4].ID, adas[3].ID, adas[2].ID, adas[1].ID, adas[0].ID}
	require.Equal(t, want, ids(got), "newest first, across pages")

	got = listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Search: "ada", Status: invitations.StatusPending, Now: base, Limit: 2})
	require.Equal(t, []uuid.UUID{adas[4].ID, adas[3].ID, adas[2].ID, adas[0].ID}, ids(got))

	got = listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Search: "ada3@example.com", Now: base, Limit: 10})
	require.Equal(t, []uuid.UUID{adas[3].ID}, ids(got), "a whole address matches itself")

	for _, none := range []string{"adb", "ada%", "ada_", "z"} {
		got = listAll(t, s, invitations.ListFilter{AccountID: "acct-1", Search: none, Now: base, Limit: 10})
		require.Empty(t, got, "search %q is a literal prefix", none)
	}
}

// testCount: one number per status at now, expired read off pending.
func testCount(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	end := func(inv *invitations.Invitation, state invitations.Status) {
		c := inv.Clone()
		c.State, c.Version = state, 2
		switch state {
		case invitations.StatusAccepted:
			c.AcceptedAt = base
		case invitations.StatusDeclined:
			c.DeclinedAt = base
		case invitations.StatusRevoked:
			c.RevokedAt = base
		}
		require.NoError(t, s.Update(ctx, c, 1))
	}
	for i := range 3 {
		create(t, s, fixture(t, "acct-1", fmt.Sprintf("p%d@example.com", i), time.Duration(i)*time.Hour))
	}
	old := fixture(t, "acct-1", "old@example.com", -invitations.DefaultTTL) // expires at base
	create(t, s, old)
	end(create(t, s, fixture(t, "acct-1", "a1@example.com", 0)), invitations.StatusAccepted)
	end(create(t, s, fixture(t, "acct-1", "a2@example.com", 0)), invitations.StatusAccepted)
	end(create(t, s, fixture(t, "acct-1", "d@example.com", 0)), invitations.StatusDeclined)
	create(t, s, fixture(t, "acct-2", "other@example.com", 0))

	counts, err := s.Count(ctx, "acct-1", base)
	require.NoError(t, err)
	want := map[invitations.Status]int{
		invitations.StatusPending: 3, invitations.StatusExpired: 1,
		invitations.StatusAccepted: 2, invitations.StatusDeclined: 1,
	}
	for _, st := range []invitations.Status{invitations.StatusPending, invitations.StatusExpired,
		invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		assert.Equal(t, want[st], counts[st], "status %s", st)
	}

	// A day on, the first pending one has still not expired; a week on, all have.
	counts, err = s.Count(ctx, "acct-1", base.Add(invitations.DefaultTTL+3*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 0, counts[invitations.StatusPending])
	assert.Equal(t, 4, counts[invitations.StatusExpired])

	counts, err = s.Count(ctx, "nobody", base)
	require.NoError(t, err)
	for st, n := range counts {
		assert.Zero(t, n, "status %s of an empty account", st)
	}
}

// testCreateMany: every row stored or refused on its own, in order; a
// conflict names the pending invitation, whether it was stored before or
// earlier in the same batch; more rows than a store might put in one
// statement.
func testCreateMany(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	errs, err := s.CreateMany(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, errs)

	held := create(t, s, fixture(t, "acct-1", "held@example.com", 0))
	ended := fixture(t, "acct-1", "ended@example.com", 0)
	ended.State, ended.RevokedAt = invitations.StatusRevoked, base
	create(t, s, ended)

	var batch []*invitations.Invitation
	for i := range 450 {
		row := fixture(t, "acct-1", fmt.Sprintf("u%03d@example.com", i), time.Duration(i)*time.Microsecond)
		if i%3 == 0 {
			row.LinkCopiedAt = row.CreatedAt.Add(time.Minute)
		}
		batch = append(batch, row)
	}
	clash := fixture(t, "acct-1", "held@example.com", time.Second)
	twin := fixture(t, "acct-1", "u007@example.com", time.Second)
	again := fixture(t, "acct-1", "ended@example.com", time.Second)
	other := fixture(t, "acct-2", "held@example.com", time.Second)
	batch = append(batch, clash, twin, again, other)

	errs, err = s.CreateMany(ctx, batch)
	require.NoError(t, err)
	require.Len(t, errs, len(batch))
	for i := range 450 {
		require.NoError(t, errs[i], "row %d", i)
		got, err := s.Get(ctx, "acct-1", batch[i].ID)
		require.NoError(t, err)
		requireSame(t, batch[i], got)
	}
	var already *invitations.AlreadyInvitedError
	require.ErrorAs(t, errs[450], &already, "a pending invitation holds the email")
	assert.Equal(t, held.ID, already.ExistingID)
	require.ErrorAs(t, errs[451], &already, "an earlier row of the batch holds the email")
	assert.Equal(t, batch[7].ID, already.ExistingID)
	require.NoError(t, errs[452], "an ended invitation frees the email")
	require.NoError(t, errs[453], "another account")
	for _, refused := range []*invitations.Invitation{clash, twin} {
		_, err := s.Get(ctx, "acct-1", refused.ID)
		require.ErrorIs(t, err, invitations.ErrNotFound, "a refused row stores nothing")
	}
}

// testCreateManyCancelled: a CreateMany whose context ends at any moment
// reports what it stored: a call error and none of its rows stored, or
// each row stored exactly when its error is nil. The deadlines are spread
// over the time a whole call takes, so that they land before, inside and
// after it (between two statements of a store that needs several).
func testCreateManyCancelled(t *testing.T, s invitations.Store) {
	const rows, tries = 1000, 12
	batch := func(try int) []*invitations.Invitation {
		out := make([]*invitations.Invitation, rows)
		for i := range out {
			out[i] = fixture(t, "acct-1", fmt.Sprintf("t%02d-%04d@example.com", try, i), time.Duration(i)*time.Microsecond)
		}
		return out
	}
	first := batch(0)
	start := time.Now()
	_, err := s.CreateMany(context.Background(), first)
	require.NoError(t, err)
	whole := time.Since(start)
	for try := 1; try <= tries; try++ {
		b := batch(try)
		ctx, cancel := context.WithTimeout(context.Background(), whole*time.Duration(try)/tries)
		errs, err := s.CreateMany(ctx, b)
		cancel()
		if err == nil {
			require.Len(t, errs, rows)
		}
		for i, inv := range b {
			_, getErr := s.Get(context.Background(), "acct-1", inv.ID)
			if getErr != nil {
				require.ErrorIs(t, getErr, invitations.ErrNotFound)
			}
			stored := getErr == nil
			if err != nil {
				require.False(t, stored, "try %d: the call failed (%v), yet row %d is stored", try, err, i)
				continue
			}
			require.Equal(t, errs[i] == nil, stored, "try %d: row %d reported %v", try, i, errs[i])
		}
	}
}

// testConcurrentCreateMany: batches racing over the same emails leave
// exactly one pending invitation per email, and every refusal names it.
func testConcurrentCreateMany(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	const emails = 20
	winners := make([][]uuid.UUID, emails)
	var mu sync.Mutex
	errs := race(func(i int) error {
		var batch []*invitations.Invitation
		for e := range emails {
			batch = append(batch, fixture(t, "acct-1", fmt.Sprintf("e%d@example.com", e), time.Duration(i)*time.Millisecond))
		}
		rowErrs, err := s.CreateMany(ctx, batch)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for e, rowErr := range rowErrs {
			if rowErr == nil {
				winners[e] = append(winners[e], batch[e].ID)
			} else if !errors.Is(rowErr, invitations.ErrAlreadyInvited) {
				return rowErr
			}
		}
		return nil
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	for e := range emails {
		require.Len(t, winners[e], 1, "email %d has exactly one pending invitation", e)
	}
}

// testListRemindable: the pending links expiring in the window, with no
// message due, not reminded since they were last sent, whose delivery
// has not failed; soonest first.
func testListRemindable(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	now := base.Add(invitations.DefaultTTL - 24*time.Hour) // the fixtures below expire a day or so from now
	until := now.Add(48 * time.Hour)
	in := func(email string, offset time.Duration) *invitations.Invitation {
		return fixture(t, "acct-"+email[:1], email, offset)
	}
	soon := create(t, s, in("a@example.com", time.Hour))
	sooner := create(t, s, in("b@example.com", 0))
	resentSince := in("c@example.com", 2*time.Hour) // reminded of an earlier link, sent again since
	resentSince.Delivery.RemindedAt = resentSince.SentAt.Add(-time.Hour)
	create(t, s, resentSince)

	reminded := in("d@example.com", 0)
	reminded.Delivery.RemindedAt = reminded.SentAt.Add(time.Hour)
	create(t, s, reminded)
	due := in("e@example.com", 0)
	due.Delivery = invitations.Delivery{Due: invitations.MessageResend, NextAttempt: now}
	create(t, s, due)
	expired := in("f@example.com", -48*time.Hour)
	create(t, s, expired)
	later := in("g@example.com", 72*time.Hour)
	create(t, s, later)
	ended := in("h@example.com", 0)
	ended.State, ended.AcceptedAt = invitations.StatusAccepted, base
	create(t, s, ended)
	failed := in("i@example.com", 0) // its message failed for good: no reminder
	failed.Delivery = invitations.Delivery{FailedAt: failed.SentAt.Add(time.Minute), LastError: "550 no such mailbox"}
	create(t, s, failed)

	got, err := s.ListRemindable(ctx, now, until, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{sooner.ID, soon.ID, resentSince.ID}, ids(got))
	requireSame(t, soon, got[1])
	got, err = s.ListRemindable(ctx, now, until, 1)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{sooner.ID}, ids(got), "limit")

	marked := sooner.Clone()
	marked.Delivery.RemindedAt, marked.Version = now, 2
	require.NoError(t, s.Update(ctx, marked, 1))
	got, err = s.ListRemindable(ctx, now, until, 10)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{soon.ID, resentSince.ID}, ids(got), "reminded: out until it is sent again")
}
