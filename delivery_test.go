package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

var errOutage = errors.New("smtp: 421 service not available")

// countingMailer counts deliveries per invitation, and can fail on demand.
type countingMailer struct {
	mu    sync.Mutex
	down  bool
	sent  map[uuid.UUID][]invitations.MessageKind
	calls int
}

func newCountingMailer() *countingMailer {
	return &countingMailer{sent: map[uuid.UUID][]invitations.MessageKind{}}
}

func (m *countingMailer) Send(_ context.Context, msg invitations.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.down {
		return errOutage
	}
	m.sent[msg.Invitation.ID] = append(m.sent[msg.Invitation.ID], msg.Kind)
	return nil
}

func (m *countingMailer) setDown(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

func (m *countingMailer) deliveries(id uuid.UUID) []invitations.MessageKind {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]invitations.MessageKind(nil), m.sent[id]...)
}

func TestFailedSendIsDueForRetry(t *testing.T) {
	h := newHarness(t)
	h.mailer.FailNext(1, errOutage)
	inv, err := h.svc.Invite(context.Background(), input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)

	d := h.get(inv.ID).Delivery
	assert.Equal(t, invitations.MessageInvite, d.Due)
	assert.Equal(t, 1, d.Attempts)
	assert.Equal(t, errOutage.Error(), d.LastError)
	backoff := d.NextAttempt.Sub(start)
	assert.True(t, backoff >= invitations.DefaultBackoff/2 && backoff <= invitations.DefaultBackoff,
		"first retry after half to one Backoff (jitter), got %s", backoff)
	assert.Equal(t, d, inv.Delivery, "the returned invitation shows the delivery state")

	r, err := h.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "not before the backoff has passed")

	h.clock.Advance(invitations.DefaultBackoff)
	r, err = h.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Delivered: 1}, r)
	d = h.get(inv.ID).Delivery
	assert.Equal(t, invitations.Delivery{DeliveredAt: h.clock.Now()}, d)
	require.Len(t, h.mailer.Messages(), 1)
	token := h.lastToken()
	_, err = h.svc.Accept(context.Background(), token)
	require.NoError(t, err, "the retried mail carries a working link")
}

// TestOutageEveryInvitationDeliveredOnce: the mailer is down for a while;
// DeliverDue runs every minute of a fake clock; every invitation ends
// delivered, exactly once.
func TestOutageEveryInvitationDeliveredOnce(t *testing.T) {
	mailer := newCountingMailer()
	h := newHarness(t, func(c *invitations.Config) {
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 10, Backoff: time.Minute, MaxBackoff: 10 * time.Minute}
	})
	svc, err := invitations.New(h.store, mailer, h.cfg)
	require.NoError(t, err)
	ctx := context.Background()

	mailer.setDown(true)
	var ids []uuid.UUID
	for i := range 30 {
		inv, err := svc.Invite(ctx, input("acct-1", fmt.Sprintf("user%d@example.com", i)))
		require.ErrorIs(t, err, invitations.ErrDelivery)
		ids = append(ids, inv.ID)
		h.clock.Advance(7 * time.Second)
	}
	total := invitations.DeliveryReport{}
	for minute := range 60 {
		if minute == 25 {
			mailer.setDown(false)
		}
		h.clock.Advance(time.Minute)
		r, err := svc.DeliverDue(ctx)
		require.NoError(t, err)
		total.Attempted += r.Attempted
		total.Delivered += r.Delivered
		total.GaveUp += r.GaveUp
	}
	assert.Equal(t, 30, total.Delivered)
	assert.Zero(t, total.GaveUp)
	for _, id := range ids {
		assert.Equal(t, []invitations.MessageKind{invitations.MessageInvite}, mailer.deliveries(id), "exactly once")
		d := h.get(id).Delivery
		assert.Empty(t, d.Due)
		assert.False(t, d.DeliveredAt.IsZero())
	}
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "nothing left due")
}

func TestDeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) {
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 3, Backoff: time.Minute, MaxBackoff: 4 * time.Minute}
	})
	h.mailer.FailNext(100, errOutage)
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)

	var gaps []time.Duration
	last := h.clock.Now()
	for range 10 {
		d := h.get(inv.ID).Delivery
		if d.Due == "" {
			break
		}
		gaps = append(gaps, d.NextAttempt.Sub(last))
		h.clock.Set(d.NextAttempt)
		last = d.NextAttempt
		_, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
	}
	require.Len(t, gaps, 2, "three attempts: the first, then two retries")
	assert.True(t, gaps[0] >= 30*time.Second && gaps[0] <= time.Minute, "first backoff %s", gaps[0])
	assert.True(t, gaps[1] >= time.Minute && gaps[1] <= 2*time.Minute, "doubled, with jitter: %s", gaps[1])

	got := h.get(inv.ID)
	assert.Equal(t, invitations.Delivery{Attempts: 3, LastError: errOutage.Error(), FailedAt: h.clock.Now()}, got.Delivery)
	assert.Equal(t, invitations.EventDeliveryFailed, h.recorded()[len(h.recorded())-1].Kind)
	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.False(t, page.Invitations[0].Delivery.FailedAt.IsZero(), "visible through List")

	h.mailer.FailNext(0, nil)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "the admin can resend after delivery failed")
	assert.Equal(t, invitations.Delivery{DeliveredAt: h.clock.Now()}, h.get(inv.ID).Delivery)
}

// TestCrashBetweenSavingAndSending: the process dies inside the Mailer
// (here: its goroutine stops dead with runtime.Goexit, which no recover
// catches); the stored invitation holds a due message, which DeliverDue
// sends once the crashed attempt's lease has run out.
func TestCrashBetweenSavingAndSending(t *testing.T) {
	h := newHarness(t)
	crashing := invitations.MailerFunc(func(context.Context, invitations.Message) error { runtime.Goexit(); return nil })
	svc, err := invitations.New(h.store, crashing, h.cfg)
	require.NoError(t, err)
	finished := false
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = svc.Invite(context.Background(), input("acct-1", "ada@example.com"))
		finished = true
	})
	wg.Wait()
	require.False(t, finished, "the Invite call never returned")
	page, err := h.svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	require.Len(t, page.Invitations, 1)
	inv := page.Invitations[0]
	assert.Equal(t, invitations.MessageInvite, inv.Delivery.Due, "saved with its message due")

	r, err := h.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Zero(t, r.Attempted, "the crashed attempt's lease still holds")
	h.clock.Advance(invitations.DefaultLease)
	r, err = h.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, r.Delivered)
	assert.Equal(t, inv.ID, h.mailer.Last().Invitation.ID)
}

func TestDueMessageDroppedWhenNoLongerWanted(t *testing.T) {
	ctx := context.Background()
	for name, change := range map[string]func(h *harness, inv *invitations.Invitation, token string) error{
		"revoked": func(h *harness, inv *invitations.Invitation, _ string) error {
			_, err := h.svc.Revoke(ctx, "acct-1", inv.ID)
			return err
		},
		"accepted": func(h *harness, _ *invitations.Invitation, token string) error {
			_, err := h.svc.Accept(ctx, token)
			return err
		},
		"declined": func(h *harness, _ *invitations.Invitation, token string) error {
			_, err := h.svc.Decline(ctx, token)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.mailer.FailNext(1, errOutage)
			inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
			require.ErrorIs(t, err, invitations.ErrDelivery)
			link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID) // shared by hand meanwhile
			require.NoError(t, err)
			token := link[len(acceptURL+"?token="):]
			require.NoError(t, change(h, inv, token))
			h.clock.Advance(time.Hour)
			r, err := h.svc.DeliverDue(ctx)
			require.NoError(t, err)
			assert.Zero(t, r.Attempted)
			assert.Empty(t, h.mailer.Messages(), "nothing sent")
		})
	}

	t.Run("regenerated", func(t *testing.T) {
		h := newHarness(t)
		h.mailer.FailNext(1, errOutage)
		inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
		require.ErrorIs(t, err, invitations.ErrDelivery)
		h.clock.Advance(invitations.DefaultTTL)
		h.mailer.FailNext(1, errOutage)
		_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
		require.ErrorIs(t, err, invitations.ErrDelivery)
		h.clock.Advance(time.Hour)
		r, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
		assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Delivered: 1}, r)
		msgs := h.mailer.Messages()
		require.Len(t, msgs, 1, "the old invite is dropped; only the new link goes out")
		assert.Equal(t, invitations.MessageRegenerate, msgs[0].Kind)
		_, err = h.svc.Accept(ctx, h.lastToken())
		require.NoError(t, err)
	})
}

