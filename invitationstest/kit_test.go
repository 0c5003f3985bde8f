package invitationstest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := invitationstest.NewClock(start)
	assert.Equal(t, start, c.Now())
	c.Advance(90 * time.Minute)
	assert.Equal(t, start.Add(90*time.Minute), c.Now())
	c.Set(start)
	assert.Equal(t, start, c.Now())

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	assert.Equal(t, start.Add(50*time.Second), c.Now(), "no advance lost under concurrency")
}

func TestMailerRecordsFailsAndResets(t *testing.T) {
	ctx := context.Background()
	m := invitationstest.NewMailer()
	assert.Equal(t, invitations.Message{}, m.Last(), "zero Message when none was sent")

	msg := invitations.Message{To: "ada@example.com", Subject: "one", Invitation: invitations.Invitation{Roles: []string{"admin"}}}
	require.NoError(t, m.Send(ctx, msg))
	got := m.Messages()
	got[0].Invitation.Roles[0] = "mutated"
	assert.Equal(t, "admin", m.Last().Invitation.Roles[0], "Messages returns copies")

	boom := errors.New("boom")
	m.FailNext(2, boom)
	require.ErrorIs(t, m.Send(ctx, msg), boom)
	require.ErrorIs(t, m.Send(ctx, msg), boom)
	require.NoError(t, m.Send(ctx, invitations.Message{Subject: "two"}))
	assert.Len(t, m.Messages(), 2, "failed sends are not recorded")
	assert.Equal(t, "two", m.Last().Subject)

	m.FailNext(1, nil)
	require.ErrorIs(t, m.Send(ctx, msg), invitationstest.ErrSendFailed)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, m.Send(cancelled, msg), context.Canceled)

	m.FailNext(5, boom)
	m.Reset()
	assert.Empty(t, m.Messages())
	require.NoError(t, m.Send(ctx, msg), "Reset clears pending failures")
}

func TestMailerConcurrentSends(t *testing.T) {
	m := invitationstest.NewMailer()
	m.FailNext(10, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range 100 {
		wg.Go(func() {
			if err := m.Send(context.Background(), invitations.Message{Subject: fmt.Sprint(i)}); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
			_ = m.Messages()
			_ = m.Last()
		})
	}
	wg.Wait()
	assert.Equal(t, 10, failed)
	assert.Len(t, m.Messages(), 90)
}
