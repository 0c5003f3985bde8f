// Package limitsuite checks the rules of Config.Limits through the Service,
// on any Store that implements invitations.LimitStore: the root package
// runs it on memstore, sqlstore on SQLite and PostgreSQL.
package limitsuite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

// Concurrency is how many Invites race in the cross-Service tests: 64,
// split over two Services, so that a lost update or a mail counted twice
// under the account's lock shows in the totals.
const Concurrency = 64

var (
	secret = []byte("limits suite secret, 32 bytes or more")
	start  = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

const day = 24 * time.Hour

// Run runs every limits test, each on a fresh store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) invitations.LimitStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, w *world)
	}{
		{"DailyQuotaRefusesAndSaysWhen", testDailyQuota},
		{"EveryKindOfMailCounts", testEveryKindCounts},
		{"SkipMailAndRetriesDoNotCount", testSkipMailAndRetries},
		{"QuotaIsPerAccount", testQuotaPerAccount},
		{"ResendCooldownFromLastDeliveredMail", testCooldown},
		{"ResendCooldownHoldsUnderRaces", testCooldownRace},
		{"ResendCooldownCountsAMailInFlight", testCooldownInFlight},
		{"ResendCooldownCountsARetryInFlight", testCooldownRetryInFlight},
		{"PendingCapCountsWorkingLinks", testPendingCap},
		{"PendingCapRecountsHourly", testCapRecount},
		{"InviteManyRowsOverTheLimitFailAlone", testInviteMany},
		{"InviteManyReportsWhatIsStoredWhenCancelled", testInviteManyCancelled},
		{"CancelledAfterTheWriteNeverPassesTheQuota", testCancelledAfterWrite},
		{"ReminderOverQuotaIsSkipped", testReminderSkipped},
		{"QuotaExactAcrossTwoServices", testQuotaRace},
		{"PendingCapExactAcrossTwoServices", testCapRace},
		{"ResendQuotaExactAcrossTwoServices", testResendRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, &world{t: t, store: newStore(t), clock: invitationstest.NewClock(start), mailer: invitationstest.NewMailer()})
		})
	}
}

type world struct {
	t      *testing.T
	store  invitations.LimitStore
	clock  *invitationstest.Clock
	mailer *invitationstest.Mailer
}

// service returns a Service with these limits on the world's store, mailer
// and clock; each call makes another instance, as another process would.
func (w *world) service(l invitations.Limits, adjust ...func(*invitations.Config)) *invitations.Service {
	w.t.Helper()
	return w.serviceMailing(w.mailer, l, adjust...)
}

// serviceMailing is service with another Mailer in front of the world's.
func (w *world) serviceMailing(m invitations.Mailer, l invitations.Limits, adjust ...func(*invitations.Config)) *invitations.Service {
	w.t.Helper()
	cfg := invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept", Now: w.clock.Now, Limits: l}
	for _, f := range adjust {
		f(&cfg)
	}
	svc, err := invitations.New(w.store, m, cfg)
	require.NoError(w.t, err)
	return svc
}

func input(account, email string) invitations.InviteInput {
	return invitations.InviteInput{AccountID: account, Email: email, Roles: []string{"member"}}
}

func (w *world) invite(svc *invitations.Service, email string) *invitations.Invitation {
	w.t.Helper()
	inv, err := svc.Invite(context.Background(), input("acct-1", email))
	require.NoError(w.t, err)
	return inv
}

func (w *world) sent() int { return len(w.mailer.Messages()) }

