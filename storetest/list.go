package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

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
	require.NoError(t, s.Update(ctx, accepted, 1, nil))

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