func TestDeliveryWithDroppedSecretGivesUp(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv := h.inviteUndelivered("ada@example.com")
	cfg := h.cfg
	cfg.Secret = secretB
	svcB := h.service(cfg)
	h.clock.Advance(time.Hour)
	r, err := svcB.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, GaveUp: 1}, r, "no retry can fix a link whose secret is gone")
	d := h.get(inv.ID).Delivery
	assert.Contains(t, d.LastError, "regenerate")
	assert.Empty(t, h.mailer.Messages())
}

// TestConcurrentDeliverDueSendsEachMessageOnce: several processes run
// DeliverDue at the same moment; each due message goes out exactly once.
func TestConcurrentDeliverDueSendsEachMessageOnce(t *testing.T) {
	mailer := newCountingMailer()
	h := newHarness(t)
	svc, err := invitations.New(h.store, mailer, h.cfg)
	require.NoError(t, err)
	mailer.setDown(true)
	var ids []uuid.UUID
	for i := range 150 {
		inv, err := svc.Invite(context.Background(), input("acct-1", fmt.Sprintf("u%d@example.com", i)))
		require.ErrorIs(t, err, invitations.ErrDelivery)
		ids = append(ids, inv.ID)
	}
	mailer.setDown(false)
	h.clock.Advance(time.Hour)

	reports := make([]invitations.DeliveryReport, 8)
	together(len(reports), func(i int) {
		other, err := invitations.New(h.store, mailer, h.cfg) // another process
		if err != nil {
			panic(err)
		}
		r, err := other.DeliverDue(context.Background())
		assert.NoError(t, err)
		reports[i] = r
	})
	delivered := 0
	for _, r := range reports {
		delivered += r.Delivered
	}
	assert.Equal(t, len(ids), delivered)
	for _, id := range ids {
		assert.Len(t, mailer.deliveries(id), 1, "exactly once")
	}
}

func TestDeliveryPolicyValidation(t *testing.T) {
	for name, p := range map[string]invitations.DeliveryPolicy{
		"negative attempts":       {MaxAttempts: -1},
		"negative backoff":        {Backoff: -time.Second},
		"max below first backoff": {Backoff: time.Hour, MaxBackoff: time.Minute},
		"tiny lease":              {Lease: time.Millisecond},
	} {
		_, err := invitations.New(newHarness(t).store, newCountingMailer(), invitations.Config{Secret: secretA, AcceptURL: acceptURL, Delivery: p})
		require.ErrorIs(t, err, invitations.ErrInvalidInput, name)
	}
}

// TestDueMessageWithExpiredLinkIsDropped: a message still due when its
// link expires is not sent; its delivery is marked failed, visibly, and
// the menu offers a new invitation.
func TestDueMessageWithExpiredLinkIsDropped(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv := h.inviteUndelivered("ada@example.com")
	h.clock.Advance(week)

	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Expired: 1}, r)
	assert.Empty(t, h.mailer.Messages(), "an expired link is not mailed")
	got := h.get(inv.ID)
	assert.Empty(t, got.Delivery.Due)
	assert.Equal(t, h.clock.Now(), got.Delivery.FailedAt)
	assert.Contains(t, got.Delivery.LastError, "expired")
	assert.True(t, got.Delivery.DeliveredAt.IsZero(), "not recorded as delivered")
	assert.Contains(t, h.svc.Actions(got), invitations.ActionRegenerate)
	events := h.recorded()
	assert.Equal(t, invitations.EventDeliveryFailed, events[len(events)-1].Kind)

	// The same through Deliver, for a message made in a transaction.
	h = newHarness(t)
	inv, err = h.svc.InTx(h.store).Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	h.clock.Advance(week)
	got, err = h.svc.Deliver(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	assert.Empty(t, h.mailer.Messages())
	assert.Equal(t, h.get(inv.ID).Delivery, got.Delivery)
	assert.False(t, got.Delivery.FailedAt.IsZero())
}

