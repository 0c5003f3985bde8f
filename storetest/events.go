package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// event returns an event of kind recording inv as it is now.
func event(t *testing.T, kind invitations.EventKind, inv *invitations.Invitation) *invitations.Event {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	snapshot := *inv.Clone()
	snapshot.Token = invitations.TokenMaterial{KeyID: inv.Token.KeyID}
	return &invitations.Event{ID: id, Kind: kind, At: inv.SentAt, Actor: "grace@example.com", Invitation: snapshot}
}

func eventIDs(events []invitations.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// readFeed pages through the feed of account from after to its end,
// until it has read at least want events or feedWait has passed. A feed
// may hold back committed events while a transaction that began before
// them runs (sqlstore on PostgreSQL: anywhere in the cluster, such as a
// test running beside this one), so a test that knows what it wrote
// waits for it rather than take a short read for the end.
func readFeed(t *testing.T, s invitations.Store, account, after string, limit, want int) ([]invitations.Event, string) {
	t.Helper()
	var all []invitations.Event
	deadline := time.Now().Add(feedWait)
	for {
		page, next, err := s.ListEvents(context.Background(), invitations.EventFilter{AccountID: account, After: after, Limit: limit})
		require.NoError(t, err)
		all = append(all, page...)
		if len(page) == 0 {
			require.Equal(t, after, next, "an empty page keeps the position")
			if len(all) >= want || time.Now().After(deadline) {
				return all, next
			}
			time.Sleep(10 * time.Millisecond)
		}
		after = next
	}
}

// feedWait bounds how long readFeed waits for the events a test expects.
const feedWait = 15 * time.Second

// testEventsWithChange: an event is stored in the same operation as the
// change it records: with a Create, an Update, a CreateMany row; not with
// a refused Create, a lost compare-and-set or a refused CreateMany row;
// none with a nil event. History reads them back oldest first, scoped to
// the account, with the invitation as recorded.
func testEventsWithChange(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	inv := fixture(t, "acct-1", "ada@example.com", 0)
	invited := event(t, invitations.EventInvited, inv)
	require.NoError(t, s.Create(ctx, inv, invited))
	again := fixture(t, "acct-1", "ada@example.com", time.Second)
	require.ErrorIs(t, s.Create(ctx, again, event(t, invitations.EventInvited, again)), invitations.ErrAlreadyInvited)

	next := inv.Clone()
	next.Roles, next.Version = []string{"viewer"}, 2
	updated := event(t, invitations.EventRolesUpdated, next)
	require.NoError(t, s.Update(ctx, next, 1, updated))
	stale := inv.Clone()
	stale.Version = 2
	require.ErrorIs(t, s.Update(ctx, stale, 1, event(t, invitations.EventRevoked, stale)), invitations.ErrConflict)
	claim := next.Clone()
	claim.Version = 3
	require.NoError(t, s.Update(ctx, claim, 2, nil))

	history, err := s.History(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{invited.ID, updated.ID}, eventIDs(history), "the refused and the lost change left none")
	assert.Equal(t, invitations.EventRolesUpdated, history[1].Kind)
	assert.Equal(t, "grace@example.com", history[1].Actor)
	assert.Equal(t, []string{"viewer"}, history[1].Invitation.Roles, "the invitation as it was right after the change")
	assert.True(t, history[1].At.Equal(updated.At))
	other, err := s.History(ctx, "acct-2", inv.ID)
	require.NoError(t, err)
	assert.Empty(t, other, "another account sees none")

	b := fixture(t, "acct-1", "bob@example.com", 0)
	clash := fixture(t, "acct-1", "ada@example.com", 2*time.Second)
	evs := []*invitations.Event{event(t, invitations.EventInvited, b), event(t, invitations.EventInvited, clash)}
	errs, err := s.CreateMany(ctx, []*invitations.Invitation{b, clash}, evs)
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], invitations.ErrAlreadyInvited)
	history, err = s.History(ctx, "acct-1", b.ID)
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{evs[0].ID}, eventIDs(history))
	history, err = s.History(ctx, "acct-1", clash.ID)
	require.NoError(t, err)
	assert.Empty(t, history, "the refused row stored no event")
}

// testEventsFeed: the feed of an account and of every account, in pages,
// each event once, in the order stored, resumable from any position.
func testEventsFeed(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	var want, wantAcct1 []uuid.UUID
	for i := range 7 {
		account := fmt.Sprintf("acct-%d", 1+i%2)
		inv := fixture(t, account, fmt.Sprintf("p%d@example.com", i), time.Duration(i)*time.Second)
		ev := event(t, invitations.EventInvited, inv)
		require.NoError(t, s.Create(ctx, inv, ev))
		want = append(want, ev.ID)
		if account == "acct-1" {
			wantAcct1 = append(wantAcct1, ev.ID)
		}
	}
	all, end := readFeed(t, s, "", "", 3, len(want))
	assert.Equal(t, want, eventIDs(all), "every account, in the order stored")
	acct1, acct1End := readFeed(t, s, "acct-1", "", 2, len(wantAcct1))
	assert.Equal(t, wantAcct1, eventIDs(acct1))

	inv := fixture(t, "acct-1", "late@example.com", time.Minute)
	late := event(t, invitations.EventInvited, inv)
	require.NoError(t, s.Create(ctx, inv, late))
	rest, _ := readFeed(t, s, "", end, 3, 1)
	assert.Equal(t, []uuid.UUID{late.ID}, eventIDs(rest), "resumed from the saved position: only what came since")
	rest, _ = readFeed(t, s, "acct-1", acct1End, 3, 1)
	assert.Equal(t, []uuid.UUID{late.ID}, eventIDs(rest))
	rest, _ = readFeed(t, s, "acct-2", "", 10, 3)
	assert.Len(t, rest, 3, "another account's feed")

	_, _, err := s.ListEvents(ctx, invitations.EventFilter{After: "not a position", Limit: 10})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
}

