package invitations_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

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