// TestPanickingMailerIsAFailedAttempt: the panic stays inside the library,
// counts as one failed attempt, and the message is retried and finally
// given up like any other failure.
func TestPanickingMailerIsAFailedAttempt(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Delivery.MaxAttempts = 2 })
	var calls atomic.Int64
	panicking := invitations.MailerFunc(func(_ context.Context, msg invitations.Message) error {
		calls.Add(1)
		panic("nil map in the mail provider's client: " + msg.Link)
	})
	svc := h.serviceWith(panicking)
	inv, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	assert.NotContains(t, err.Error(), "token=", "the panic value (here, the link) is not repeated")
	d := h.get(inv.ID).Delivery
	assert.Equal(t, 1, d.Attempts)
	assert.Contains(t, d.LastError, "panicked")

	h.clock.Advance(time.Hour)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, GaveUp: 1}, r)
	assert.Equal(t, int64(2), calls.Load())
	assert.False(t, h.get(inv.ID).Delivery.FailedAt.IsZero(), "given up after MaxAttempts, not retried forever")
}

// TestPermanentErrorGivesUpAtOnce: a Mailer that says "permanent" is not
// retried, neither after Invite nor in DeliverDue.
func TestPermanentErrorGivesUpAtOnce(t *testing.T) {
	ctx := context.Background()
	refused := errors.New("550 5.1.1 mailbox does not exist")
	perm := invitations.Permanent(refused)
	assert.ErrorIs(t, perm, invitations.ErrPermanent)
	assert.ErrorIs(t, perm, refused)
	assert.Equal(t, refused.Error(), perm.Error())
	assert.NoError(t, invitations.Permanent(nil))
	assert.NotErrorIs(t, refused, invitations.ErrPermanent)

	h := newHarness(t)
	h.mailer.FailNext(1, fmt.Errorf("provider: %w", perm))
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.ErrorIs(t, err, invitations.ErrPermanent)
	d := h.get(inv.ID).Delivery
	assert.Equal(t, invitations.Delivery{Attempts: 1, LastError: "provider: " + refused.Error(), FailedAt: start}, d)
	h.clock.Advance(time.Hour)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted)

	// A temporary failure first, then a permanent one in DeliverDue.
	h = newHarness(t)
	inv = h.inviteUndelivered("ada@example.com")
	h.mailer.FailNext(1, perm)
	h.clock.Advance(time.Hour)
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, GaveUp: 1}, r)
	assert.Equal(t, 2, h.get(inv.ID).Delivery.Attempts, "not the five of MaxAttempts")
}

// TestReturnedIsWhatIsStored: when recording the delivery fails, the call
// returns the invitation as the store holds it, not as it would have been.
func TestReturnedIsWhatIsStored(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	failing := &recordFailing{Store: h.store}
	svc, err := invitations.New(failing, h.mailer, h.cfg)
	require.NoError(t, err)

	inv, err := svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, errDatabaseGone)
	assert.Len(t, h.mailer.Messages(), 1, "the mail went out")
	stored := h.get(inv.ID)
	assert.Equal(t, stored.Version, inv.Version)
	assert.Equal(t, stored.Delivery, inv.Delivery)

	failing.allowed.Store(1) // Resend's own change lands, its record does not
	h.clock.Advance(time.Minute)
	inv, err = svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, errDatabaseGone)
	stored = h.get(inv.ID)
	assert.Equal(t, stored.Version, inv.Version)
	assert.Equal(t, stored.Delivery, inv.Delivery)
	assert.Equal(t, stored.SentAt, inv.SentAt)
}