func (w *world) stored(account string) int {
	w.t.Helper()
	counts, err := w.store.Count(context.Background(), account, w.clock.Now())
	require.NoError(w.t, err)
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// rateLimited asserts err is a *RateLimitedError of the limit, and returns it.
func rateLimited(t *testing.T, err error, limit invitations.LimitName) *invitations.RateLimitedError {
	t.Helper()
	require.ErrorIs(t, err, invitations.ErrRateLimited)
	var rl *invitations.RateLimitedError
	require.True(t, errors.As(err, &rl), "want a *RateLimitedError, got %v", err)
	assert.Equal(t, limit, rl.Limit)
	return rl
}

func testDailyQuota(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 3})
	for i := range 3 {
		w.invite(svc, fmt.Sprintf("p%d@example.com", i))
		w.clock.Advance(time.Minute)
	}
	w.clock.Advance(7 * time.Minute) // the first mail was 10 minutes ago
	_, err := svc.Invite(ctx, input("acct-1", "late@example.com"))
	rl := rateLimited(t, err, invitations.LimitMailsPerDay)
	assert.Equal(t, day-10*time.Minute, rl.RetryAfter, "when the first mail leaves the rolling window")
	assert.Equal(t, 3, w.sent(), "nothing sent")
	assert.Equal(t, 3, w.stored("acct-1"), "nothing stored")

	w.clock.Advance(rl.RetryAfter - time.Microsecond)
	_, err = svc.Invite(ctx, input("acct-1", "late@example.com"))
	rl = rateLimited(t, err, invitations.LimitMailsPerDay)
	assert.Equal(t, time.Microsecond, rl.RetryAfter)
	w.clock.Advance(time.Microsecond)
	w.invite(svc, "late@example.com")
	_, err = svc.Invite(ctx, input("acct-1", "later@example.com"))
	rl = rateLimited(t, err, invitations.LimitMailsPerDay)
	assert.Equal(t, time.Minute, rl.RetryAfter, "the second mail leaves a minute after the first")
	assert.Equal(t, 4, w.sent())
}

func testEveryKindCounts(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 4}, func(c *invitations.Config) { c.TTL = time.Hour })
	a := w.invite(svc, "a@example.com")
	w.clock.Advance(time.Minute)
	_, err := svc.Resend(ctx, "acct-1", a.ID)
	require.NoError(t, err)
	b := w.invite(svc, "b@example.com")
	w.clock.Advance(2 * time.Hour) // both expired
	_, err = svc.Regenerate(ctx, "acct-1", b.ID)
	require.NoError(t, err)
	assert.Equal(t, 4, w.sent())

	_, err = svc.Regenerate(ctx, "acct-1", a.ID)
	rateLimited(t, err, invitations.LimitMailsPerDay)
	got, err := svc.Get(ctx, "acct-1", a.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusExpired, svc.Status(got), "a refused Regenerate changes nothing")
	assert.Equal(t, 2, got.SendCount)

	_, err = svc.Resend(ctx, "acct-1", b.ID)
	rateLimited(t, err, invitations.LimitMailsPerDay)
	_, err = svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "c@example.com")})
	require.NoError(t, err, "the call succeeds; its row fails")
	assert.Equal(t, 4, w.sent())
	assert.Equal(t, 2, w.stored("acct-1"))
}

func testSkipMailAndRetries(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 2})
	for i := range 5 {
		in := input("acct-1", fmt.Sprintf("quiet%d@example.com", i))
		in.SkipMail = true
		_, err := svc.Invite(ctx, in)
		require.NoError(t, err, "SkipMail counts nothing")
	}
	// A mail that fails and is retried counts once.
	w.mailer.FailNext(1, nil)
	_, err := svc.Invite(ctx, input("acct-1", "flaky@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	w.clock.Advance(10 * time.Minute)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, r.Delivered, "the retry is not refused")
	w.invite(svc, "second@example.com")
	_, err = svc.Invite(ctx, input("acct-1", "third@example.com"))
	rateLimited(t, err, invitations.LimitMailsPerDay)
	assert.Equal(t, 2, w.sent())
}

func testQuotaPerAccount(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 1})
	w.invite(svc, "a@example.com")
	_, err := svc.Invite(ctx, input("acct-1", "b@example.com"))
	rateLimited(t, err, invitations.LimitMailsPerDay)
	_, err = svc.Invite(ctx, input("acct-2", "b@example.com"))
	require.NoError(t, err, "another account has its own quota")
}

