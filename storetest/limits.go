package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// limitTests check invitations.LimitStore; Run runs them on a Store that
// implements it and skips them, saying so, on one that does not.
var limitTests = []struct {
	name string
	fn   func(t *testing.T, s invitations.LimitStore)
}{
	{"LimitsMailLedger", testMailLedger},
	{"LimitsLedgerIsolatesAccounts", testLedgerIsolation},
	{"LimitsCountValidLinks", testCountValidLinks},
	{"LimitsValidLinksBound", testValidLinksBound},
	{"LimitsLockAccountExcludes", testLockExcludes},
	{"LimitsLockAccountSeesOwnWrites", testLockSeesOwnWrites},
	{"LimitsLockAccountReturnsFnError", testLockReturnsError},
}

func runLimitTests(t *testing.T, newStore func(t *testing.T) invitations.Store) {
	for _, tc := range limitTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ok := newStore(t).(invitations.LimitStore)
			if !ok {
				t.Skip("the Store does not implement invitations.LimitStore (needed only for Config.Limits)")
			}
			tc.fn(t, s)
		})
	}
}

func testMailLedger(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	forgetNothing := base.Add(-48 * time.Hour)
	for i, n := range []int{1, 3, 1, 2} {
		require.NoError(t, s.RecordMails(ctx, "acct-1", base.Add(time.Duration(i)*time.Minute), n, forgetNothing))
	}
	mails := func(since time.Time) int {
		t.Helper()
		n, err := s.CountMails(ctx, "acct-1", since)
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 7, mails(base.Add(-time.Hour)), "the sum of the counts")
	assert.Equal(t, 3, mails(base.Add(time.Minute)), "since is exclusive")
	assert.Equal(t, 0, mails(base.Add(3*time.Minute)))
	got, err := s.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []invitations.MailRecord{
		{At: base.Add(3 * time.Minute), Count: 2},
		{At: base.Add(2 * time.Minute), Count: 1},
		{At: base.Add(time.Minute), Count: 3},
		{At: base, Count: 1},
	}, got, "newest first, every field read back")

	got, err = s.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 2)
	require.NoError(t, err)
	require.Len(t, got, 2, "limit")
	require.Equal(t, base.Add(3*time.Minute), got[0].At)

	got, err = s.RecentMails(ctx, "acct-1", base.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "since is exclusive: the record at since is out")

	// Recording forgets the account's records at or before forgetBefore.
	require.NoError(t, s.RecordMails(ctx, "acct-1", base.Add(4*time.Minute), 1, base.Add(time.Minute)))
	got, err = s.RecentMails(ctx, "acct-1", base.Add(-48*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []invitations.MailRecord{
		{At: base.Add(4 * time.Minute), Count: 1},
		{At: base.Add(3 * time.Minute), Count: 2},
		{At: base.Add(2 * time.Minute), Count: 1},
	}, got)

	// n = 0 only forgets.
	require.NoError(t, s.RecordMails(ctx, "acct-1", base.Add(5*time.Minute), 0, base.Add(3*time.Minute)))
	got, err = s.RecentMails(ctx, "acct-1", base.Add(-48*time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []invitations.MailRecord{{At: base.Add(4 * time.Minute), Count: 1}}, got)
}

func testLedgerIsolation(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	require.NoError(t, s.RecordMails(ctx, "acct-1", base, 5, base.Add(-time.Hour)))
	require.NoError(t, s.RecordMails(ctx, "acct-2", base.Add(time.Minute), 7, base.Add(time.Hour)))
	got, err := s.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []invitations.MailRecord{{At: base, Count: 5}}, got, "acct-2's forgetting left acct-1 alone")
	n, err := s.CountMails(ctx, "acct-2", base.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 7, n)
	got, err = s.RecentMails(ctx, "acct-3", base.Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testCountValidLinks(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	for i, email := range []string{"a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com"} {
		create(t, s, fixture(t, "acct-1", email, time.Duration(i)*time.Hour))
	}
	create(t, s, fixture(t, "acct-2", "a@example.com", 0))
	ended := create(t, s, fixture(t, "acct-1", "f@example.com", 0))
	next := ended.Clone()
	next.State, next.RevokedAt, next.Version = invitations.StatusRevoked, base, 2
	require.NoError(t, s.Update(ctx, next, 1, nil))

	count := func(now time.Time, limit int) int {
		t.Helper()
		n, err := s.CountValidLinks(ctx, "acct-1", now, limit)
		require.NoError(t, err)
		return n
	}
	assert.Equal(t, 5, count(base, 100), "pending links of the account; revoked and other accounts' left out")
	assert.Equal(t, 3, count(base, 3), "stops at the limit")
	// a@ expires at base+TTL exactly: at that instant it no longer works.
	assert.Equal(t, 4, count(base.Add(invitations.DefaultTTL), 100))
	assert.Equal(t, 0, count(base.Add(invitations.DefaultTTL+4*time.Hour), 100))
}

// testLockExcludes: of many LockAccount calls on one account, one runs at
// a time, and each sees every write of those before it.
func testLockExcludes(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	var inside, overlaps atomic.Int32
	errs := race(func(i int) error {
		return s.LockAccount(ctx, "acct-1", func(ctx context.Context, st invitations.LimitStore) error {
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer inside.Add(-1)
			got, err := st.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 1)
			if err != nil {
				return err
			}
			total := 0
			if len(got) > 0 {
				total = got[0].Count
			}
			// Each writes the running total plus one, a second later:
			// a lost update would show as a total short of concurrency.
			return st.RecordMails(ctx, "acct-1", base.Add(time.Duration(total+1)*time.Second), total+1, base.Add(-time.Hour))
		})
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, overlaps.Load(), "two LockAccount calls of one account ran at once")
	got, err := s.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 1)
	require.NoError(t, err)
	require.Equal(t, concurrency, got[0].Count)
}

func testLockSeesOwnWrites(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	err := s.LockAccount(ctx, "acct-1", func(ctx context.Context, st invitations.LimitStore) error {
		if err := st.Create(ctx, fixture(t, "acct-1", "ada@example.com", 0), nil); err != nil {
			return err
		}
		n, err := st.CountValidLinks(ctx, "acct-1", base, 10)
		if err != nil {
			return err
		}
		assert.Equal(t, 1, n)
		return st.RecordMails(ctx, "acct-1", base, 1, base.Add(-time.Hour))
	})
	require.NoError(t, err)
	n, err := s.CountValidLinks(ctx, "acct-1", base, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "kept after fn returned nil")
	got, err := s.RecentMails(ctx, "acct-1", base.Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func testLockReturnsError(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	mine := errors.New("fn refused")
	err := s.LockAccount(ctx, "acct-1", func(context.Context, invitations.LimitStore) error { return mine })
	require.ErrorIs(t, err, mine)
	// The lock was released: the next one gets in.
	require.NoError(t, s.LockAccount(ctx, "acct-1", func(context.Context, invitations.LimitStore) error { return nil }))
}

func testValidLinksBound(t *testing.T, s invitations.LimitStore) {
	ctx := context.Background()
	got, err := s.ValidLinksBound(ctx, "acct-1")
	require.NoError(t, err)
	require.Equal(t, invitations.LinkBound{}, got, "none stored yet")
	require.NoError(t, s.SetValidLinksBound(ctx, "acct-1", invitations.LinkBound{Links: 7, CountedAt: base}))
	require.NoError(t, s.SetValidLinksBound(ctx, "acct-2", invitations.LinkBound{Links: 1, CountedAt: base.Add(time.Hour)}))
	require.NoError(t, s.SetValidLinksBound(ctx, "acct-1", invitations.LinkBound{Links: 9, CountedAt: base.Add(time.Minute)}))
	got, err = s.ValidLinksBound(ctx, "acct-1")
	require.NoError(t, err)
	require.Equal(t, invitations.LinkBound{Links: 9, CountedAt: base.Add(time.Minute)}, got, "replaced, every field read back")
	got, err = s.ValidLinksBound(ctx, "acct-2")
	require.NoError(t, err)
	require.Equal(t, invitations.LinkBound{Links: 1, CountedAt: base.Add(time.Hour)}, got)
}