// TestBackoffIsCappedAndJittered: every retry waits between half and all
// of min(Backoff×2^(n-1), MaxBackoff), and the waits differ.
func TestBackoffIsCappedAndJittered(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) {
		// A cap that is not Backoff times a power of two: reached by min(), not by the doubling alone.
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 7, Backoff: time.Minute, MaxBackoff: 3 * time.Minute}
	})
	h.mailer.FailNext(1_000_000, errOutage)
	var ids []uuid.UUID
	for i := range 40 {
		inv, err := h.svc.Invite(ctx, input("acct-1", fmt.Sprintf("u%d@example.com", i)))
		require.ErrorIs(t, err, invitations.ErrDelivery)
		ids = append(ids, inv.ID)
	}
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt < 7; attempt++ {
		ceiling := min(time.Minute<<(attempt-1), 3*time.Minute)
		latest := time.Time{}
		for _, id := range ids {
			d := h.get(id).Delivery
			require.Equal(t, attempt, d.Attempts)
			wait := d.NextAttempt.Sub(h.clock.Now())
			assert.GreaterOrEqual(t, wait, ceiling/2, "attempt %d", attempt)
			assert.LessOrEqual(t, wait, ceiling, "attempt %d: capped at MaxBackoff", attempt)
			seen[wait] = true
			if d.NextAttempt.After(latest) {
				latest = d.NextAttempt
			}
		}
		h.clock.Set(latest)
		_, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
	}
	assert.Greater(t, len(seen), 40, "jitter: waits are not all alike")
}

// TestBackoffStaysCappedOverManyAttempts: sixty retries later the wait is
// still within the cap (the doubling must not overflow into the past).
func TestBackoffStaysCappedOverManyAttempts(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) {
		c.TTL = 365 * day
		c.Delivery = invitations.DeliveryPolicy{MaxAttempts: 70, Backoff: time.Minute, MaxBackoff: 3 * time.Minute}
	})
	h.mailer.FailNext(1_000_000, errOutage)
	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	for attempt := 1; attempt < 70; attempt++ {
		d := h.get(inv.ID).Delivery
		require.Equal(t, attempt, d.Attempts)
		wait := d.NextAttempt.Sub(h.clock.Now())
		require.LessOrEqual(t, wait, 3*time.Minute, "attempt %d", attempt)
		require.GreaterOrEqual(t, wait, min(time.Minute<<(attempt-1), 3*time.Minute)/2, "attempt %d", attempt)
		h.clock.Set(d.NextAttempt)
		_, err := h.svc.DeliverDue(ctx)
		require.NoError(t, err)
	}
}

// TestDeliverDueSkipsWhatWasPurged: an invitation listed as due but gone
// before the claim is skipped, and the others still go out.
func TestDeliverDueSkipsWhatWasPurged(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv := h.inviteUndelivered("ada@example.com")
	ghost := h.getStored(inv.ID)
	ghost.ID = uuid.New()
	ghost.Email = "ghost@example.com"
	svc, err := invitations.New(&vanishing{Store: h.store, ghost: ghost}, h.mailer, h.cfg)
	require.NoError(t, err)
	h.clock.Advance(time.Hour)
	r, err := svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Delivered: 1, Skipped: 1}, r)
	assert.Equal(t, inv.ID, h.mailer.Last().Invitation.ID)
}

// TestDeliverDueStopsWhenNothingCanBeClaimed: a full page of which nothing
// could be claimed ends the run instead of reading it again for ever.
func TestDeliverDueStopsWhenNothingCanBeClaimed(t *testing.T) {
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	stored := h.get(inv.ID)
	stuck := &stuckDue{Store: h.store}
	for range 100 {
		stuck.page = append(stuck.page, stored)
	}
	svc, err := invitations.New(stuck, h.mailer, h.cfg)
	require.NoError(t, err)
	done := make(chan invitations.DeliveryReport, 1)
	go func() {
		r, _ := svc.DeliverDue(context.Background())
		done <- r
	}()
	select {
	case r := <-done:
		assert.Equal(t, 100, r.Skipped)
		assert.Equal(t, int64(1), stuck.lists.Load())
	case <-time.After(10 * time.Second):
		t.Fatal("DeliverDue kept reading a page it could not claim")
	}
}