func testCooldown(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{ResendCooldown: time.Minute})
	inv := w.invite(svc, "ada@example.com")
	w.clock.Advance(20 * time.Second)
	_, err := svc.Resend(ctx, "acct-1", inv.ID)
	rl := rateLimited(t, err, invitations.LimitResendCooldown)
	assert.Equal(t, 40*time.Second, rl.RetryAfter)
	assert.Equal(t, 1, w.sent())
	w.clock.Advance(40 * time.Second)
	_, err = svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "a minute after the last delivered mail")

	// A failed send does not start the cooldown.
	w.mailer.FailNext(1, nil)
	failed, err := svc.Invite(ctx, input("acct-1", "bob@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	_, err = svc.Resend(ctx, "acct-1", failed.ID)
	require.NoError(t, err, "nothing was delivered yet")
	assert.Equal(t, 3, w.sent())

	// Other accounts, other invitations are not held up.
	other := w.invite(svc, "cy@example.com")
	require.NotEqual(t, inv.ID, other.ID)
}

// testCooldownRace: Resends racing from two Services while the winner's
// mail is in flight: exactly one mails, the others are told to wait the
// whole cooldown.
func testCooldownRace(t *testing.T, w *world) {
	ctx := context.Background()
	limits := invitations.Limits{ResendCooldown: time.Hour}
	slow := invitations.MailerFunc(func(ctx context.Context, m invitations.Message) error {
		time.Sleep(40 * time.Millisecond)
		return w.mailer.Send(ctx, m)
	})
	svcs := [2]*invitations.Service{w.serviceMailing(slow, limits), w.serviceMailing(slow, limits)}
	inv := w.invite(svcs[0], "ada@example.com")
	w.clock.Advance(2 * time.Hour)
	errs := together(16, svcs, func(svc *invitations.Service, _ int) error {
		_, err := svc.Resend(ctx, "acct-1", inv.ID)
		return err
	})
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		rl := rateLimited(t, err, invitations.LimitResendCooldown)
		assert.Equal(t, time.Hour, rl.RetryAfter, "the clock stood still: the whole cooldown is left")
	}
	assert.Equal(t, 1, ok, "one Resend wins")
	assert.Equal(t, 2, w.sent(), "the invite and one resend")
}

