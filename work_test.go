package invitations_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// Waits for the loop are generous: they bound a hang, not the speed.
const (
	workWait = 10 * time.Second
	workTick = 5 * time.Millisecond
)

var errStoreDown = errors.New("store: connection refused")

// workService is a Service of h's config, mailer and clock over a
// workStore wrapping h's store.
func (h *harness) workService(st *workStore) *invitations.Service {
	h.t.Helper()
	st.Store = h.store
	svc, err := invitations.New(st, h.mailer, h.cfg)
	require.NoError(h.t, err)
	return svc
}

// errorLog records what OnError is given.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// startWork runs svc.Work on a goroutine. The returned stop cancels its
// context and returns what Work returned; the test's cleanup stops it
// too, so no test leaves it running.
func startWork(t *testing.T, svc *invitations.Service, cfg invitations.WorkConfig) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Work(ctx, cfg) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(workWait):
			return errors.New("Work did not return after its context ended")
		}
	})
	t.Cleanup(func() { _ = stop() })
	return stop
}

// inviteMany invites the emails into acct-1 with InviteMany, which leaves
// their mail due for DeliverDue, and returns the invitations' IDs.
func (h *harness) inviteMany(emails ...string) []uuid.UUID {
	h.t.Helper()
	in := make([]invitations.InviteInput, len(emails))
	for i, email := range emails {
		in[i] = input("acct-1", email)
	}
	results, err := h.svc.InviteMany(context.Background(), in)
	require.NoError(h.t, err)
	ids := make([]uuid.UUID, len(results))
	for i, r := range results {
		require.NoError(h.t, r.Err)
		require.Equal(h.t, invitations.MessageInvite, r.Invitation.Delivery.Due, "mail left due")
		ids[i] = r.Invitation.ID
	}
	return ids
}

func (h *harness) sentTo() []string {
	var to []string
	for _, m := range h.mailer.Messages() {
		to = append(to, m.To)
	}
	return to
}

func TestWorkDeliversDueMailAtOnce(t *testing.T) {
	h := newHarness(t)
	ids := h.inviteMany("ada@example.com", "grace@example.com")
	require.Empty(t, h.mailer.Messages())

	// An hour between runs: only the run at start can send them in time.
	stop := startWork(t, h.svc, invitations.WorkConfig{Every: time.Hour})
	require.Eventually(t, func() bool { return len(h.mailer.Messages()) == 2 }, workWait, workTick)
	assert.ElementsMatch(t, []string{"ada@example.com", "grace@example.com"}, h.sentTo())
	for _, id := range ids {
		d := h.get(id).Delivery
		assert.Empty(t, d.Due)
		assert.Equal(t, h.clock.Now(), d.DeliveredAt, "delivered at the Service's clock")
	}
	require.NoError(t, stop())
}

func TestWorkKeepsDelivering(t *testing.T) {
	h := newHarness(t)
	st := &workStore{}
	svc := h.workService(st)
	stop := startWork(t, svc, invitations.WorkConfig{Every: 10 * time.Millisecond})

	h.inviteMany("ada@example.com")
	require.Eventually(t, func() bool { return len(h.mailer.Messages()) == 1 }, workWait, workTick,
		"mail made due after Work started is sent by a later run")

	// A failed first attempt is due only after its backoff, on the
	// Service's clock: later runs leave it until that clock moves.
	inv := h.inviteUndelivered("grace@example.com")
	listed, _, _ := st.calls()
	require.Eventually(t, func() bool { l, _, _ := st.calls(); return len(l) >= len(listed)+3 }, workWait, workTick)
	assert.Equal(t, []string{"ada@example.com"}, h.sentTo(), "not retried before its backoff")

	h.clock.Advance(invitations.DefaultBackoff)
	require.Eventually(t, func() bool { return len(h.mailer.Messages()) == 2 }, workWait, workTick)
	assert.Equal(t, []string{"ada@example.com", "grace@example.com"}, h.sentTo())
	assert.Empty(t, h.get(inv.ID).Delivery.Due)
	require.NoError(t, stop())
}

