package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
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