// testCooldownInFlight: a Resend while the invite's own first mail is
// still being sent is refused; once that mail failed, a Resend is allowed.
func testCooldownInFlight(t *testing.T, w *world) {
	ctx := context.Background()
	limits := invitations.Limits{ResendCooldown: time.Hour}
	sending, release := make(chan struct{}), make(chan struct{})
	gated := invitations.MailerFunc(func(ctx context.Context, m invitations.Message) error {
		if m.To == "ada@example.com" && m.Kind == invitations.MessageInvite {
			close(sending)
			<-release
		}
		return w.mailer.Send(ctx, m)
	})
	svc := w.serviceMailing(gated, limits)
	invited := make(chan error, 1)
	go func() {
		_, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
		invited <- err
	}()
	<-sending
	page, err := svc.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	require.Len(t, page.Invitations, 1, "stored before it is sent")
	inv := page.Invitations[0]
	w.clock.Advance(time.Minute)
	assert.NotContains(t, svc.Actions(inv), invitations.ActionResend)
	_, err = svc.Resend(ctx, "acct-1", inv.ID)
	rl := rateLimited(t, err, invitations.LimitResendCooldown)
	assert.Equal(t, 59*time.Minute, rl.RetryAfter)
	close(release)
	require.NoError(t, <-invited)
	assert.Equal(t, 1, w.sent())

	// A failed send does not count: the next Resend may go at once.
	w.mailer.FailNext(1, nil)
	bob, err := svc.Invite(ctx, input("acct-1", "bob@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	assert.Contains(t, svc.Actions(bob), invitations.ActionResend)
	_, err = svc.Resend(ctx, "acct-1", bob.ID)
	require.NoError(t, err)
}

// testCooldownRetryInFlight: a retry that DeliverDue is sending counts
// like a first attempt: a Resend meanwhile is refused, and one mail goes.
func testCooldownRetryInFlight(t *testing.T, w *world) {
	ctx := context.Background()
	limits := invitations.Limits{ResendCooldown: time.Hour}
	var gate atomic.Bool
	sending, release := make(chan struct{}), make(chan struct{})
	gated := invitations.MailerFunc(func(ctx context.Context, m invitations.Message) error {
		if gate.CompareAndSwap(true, false) {
			close(sending)
			<-release
		}
		return w.mailer.Send(ctx, m)
	})
	svc := w.serviceMailing(gated, limits)
	w.mailer.FailNext(1, nil)
	inv, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery, "the first attempt fails: a retry is due")
	w.clock.Advance(2 * invitations.DefaultBackoff)

	gate.Store(true)
	delivered := make(chan invitations.DeliveryReport, 1)
	go func() {
		r, _ := svc.DeliverDue(ctx)
		delivered <- r
	}()
	<-sending // the retry is claimed and on its way
	page, err := svc.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.NotContains(t, svc.Actions(page.Invitations[0]), invitations.ActionResend)
	_, err = svc.Resend(ctx, "acct-1", inv.ID)
	rl := rateLimited(t, err, invitations.LimitResendCooldown)
	assert.Equal(t, time.Hour, rl.RetryAfter, "from the retry's start")
	close(release)
	assert.Equal(t, 1, (<-delivered).Delivered)
	assert.Equal(t, 1, w.sent(), "one mail")
}

func testPendingCap(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MaxPendingPerAccount: 2}, func(c *invitations.Config) { c.TTL = time.Hour })
	a := w.invite(svc, "a@example.com")
	quiet := input("acct-1", "b@example.com")
	quiet.SkipMail = true
	b, err := svc.Invite(ctx, quiet)
	require.NoError(t, err, "a link shared by hand counts too")
	_, err = svc.Invite(ctx, input("acct-1", "c@example.com"))
	require.ErrorIs(t, err, invitations.ErrTooManyPending)
	assert.Equal(t, 1, w.sent())
	assert.Equal(t, 2, w.stored("acct-1"))
	_, err = svc.Invite(ctx, input("acct-2", "c@example.com"))
	require.NoError(t, err, "another account has its own cap")

	_, err = svc.Revoke(ctx, "acct-1", b.ID)
	require.NoError(t, err)
	c := w.invite(svc, "c@example.com")

	w.clock.Advance(2 * time.Hour) // a and c expired: they no longer count
	d := w.invite(svc, "d@example.com")
	w.invite(svc, "e@example.com")
	_, err = svc.Regenerate(ctx, "acct-1", a.ID)
	require.ErrorIs(t, err, invitations.ErrTooManyPending, "a regenerated link would work again")
	_, err = svc.Revoke(ctx, "acct-1", d.ID)
	require.NoError(t, err)
	_, err = svc.Regenerate(ctx, "acct-1", c.ID)
	require.NoError(t, err)
	// Resending a working link adds none.
	_, err = svc.Resend(ctx, "acct-1", c.ID)
	require.NoError(t, err)
}

// testCapRecount: the cap counts an account's working links exactly when
// a call would reach it, and at least hourly; links made meanwhile by a
// Service without the cap are seen at the next count.
func testCapRecount(t *testing.T, w *world) {
	ctx := context.Background()
	capped := w.service(invitations.Limits{MaxPendingPerAccount: 4})
	uncapped := w.service(invitations.Limits{})
	w.invite(capped, "a@example.com")
	for i := range 3 {
		w.invite(uncapped, fmt.Sprintf("u%d@example.com", i)) // 4 working now, unseen by the bound
	}
	w.clock.Advance(time.Hour)
	_, err := capped.Invite(ctx, input("acct-1", "b@example.com"))
	require.ErrorIs(t, err, invitations.ErrTooManyPending, "an hour on, the cap counts again")
	assert.Equal(t, 4, w.stored("acct-1"))
}