// testEventsPurged: DeleteEnded deletes the history of what it deletes,
// and nothing else.
func testEventsPurged(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	old := fixture(t, "acct-1", "old@example.com", 0)
	old.State, old.RevokedAt = invitations.StatusRevoked, base
	require.NoError(t, s.Create(ctx, old, event(t, invitations.EventRevoked, old)))
	keep := fixture(t, "acct-1", "keep@example.com", 0)
	kept := event(t, invitations.EventInvited, keep)
	require.NoError(t, s.Create(ctx, keep, kept))
	n, err := s.DeleteEnded(ctx, base.Add(time.Hour), base.Add(-invitations.DefaultTTL))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	history, err := s.History(ctx, "acct-1", old.ID)
	require.NoError(t, err)
	assert.Empty(t, history)
	all, _ := readFeed(t, s, "", "", 10, 1)
	assert.Equal(t, []uuid.UUID{kept.ID}, eventIDs(all))
}

// testEventsPositionOutlivesPurge: a purge that deletes the newest event
// does not hand its position out again: a consumer that read up to it
// still reads the next change, on the feed of every account and on the
// account's.
func testEventsPositionOutlivesPurge(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	keep := fixture(t, "acct-1", "keep@example.com", 0)
	require.NoError(t, s.Create(ctx, keep, event(t, invitations.EventInvited, keep)))
	old := fixture(t, "acct-1", "old@example.com", 0)
	old.State, old.RevokedAt = invitations.StatusRevoked, base
	require.NoError(t, s.Create(ctx, old, event(t, invitations.EventRevoked, old)))
	_, everyAccount := readFeed(t, s, "", "", 10, 2)
	_, account := readFeed(t, s, "acct-1", "", 10, 2)

	n, err := s.DeleteEnded(ctx, base.Add(time.Hour), base.Add(-invitations.DefaultTTL))
	require.NoError(t, err)
	require.Equal(t, 1, n, "the newest event's invitation is purged")
	next := fixture(t, "acct-1", "next@example.com", 0)
	invited := event(t, invitations.EventInvited, next)
	require.NoError(t, s.Create(ctx, next, invited))

	all, _ := readFeed(t, s, "", everyAccount, 10, 1)
	assert.Equal(t, []uuid.UUID{invited.ID}, eventIDs(all), "every account's feed")
	mine, _ := readFeed(t, s, "acct-1", account, 10, 1)
	assert.Equal(t, []uuid.UUID{invited.ID}, eventIDs(mine), "the account's feed")
	all, _ = readFeed(t, s, "", "", 10, 2)
	assert.Len(t, all, 2, "the purged event is gone, and nothing stands in its place")
}

// testEventsConcurrent: writers racing while a reader tails the feed from
// its saved position: at the end the reader has seen every stored event
// exactly once.
func testEventsConcurrent(t *testing.T, s invitations.Store) {
	ctx := context.Background()
	var mu sync.Mutex
	stored := map[uuid.UUID]bool{}
	done := make(chan struct{})
	seen := map[uuid.UUID]int{}
	var tail sync.WaitGroup
	tail.Go(func() {
		after := ""
		for {
			select {
			case <-done:
				mu.Lock()
				missing := len(stored) - len(seen)
				mu.Unlock()
				rest, _ := readFeed(t, s, "", after, 7, missing)
				for _, e := range rest {
					seen[e.ID]++
				}
				return
			default:
			}
			page, next, err := s.ListEvents(ctx, invitations.EventFilter{After: after, Limit: 7})
			if !assert.NoError(t, err) {
				return
			}
			for _, e := range page {
				seen[e.ID]++
			}
			after = next
		}
	})
	errs := race(func(i int) error {
		inv := fixture(t, fmt.Sprintf("acct-%d", i%3), fmt.Sprintf("w%d@example.com", i), time.Duration(i)*time.Millisecond)
		ev := event(t, invitations.EventInvited, inv)
		if err := s.Create(ctx, inv, ev); err != nil {
			return err
		}
		mu.Lock()
		stored[ev.ID] = true
		mu.Unlock()
		for v := int64(1); v < 4; v++ {
			next := inv.Clone()
			next.Version = v + 1
			ev := event(t, invitations.EventResent, next)
			if err := s.Update(ctx, next, v, ev); err != nil {
				return err
			}
			mu.Lock()
			stored[ev.ID] = true
			mu.Unlock()
		}
		return nil
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	close(done)
	tail.Wait()
	assert.Len(t, stored, 4*concurrency)
	for id := range stored {
		assert.Equal(t, 1, seen[id], "event %s seen once", id)
	}
	assert.Len(t, seen, len(stored), "no event the writers did not store")
}