// TestDeliverSendsOnceAgainstDeliverDue: Deliver and DeliverDue racing for
// the same due messages send each exactly once.
func TestDeliverSendsOnceAgainstDeliverDue(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	counting := newCountingMailer()
	svc, err := invitations.New(h.store, counting, h.cfg)
	require.NoError(t, err)
	var ids []uuid.UUID
	for i := range 20 {
		inv, err := svc.InTx(h.store).Invite(ctx, input("acct-1", strings.Repeat("x", i+1)+"@example.com"))
		require.NoError(t, err)
		ids = append(ids, inv.ID)
	}
	together(goroutines, func(i int) {
		if i%2 == 0 {
			_, _ = svc.DeliverDue(ctx)
			return
		}
		for _, id := range ids {
			_, _ = svc.Deliver(ctx, "acct-1", id)
		}
	})
	for _, id := range ids {
		assert.Equal(t, []invitations.MessageKind{invitations.MessageInvite}, counting.deliveries(id))
	}
}

// gatedMailer holds every send until released, and records how many were
// in flight at once.
type gatedMailer struct {
	mu       sync.Mutex
	inFlight int
	peak     int
	sent     int
	release  chan struct{}
}

func (m *gatedMailer) Send(ctx context.Context, _ invitations.Message) error {
	m.mu.Lock()
	m.inFlight++
	m.peak = max(m.peak, m.inFlight)
	m.mu.Unlock()
	select {
	case <-m.release:
	case <-ctx.Done():
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	m.sent++
	return ctx.Err()
}

func (m *gatedMailer) stats() (inFlight, peak, sent int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.inFlight, m.peak, m.sent
}

// TestDeliverDueSendsInParallelWithinTheBound: a run keeps Concurrency
// sends in flight, never more, and drains more than one page.
func TestDeliverDueSendsInParallelWithinTheBound(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Delivery.Concurrency = 3 })
	var rows []invitations.InviteInput
	for i := range 230 { // more than one page of due messages
		rows = append(rows, input("acct-1", fmt.Sprintf("u%d@example.com", i)))
	}
	results, err := h.svc.InviteMany(ctx, rows)
	require.NoError(t, err)
	require.Len(t, results, 230)

	m := &gatedMailer{release: make(chan struct{})}
	svc := h.serviceWith(m)
	done := make(chan invitations.DeliveryReport)
	go func() {
		r, err := svc.DeliverDue(ctx)
		assert.NoError(t, err)
		done <- r
	}()
	require.Eventually(t, func() bool { n, _, _ := m.stats(); return n == 3 }, 10*time.Second, time.Millisecond,
		"three sends in flight")
	for range 230 {
		m.release <- struct{}{}
	}
	r := <-done
	_, peak, sent := m.stats()
	assert.Equal(t, 3, peak, "never more than Concurrency at once")
	assert.Equal(t, 230, sent)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 230, Delivered: 230}, r)
	for _, res := range results {
		assert.Empty(t, h.get(res.Invitation.ID).Delivery.Due)
	}
	_, err = invitations.New(h.store, m, invitations.Config{Secret: secretA, AcceptURL: acceptURL,
		Delivery: invitations.DeliveryPolicy{Concurrency: -1}})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
}

func TestDeliveryFailureKeepsTheInvitation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	smtpDown := errors.New("smtp: connection refused")
	h.mailer.FailNext(1, smtpDown)

	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.ErrorIs(t, err, smtpDown, "the mailer's cause is kept")
	require.NotNil(t, inv, "the stored invitation is returned with the delivery error")
	assert.Empty(t, h.mailer.Messages())

	stored := h.get(inv.ID)
	assert.Equal(t, invitations.StatusPending, stored.State)
	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "the admin can share the link by hand")

	h.clock.Advance(day)
	h.mailer.FailNext(1, smtpDown)
	resent, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.NotNil(t, resent)
	assert.True(t, h.get(inv.ID).ExpiresAt.Equal(start.Add(day+week)), "the resend is stored before the send")

	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, h.mailer.Last().Link)
}