func testInviteMany(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 3, MaxPendingPerAccount: 4})
	quiet := input("acct-1", "quiet@example.com")
	quiet.SkipMail = true
	rows := []invitations.InviteInput{
		input("acct-1", "a@example.com"),
		input("acct-1", "a@example.com"), // the same email again: already invited, takes no room
		input("acct-1", "b@example.com"),
		input("acct-2", "x@example.com"), // another account, its own room
		input("acct-1", "c@example.com"),
		input("acct-1", "d@example.com"), // over the mail quota
		quiet,                            // no mail, but the pending cap has room for a fourth
		input("acct-1", "e@example.com"), // over both: the cap is reported
	}
	results, err := svc.InviteMany(ctx, rows)
	require.NoError(t, err)
	require.Len(t, results, len(rows))
	for _, i := range []int{0, 2, 3, 4, 6} {
		require.NoError(t, results[i].Err, "row %d", i)
		require.NotNil(t, results[i].Invitation, "row %d", i)
	}
	require.ErrorIs(t, results[1].Err, invitations.ErrAlreadyInvited)
	rateLimited(t, results[5].Err, invitations.LimitMailsPerDay)
	require.ErrorIs(t, results[7].Err, invitations.ErrTooManyPending)
	assert.Nil(t, results[5].Invitation)
	assert.Equal(t, 5, w.stored("acct-1")+w.stored("acct-2"))

	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, r.Delivered, "a, b, c and x")
	_, err = svc.Invite(ctx, input("acct-1", "f@example.com"))
	require.ErrorIs(t, err, invitations.ErrTooManyPending, "the cap holds after the call too")
}

// testInviteManyCancelled: whatever moment the context ends, what
// InviteMany returns is what the store holds: a call error and none of
// the call's rows stored, or every reported invitation stored (with its
// event, and its mail sent by the next DeliverDue) and no failed row
// stored. Without limits and with limits over two accounts, each locked
// and committed on its own.
func testInviteManyCancelled(t *testing.T, w *world) {
	const rows, tries = 500, 6 // 500 rows: two of sqlstore's chunks, or two accounts of 250
	for _, limits := range []invitations.Limits{{}, {MailsPerAccountPerDay: 1_000_000, MaxPendingPerAccount: 1_000_000}} {
		var mu sync.Mutex
		invited := map[string]int{}
		svc := w.service(limits, func(c *invitations.Config) {
			c.OnEvent = func(_ context.Context, e invitations.Event) {
				if e.Kind == invitations.EventInvited {
					mu.Lock()
					invited[e.Invitation.Email]++
					mu.Unlock()
				}
			}
		})
		prefix := func(try int) string { return fmt.Sprintf("l%t-t%02d-", limits.MaxPendingPerAccount > 0, try) }
		call := func(ctx context.Context, try int) ([]invitations.InviteInput, []invitations.InviteResult, error) {
			in := make([]invitations.InviteInput, rows)
			for i := range in {
				in[i] = input(fmt.Sprintf("acct-%d", 1+i%2), fmt.Sprintf("%s%04d@example.com", prefix(try), i))
			}
			results, err := svc.InviteMany(ctx, in)
			return in, results, err
		}
		start := time.Now()
		_, _, err := call(context.Background(), 0)
		require.NoError(t, err)
		whole := time.Since(start)
		reported := rows
		for try := 1; try <= tries; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), whole*time.Duration(try)/tries)
			in, results, err := call(ctx, try)
			cancel()
			held := w.storedEmails(prefix(try), "acct-1", "acct-2")
			for i, row := range in {
				stored := held[row.Email]
				if err != nil {
					require.False(t, stored, "%+v try %d: the call failed (%v), yet row %d is stored", limits, try, err, i)
					continue
				}
				require.Equal(t, results[i].Err == nil, stored, "%+v try %d: row %d reported %v", limits, try, i, results[i].Err)
				if stored {
					require.NotNil(t, results[i].Invitation)
					reported++
				}
			}
		}
		mu.Lock()
		events := 0
		for email, n := range invited {
			require.Equal(t, 1, n, email)
			events++
		}
		mu.Unlock()
		assert.Equal(t, reported, events, "%+v: one EventInvited per reported row", limits)
		sent := w.sent()
		r, err := svc.DeliverDue(context.Background())
		require.NoError(t, err)
		assert.Equal(t, reported, r.Delivered, "%+v: the next DeliverDue mails the reported rows, no other", limits)
		assert.Equal(t, sent+reported, w.sent())
	}
}

