package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

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

func testOnePending(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	first := create(t, s, fixture(t, "acct-1", "ada@example.com", 0))
	err := s.Create(ctx, fixture(t, "acct-1", "ada@example.com", time.Second), nil)
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
		require.NoError(t, s.Update(ctx, next, inv.Version, nil))
		require.NoError(t, s.Create(ctx, fixture(t, "acct-1", email, time.Hour), nil), "after %s the email may be invited again", state)
	}
}

func testConcurrentCreate(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	invs := make([]*invitations.Invitation, concurrency)
	for i := range invs {
		invs[i] = fixture(t, "acct-1", "ada@example.com", time.Duration(i)*time.Second)
	}
	errs := race(func(i int) error { return s.Create(ctx, invs[i], nil) })
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
	page, err := s.List(ctx, invitations.ListFilter{AccountID: "acct-1", Now: base, Limit: concurrency})
	require.NoError(t, err)
	require.Len(t, page, 1)
}

// testCreateMany: every row stored or refused on its own, in order; a
// conflict names the pending invitation, whether it was stored before or
// earlier in the same batch; more rows than a store might put in one
// statement.
func testCreateMany(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	errs, err := s.CreateMany(ctx, nil, nil)
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

	errs, err = s.CreateMany(ctx, batch, nil)
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
	_, err := s.CreateMany(context.Background(), first, nil)
	require.NoError(t, err)
	whole := time.Since(start)
	for try := 1; try <= tries; try++ {
		b := batch(try)
		ctx, cancel := context.WithTimeout(context.Background(), whole*time.Duration(try)/tries)
		errs, err := s.CreateMany(ctx, b, nil)
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
		rowErrs, err := s.CreateMany(ctx, batch, nil)
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
