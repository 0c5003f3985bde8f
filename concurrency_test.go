package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

const goroutines = 50

// together runs fn on n goroutines released at once.
func together(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	ready.Add(1)
	for i := range n {
		done.Go(func() {
			ready.Wait()
			fn(i)
		})
	}
	ready.Done()
	done.Wait()
}

func TestConcurrentAcceptDeclineRevokeOneWinner(t *testing.T) {
	for round := range 20 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			h := newHarness(t)
			inv, token := h.invite("ada@example.com")
			before := h.get(inv.ID).Version
			eventsBefore := len(h.recorded())
			var mu sync.Mutex
			var winners []string
			together(goroutines, func(i int) {
				var err error
				var op string
				switch i % 3 {
				case 0:
					op = "accept"
					_, err = h.svc.Accept(context.Background(), token)
				case 1:
					op = "decline"
					_, err = h.svc.Decline(context.Background(), token)
				case 2:
					op = "revoke"
					_, err = h.svc.Revoke(context.Background(), "acct-1", inv.ID)
				}
				if err == nil {
					mu.Lock()
					winners = append(winners, op)
					mu.Unlock()
					return
				}
				assert.True(t, errors.Is(err, invitations.ErrNotPending) || errors.Is(err, invitations.ErrInvalidToken),
					"a loser gets ErrNotPending or ErrInvalidToken, got %v", err)
			})
			require.Len(t, winners, 1, "exactly one of the racing calls wins")
			final := h.get(inv.ID)
			assert.Equal(t, before+1, final.Version, "one stored change")
			assert.Equal(t, map[string]invitations.Status{
				"accept": invitations.StatusAccepted, "decline": invitations.StatusDeclined, "revoke": invitations.StatusRevoked,
			}[winners[0]], final.State)
			assert.Len(t, h.recorded(), eventsBefore+1, "one end event")
		})
	}
}

func TestConcurrentInvitesOfOneEmail(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	won := 0
	together(goroutines, func(int) {
		_, err := h.svc.Invite(context.Background(), input("acct-1", "ada@example.com"))
		if err == nil {
			mu.Lock()
			won++
			mu.Unlock()
			return
		}
		assert.ErrorIs(t, err, invitations.ErrAlreadyInvited)
	})
	assert.Equal(t, 1, won)
	assert.Equal(t, 1, h.store.Len())
	assert.Len(t, h.mailer.Messages(), 1)
}

func TestConcurrentEditsAllLand(t *testing.T) {
	// Role edits race on one invitation: each retries its lost
	// compare-and-set, so none is lost unless it ran out of attempts.
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	start := h.get(inv.ID).Version
	var mu sync.Mutex
	landed := 0
	together(goroutines, func(i int) {
		_, err := h.svc.UpdateRoles(context.Background(), "acct-1", inv.ID, []string{fmt.Sprint("role-", i)})
		if err == nil {
			mu.Lock()
			landed++
			mu.Unlock()
			return
		}
		assert.ErrorIs(t, err, invitations.ErrConflict)
	})
	assert.Greater(t, landed, 0)
	assert.Equal(t, start+int64(landed), h.get(inv.ID).Version, "every success is one stored version")
}

func TestLostCompareAndSetIsRetriedThenConflict(t *testing.T) {
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	store := &alwaysConflicting{Store: h.store}
	svc, err := invitations.New(store, h.mailer, h.cfg)
	require.NoError(t, err)

	_, err = svc.Accept(context.Background(), token)
	require.ErrorIs(t, err, invitations.ErrConflict)
	attempts := store.updates.Load()
	assert.Greater(t, attempts, int64(1), "a lost compare-and-set is retried")
	assert.LessOrEqual(t, attempts, int64(10), "retries are bounded")

	_, err = svc.Revoke(context.Background(), "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrConflict)
	assert.Equal(t, invitations.StatusPending, h.get(inv.ID).State)

	link, err := svc.CopyLink(context.Background(), "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrConflict, "a copy is a stored change too")
	assert.Empty(t, link, "no link without the record of its copy")
	assert.True(t, h.get(inv.ID).LinkCopiedAt.IsZero())
}

func TestStoreReturningTheWrongRowOpensNothing(t *testing.T) {
	h := newHarness(t)
	victim, _ := h.invite("victim@example.com")
	row, err := h.store.Get(context.Background(), "acct-1", victim.ID)
	require.NoError(t, err)
	_, token := h.invite("ada@example.com")

	svc, err := invitations.New(&wrongRow{Store: h.store, row: row}, h.mailer, h.cfg)
	require.NoError(t, err)
	_, err = svc.Accept(context.Background(), token)
	require.ErrorIs(t, err, invitations.ErrInvalidToken, "the token must derive from the row's own material")
	assert.Equal(t, invitations.StatusPending, h.get(victim.ID).State)
}