func TestWorkPurgesWhatEndedLongAgo(t *testing.T) {
	const purgeAfter = 30 * day
	h := newHarness(t)
	ctx := context.Background()
	oldAccepted, _ := h.inStatus(invitations.StatusAccepted) // ended at start
	oldExpired, _ := h.inStatus(invitations.StatusExpired)   // expired an hour before start
	h.clock.Advance(purgeAfter + time.Hour)                  // the cutoff is an hour after start
	recentAccepted, _ := h.inStatus(invitations.StatusAccepted)
	recentExpired, _ := h.inStatus(invitations.StatusExpired)
	working, _ := h.inStatus(invitations.StatusPending)

	stop := startWork(t, h.svc, invitations.WorkConfig{Every: time.Hour, PurgeAfter: purgeAfter})
	require.Eventually(t, func() bool {
		_, err := h.svc.Get(ctx, "acct-1", oldAccepted.ID)
		return errors.Is(err, invitations.ErrNotFound)
	}, workWait, workTick, "purged at start")
	require.NoError(t, stop())

	_, err := h.svc.Get(ctx, "acct-1", oldExpired.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound, "a link that expired more than PurgeAfter ago is purged")
	for _, kept := range []uuid.UUID{recentAccepted.ID, recentExpired.ID, working.ID} {
		h.get(kept)
	}
	assert.Equal(t, invitations.StatusPending, h.svc.Status(h.get(working.ID)))
}

func TestWorkReportsFailures(t *testing.T) {
	// A deadline of the store's own (a query timeout) is a failure to
	// report, unlike the end of Work's context.
	errQueryTimeout := fmt.Errorf("query: %w", context.DeadlineExceeded)
	for name, st := range map[string]*workStore{
		"DeliverDue": {listDue: func(context.Context) error { return errStoreDown }},
		"Purge":      {deleteEnded: func(context.Context) error { return errStoreDown }},
		"timeout":    {listDue: func(context.Context) error { return errQueryTimeout }},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			svc := h.workService(st)
			var log errorLog
			cfg := invitations.WorkConfig{Every: 10 * time.Millisecond, OnError: log.add}
			if st.deleteEnded != nil {
				cfg.PurgeAfter = day
			}
			stop := startWork(t, svc, cfg)
			require.Eventually(t, func() bool { return len(log.all()) >= 1 }, workWait, workTick)
			if st.listDue != nil {
				require.Eventually(t, func() bool { return len(log.all()) >= 3 }, workWait, workTick,
					"runs go on after a failure, each reporting its own")
			}
			require.NoError(t, stop(), "failures do not end Work")
			for _, err := range log.all() {
				if name == "timeout" {
					require.ErrorIs(t, err, context.DeadlineExceeded)
				} else {
					require.ErrorIs(t, err, errStoreDown)
				}
				require.NotErrorIs(t, err, context.Canceled)
			}
		})
	}
}

func TestWorkDoesNotReportItsContextEnding(t *testing.T) {
	for name, ending := range map[string]func(inRun <-chan struct{}) (context.Context, context.CancelFunc){
		"cancelled": func(inRun <-chan struct{}) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-inRun; cancel() }()
			return ctx, cancel
		},
		"deadline": func(<-chan struct{}) (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			inRun := make(chan struct{})
			var once sync.Once
			// The runs are in the store when the context ends, and fail
			// with its error, as a database driver would.
			hang := func(ctx context.Context) error {
				once.Do(func() { close(inRun) })
				<-ctx.Done()
				return fmt.Errorf("query: %w", ctx.Err())
			}
			svc := h.workService(&workStore{listDue: hang, deleteEnded: hang})
			var log errorLog
			ctx, cancel := ending(inRun)
			defer cancel()

			err := svc.Work(ctx, invitations.WorkConfig{Every: 10 * time.Millisecond, PurgeAfter: day, OnError: log.add})
			require.NoError(t, err, "Work returns nil when its context ends")
			assert.Empty(t, log.all(), "the context's end is no failure")
		})
	}
}