// storedEmails returns the emails starting with prefix that the accounts
// hold invitations of.
func (w *world) storedEmails(prefix string, accounts ...string) map[string]bool {
	w.t.Helper()
	held := map[string]bool{}
	for _, account := range accounts {
		found, err := w.store.List(context.Background(), invitations.ListFilter{
			AccountID: account, Search: prefix, Now: w.clock.Now(), Limit: invitations.MaxInviteMany + 1,
		})
		require.NoError(w.t, err)
		for _, inv := range found {
			held[inv.Email] = true
		}
	}
	return held
}

// cancelAfterWrite is a LimitStore whose calls' context is cancelled
// right after each Create or CreateMany: a cancellation landing between
// an invitation's write and the records that follow it in the lock.
type cancelAfterWrite struct {
	invitations.LimitStore
	cancel context.CancelFunc
}

func (c cancelAfterWrite) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	return c.LimitStore.LockAccount(ctx, accountID, func(ctx context.Context, st invitations.LimitStore) error {
		return fn(ctx, cancelAfterWrite{st, c.cancel})
	})
}

func (c cancelAfterWrite) Create(ctx context.Context, inv *invitations.Invitation, ev *invitations.Event) error {
	defer c.cancel()
	return c.LimitStore.Create(ctx, inv, ev)
}

func (c cancelAfterWrite) CreateMany(ctx context.Context, invs []*invitations.Invitation, evs []*invitations.Event) ([]error, error) {
	defer c.cancel()
	return c.LimitStore.CreateMany(ctx, invs, evs)
}

// testCancelledAfterWrite: a context cancelled between the write and the
// mail ledger never lets an account past its quota, and a call that
// returns no invitation stores none, whether the store undoes the write
// (SQL) or finishes the locked work (memstore).
func testCancelledAfterWrite(t *testing.T, w *world) {
	limits := invitations.Limits{MailsPerAccountPerDay: 2, MaxPendingPerAccount: 100}
	returned := 0
	for i := range 10 {
		ctx, cancel := context.WithCancel(context.Background())
		cfg := invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept", Now: w.clock.Now, Limits: limits}
		svc, err := invitations.New(cancelAfterWrite{w.store, cancel}, w.mailer, cfg)
		require.NoError(t, err)
		email := fmt.Sprintf("p%d@example.com", i)
		var inv *invitations.Invitation
		if i%2 == 0 {
			inv, err = svc.Invite(ctx, input("acct-1", email))
		} else {
			var results []invitations.InviteResult
			results, err = svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", email)})
			if err == nil {
				inv, err = results[0].Invitation, results[0].Err
			}
		}
		cancel()
		if inv == nil {
			require.Error(t, err)
		}
		assert.Equal(t, inv != nil, w.storedEmails(email, "acct-1")[email], "call %d returned %v with %v", i, inv, err)
		if inv != nil {
			returned++
		}
	}
	assert.LessOrEqual(t, returned, 2, "never more than the quota")
	svc := w.service(limits)
	w.clock.Advance(invitations.DefaultLease + time.Second) // the leases of interrupted sends run out
	_, err := svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Equal(t, returned, w.sent(), "a mail for each invitation returned, no other")
	_, err = svc.Invite(context.Background(), input("acct-1", "late@example.com"))
	if returned == 2 {
		rateLimited(t, err, invitations.LimitMailsPerDay)
	} else {
		require.NoError(t, err, "what was not stored was not charged")
	}
}