func TestWorkOnEndedContextRunsNothing(t *testing.T) {
	h := newHarness(t)
	h.inviteMany("ada@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, h.svc.Work(ctx, invitations.WorkConfig{}))
	assert.Empty(t, h.mailer.Messages())
}

func TestWorkRefusesNegativeDurations(t *testing.T) {
	h := newHarness(t)
	h.inviteMany("ada@example.com")
	for field, cfg := range map[string]invitations.WorkConfig{
		"Every":      {Every: -time.Minute},
		"PurgeAfter": {PurgeAfter: -day},
	} {
		err := h.svc.Work(context.Background(), cfg)
		require.ErrorIs(t, err, invitations.ErrInvalidInput, field)
		assert.ErrorContains(t, err, "WorkConfig."+field)
	}
	assert.Empty(t, h.mailer.Messages(), "nothing ran")
}

func TestWorkRefusesInTx(t *testing.T) {
	h := newHarness(t)
	err := h.svc.InTx(h.store).Work(context.Background(), invitations.WorkConfig{})
	require.ErrorIs(t, err, invitations.ErrInTx)
}

// TestWorkSchedule runs Work for hours of a synctest bubble's time, where
// timers fire as soon as every goroutine waits: it checks the intervals,
// the jitter and the purge's cutoff.
func TestWorkSchedule(t *testing.T) {
	const purgeAfter = 90 * day
	for name, cfg := range map[string]invitations.WorkConfig{
		"defaults":   {},
		"every 5m":   {Every: 5 * time.Minute},
		"with purge": {PurgeAfter: purgeAfter},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t)
				st := &workStore{}
				svc := h.workService(st)
				ctx, cancel := context.WithCancel(t.Context())
				began := time.Now()
				done := make(chan error, 1)
				go func() { done <- svc.Work(ctx, cfg) }()
				time.Sleep(5*time.Hour + time.Second)
				cancel()
				require.NoError(t, <-done)
				synctest.Wait()

				every := cmp.Or(cfg.Every, invitations.DefaultWorkEvery)
				listed, purged, cutoffs := st.calls()
				assertSchedule(t, began, listed, every, 5*time.Hour)
				if cfg.PurgeAfter == 0 {
					assert.Empty(t, purged, "no PurgeAfter, no purge")
					return
				}
				assertSchedule(t, began, purged, time.Hour, 5*time.Hour)
				for _, c := range cutoffs {
					assert.Equal(t, h.clock.Now().Add(-purgeAfter), c, "cut off by the Service's clock")
				}
			})
		})
	}
}

// assertSchedule checks that runs began at the start and then after waits
// within ±10% of every, not all the same, over span.
func assertSchedule(t *testing.T, began time.Time, runs []time.Time, every, span time.Duration) {
	t.Helper()
	require.NotEmpty(t, runs)
	assert.Equal(t, began, runs[0], "the first run at once")
	gaps := map[time.Duration]bool{}
	for i := 1; i < len(runs); i++ {
		gap := runs[i].Sub(runs[i-1])
		assert.GreaterOrEqual(t, gap, every-every/10)
		assert.LessOrEqual(t, gap, every+every/10)
		gaps[gap] = true
	}
	n := int64(span / every)
	assert.GreaterOrEqual(t, int64(len(runs)), 1+n*10/11, "runs in %s", span)
	assert.LessOrEqual(t, int64(len(runs)), 2+n*10/9, "runs in %s", span)
	assert.Greater(t, len(gaps), 1, "jittered")
}

// TestWorkWaitsForItsRuns: Work returns only after the runs in flight
// have returned, even from a Store slow to notice that ctx ended, so that
// no goroutine it started outlives it. In a synctest bubble, which would
// also fail on a goroutine left blocked.
func TestWorkWaitsForItsRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		var mu sync.Mutex
		var returned []string
		slow := func(name string, d time.Duration) func(context.Context) error {
			return func(context.Context) error {
				time.Sleep(d) // ignores ctx
				mu.Lock()
				defer mu.Unlock()
				returned = append(returned, name)
				return nil
			}
		}
		svc := h.workService(&workStore{listDue: slow("DeliverDue", time.Minute), deleteEnded: slow("Purge", 2*time.Minute)})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		began := time.Now()
		require.NoError(t, svc.Work(ctx, invitations.WorkConfig{PurgeAfter: day}))
		assert.Equal(t, began.Add(2*time.Minute), time.Now(), "returned when the slower run did")
		mu.Lock()
		defer mu.Unlock()
		assert.ElementsMatch(t, []string{"DeliverDue", "Purge"}, returned)
	})
}