func testReminderSkipped(t *testing.T, w *world) {
	ctx := context.Background()
	svc := w.service(invitations.Limits{MailsPerAccountPerDay: 2}, func(c *invitations.Config) {
		c.TTL = 2 * time.Hour
		c.Delivery.RemindBefore = time.Hour
	})
	a := w.invite(svc, "a@example.com")
	w.clock.Advance(90 * time.Minute)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Delivered, "the reminder counts as a mail")
	assert.Equal(t, invitations.MessageReminder, w.mailer.Last().Kind)

	w.clock.Advance(time.Minute)
	_, err = svc.Resend(ctx, "acct-1", a.ID)
	rateLimited(t, err, invitations.LimitMailsPerDay) // invite + reminder used the quota of 2

	// Another account's quota is used up by its invite and resend; its
	// reminder is skipped, not sent and not counted.
	b, err := svc.Invite(ctx, input("acct-2", "b@example.com"))
	require.NoError(t, err)
	_, err = svc.Resend(ctx, "acct-2", b.ID)
	require.NoError(t, err)
	w.clock.Advance(90 * time.Minute)
	sent := w.sent()
	r, err = svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted)
	assert.Equal(t, sent, w.sent())
	got, err := svc.Get(ctx, "acct-2", b.ID)
	require.NoError(t, err)
	assert.Equal(t, w.clock.Now(), got.Delivery.RemindedAt, "marked, so that it is not tried on every run")
	assert.Empty(t, got.Delivery.Due)
}

// together runs fn n times at once, half on each Service.
func together(n int, svcs [2]*invitations.Service, fn func(svc *invitations.Service, i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	ready.Add(1)
	for i := range n {
		done.Go(func() {
			ready.Wait()
			errs[i] = fn(svcs[i%2], i)
		})
	}
	ready.Done()
	done.Wait()
	return errs
}

// outcomes counts the successes and checks every failure is want.
func outcomes(t *testing.T, errs []error, want error) int {
	t.Helper()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, want)
	}
	return ok
}

func testQuotaRace(t *testing.T, w *world) {
	limits := invitations.Limits{MailsPerAccountPerDay: 10}
	svcs := [2]*invitations.Service{w.service(limits), w.service(limits)}
	errs := together(Concurrency, svcs, func(svc *invitations.Service, i int) error {
		_, err := svc.Invite(context.Background(), input("acct-1", fmt.Sprintf("p%d@example.com", i)))
		return err
	})
	assert.Equal(t, 10, outcomes(t, errs, invitations.ErrRateLimited))
	assert.Equal(t, 10, w.sent(), "mailed exactly the quota")
	assert.Equal(t, 10, w.stored("acct-1"), "stored exactly the quota")
}

func testCapRace(t *testing.T, w *world) {
	limits := invitations.Limits{MaxPendingPerAccount: 10}
	svcs := [2]*invitations.Service{w.service(limits), w.service(limits)}
	errs := together(Concurrency, svcs, func(svc *invitations.Service, i int) error {
		in := input("acct-1", fmt.Sprintf("p%d@example.com", i))
		in.SkipMail = i%3 == 0
		_, err := svc.Invite(context.Background(), in)
		return err
	})
	assert.Equal(t, 10, outcomes(t, errs, invitations.ErrTooManyPending))
	assert.Equal(t, 10, w.stored("acct-1"))
}

// testResendRace: resends of a few invitations racing from two Services
// against the quota.
func testResendRace(t *testing.T, w *world) {
	ctx := context.Background()
	limits := invitations.Limits{MailsPerAccountPerDay: 20}
	svcs := [2]*invitations.Service{w.service(limits), w.service(limits)}
	var invs []*invitations.Invitation
	for i := range 8 {
		invs = append(invs, w.invite(svcs[0], fmt.Sprintf("p%d@example.com", i)))
	}
	errs := together(Concurrency, svcs, func(svc *invitations.Service, i int) error {
		_, err := svc.Resend(ctx, "acct-1", invs[i%len(invs)].ID)
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, invitations.ErrConflict):
			// Lost every compare-and-set to others' resends: nothing sent.
		default:
			require.ErrorIs(t, err, invitations.ErrRateLimited)
		}
	}
	assert.Equal(t, 12, ok, "8 invites and exactly 12 resends")
	assert.Equal(t, 20, w.sent())
}
