package smtpmailer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/smtpmailer"
)

func newMailer(t *testing.T, cfg smtpmailer.Config) *smtpmailer.Mailer {
	t.Helper()
	m, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

func sendTo(t *testing.T, m *smtpmailer.Mailer, to string) error {
	t.Helper()
	return m.Send(ctxTimeout(t), message(to))
}

// eventually waits for the server to see what the client did after Send
// returned (a QUIT, a close).
func eventually(t *testing.T, want int, got func() int, msg string) {
	t.Helper()
	assert.Eventually(t, func() bool { return got() == want }, 5*time.Second, 5*time.Millisecond, "%s: want %d, have %d", msg, want, got())
}

// burst has n sends in flight at once, each on a connection of its own:
// the server holds back its reply to each final dot until all n are there.
func burst(t *testing.T, n int) (respond func(int, string) string, run func(*smtpmailer.Mailer)) {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	respond = func(_ int, cmd string) string {
		if cmd == "." {
			mu.Lock()
			if arrived++; arrived == n {
				close(all)
			}
			mu.Unlock()
			<-all
		}
		return ""
	}
	run = func(m *smtpmailer.Mailer) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { assert.NoError(t, sendTo(t, m, "ada@example.com")) })
		}
		wg.Wait()
	}
	return respond, run
}

func TestMaxIdle(t *testing.T) {
	respond, run := burst(t, 4)
	server := newFakeServer(t, respond)
	cfg := server.config()
	cfg.MaxIdle = 2
	m := newMailer(t, cfg)
	run(m)
	require.Equal(t, 4, server.Accepted())
	eventually(t, 2, server.Open, "connections kept")
	assert.Equal(t, 2, server.count("QUIT"), "the others are closed politely")

	for range 4 {
		require.NoError(t, sendTo(t, m, "ada@example.com"))
	}
	assert.Equal(t, 4, server.Accepted(), "later sends use the kept connections")
}

func TestIdleTimeout(t *testing.T) {
	server := newFakeServer(t, nil)
	cfg := server.config()
	cfg.IdleTimeout = time.Minute
	m := newMailer(t, cfg)
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	smtpmailer.SetClock(m, func() time.Time { return time.Unix(0, now.Load()) })
	wait := func(d time.Duration) { now.Add(int64(d)) }

	require.NoError(t, sendTo(t, m, "ada@example.com"))
	wait(59 * time.Second)
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 1, server.Accepted(), "idle for less than IdleTimeout: reused")

	wait(time.Minute)
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 2, server.Accepted(), "idle for IdleTimeout: replaced")
	eventually(t, 1, server.Open, "the expired connection is closed")
	assert.Equal(t, 1, server.count("QUIT"))
}

func TestMaxMessagesPerConn(t *testing.T) {
	server := newFakeServer(t, nil)
	cfg := server.config()
	cfg.MaxMessagesPerConn = 3
	m := newMailer(t, cfg)
	for range 7 {
		require.NoError(t, sendTo(t, m, "ada@example.com"))
	}
	assert.Equal(t, map[int]int{1: 3, 2: 3, 3: 1}, server.perConnection("MAIL"))
	assert.Equal(t, 2, server.count("QUIT"), "a full connection says goodbye")
	eventually(t, 1, server.Open, "connections open")
}

func TestDisableReuse(t *testing.T) {
	server := newFakeServer(t, nil)
	cfg := server.config()
	cfg.DisableReuse = true
	m := newMailer(t, cfg)
	for range 3 {
		require.NoError(t, sendTo(t, m, "ada@example.com"))
	}
	assert.Equal(t, 3, server.Accepted())
	assert.Equal(t, 3, server.count("QUIT"))
	eventually(t, 0, server.Open, "connections open")
}

// TestClose: Close hangs up on the idle connections; a send under way
// meanwhile, and sends after, still deliver but keep nothing open.
func TestClose(t *testing.T) {
	atDot := make(chan struct{})
	finish := make(chan struct{})
	var hold atomic.Bool
	server := newFakeServer(t, func(_ int, cmd string) string {
		if cmd == "." && hold.Load() {
			atDot <- struct{}{}
			<-finish
		}
		return ""
	})
	m := newMailer(t, server.config())
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	require.Equal(t, 1, server.Open())

	hold.Store(true)
	inFlight := make(chan error, 1)
	go func() { inFlight <- sendTo(t, m, "ada@example.com") }() // takes the idle connection
	<-atDot
	hold.Store(false)
	require.NoError(t, sendTo(t, m, "ada@example.com")) // a second connection, kept
	require.Equal(t, 2, server.Open())

	require.NoError(t, m.Close())
	eventually(t, 1, server.Open, "the idle connection is closed, the busy one not")
	close(finish)
	require.NoError(t, <-inFlight)
	eventually(t, 0, server.Open, "the busy one is closed after its message")

	require.NoError(t, sendTo(t, m, "ada@example.com"), "sends after Close still work")
	eventually(t, 0, server.Open, "and keep nothing open")
	assert.Equal(t, 3, server.Accepted())
	assert.Equal(t, 3, server.count("QUIT"))
	assert.NoError(t, m.Close(), "Close twice")
}

// TestRefusalKeepsTheConnection: a refused recipient or message is this
// message's problem; the connection is reset and carries the next one.
func TestRefusalKeepsTheConnection(t *testing.T) {
	var dots atomic.Int32
	server := newFakeServer(t, func(_ int, cmd string) string {
		switch {
		case strings.Contains(cmd, "NOBODY@"):
			return "550 5.1.1 no such user\r\n"
		case cmd == "." && dots.Add(1) == 2:
			return "554 5.7.1 rejected\r\n"
		}
		return ""
	})
	m := newMailer(t, server.config())
	require.NoError(t, sendTo(t, m, "ada@example.com"))

	err := sendTo(t, m, "nobody@example.com")
	var sendErr *smtpmailer.SendError
	require.ErrorAs(t, err, &sendErr)
	assert.Equal(t, "rcpt to", sendErr.Step)
	assert.Equal(t, 550, sendErr.Code)
	assert.ErrorIs(t, err, invitations.ErrPermanent)

	err = sendTo(t, m, "ada@example.com")
	require.ErrorAs(t, err, &sendErr)
	assert.Equal(t, "data", sendErr.Step)
	assert.Equal(t, 554, sendErr.Code)

	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 1, server.Accepted(), "one connection throughout")
	assert.Equal(t, 2, server.count("RSET"), "reset after each refusal, not between good messages")
}

// TestDroppedIdleConnectionIsReplaced: the server closed a kept connection
// (a restart, its idle timeout); the next message goes out on a new one,
// with no error and once.
func TestDroppedIdleConnectionIsReplaced(t *testing.T) {
	server := newFakeServer(t, nil)
	m := newMailer(t, server.config())
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	server.dropAll()
	eventually(t, 0, server.Open, "connections open")

	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 2, server.Accepted())
	assert.Equal(t, 2, server.count("."), "each message once")
}

// TestClosingReplyIsRetried: a server that answers 421 to the next MAIL on
// a kept connection (too many messages, shutting down) has not taken the
// message; it goes out on a new connection.
func TestClosingReplyIsRetried(t *testing.T) {
	var mails atomic.Int32
	server := newFakeServer(t, func(conn int, cmd string) string {
		if strings.HasPrefix(cmd, "MAIL") && mails.Add(1) == 2 {
			return "421 4.7.0 too many messages, closing\r\n"
		}
		return ""
	})
	m := newMailer(t, server.config())
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 2, server.Accepted())
	assert.Equal(t, 2, server.count("."))
}

// TestLostReplyToTheDotIsAnError: once the final dot is sent, the server
// may have accepted the message even if its reply never arrives. Sending
// again could deliver it twice, so the failure is reported, not retried.
func TestLostReplyToTheDotIsAnError(t *testing.T) {
	var dots atomic.Int32
	server := newFakeServer(t, func(_ int, cmd string) string {
		if cmd == "." && dots.Add(1) == 2 {
			return hangUp
		}
		return ""
	})
	m := newMailer(t, server.config())
	require.NoError(t, sendTo(t, m, "ada@example.com"))
	err := sendTo(t, m, "ada@example.com")
	var sendErr *smtpmailer.SendError
	require.ErrorAs(t, err, &sendErr)
	assert.Equal(t, "data", sendErr.Step)
	assert.NotErrorIs(t, err, invitations.ErrPermanent, "a dropped connection is worth retrying")
	assert.Equal(t, 1, server.Accepted(), "not sent again on a new connection")
	assert.Equal(t, 2, server.count("."))

	require.NoError(t, sendTo(t, m, "ada@example.com"), "the next message opens a new connection")
	assert.Equal(t, 2, server.Accepted())
}

// TestContextEndClosesOnlyThatConnection: a send whose context ends
// mid-transaction loses its connection; the other kept ones stay.
func TestContextEndClosesOnlyThatConnection(t *testing.T) {
	respond, run := burst(t, 2)
	stalled := make(chan struct{})
	server := newFakeServer(t, func(conn int, cmd string) string {
		if strings.Contains(cmd, "SLOW@") {
			<-stalled
		}
		return respond(conn, cmd)
	})
	release := sync.OnceFunc(func() { close(stalled) })
	t.Cleanup(release) // before the server's cleanup, which waits for it
	m := newMailer(t, server.config())
	run(m)
	eventually(t, 2, server.Open, "connections kept")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := m.Send(ctx, message("slow@example.com"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, invitations.ErrPermanent))
	release() // the server finds the connection closed once it stops stalling
	eventually(t, 1, server.Open, "connections open")

	require.NoError(t, sendTo(t, m, "ada@example.com"))
	assert.Equal(t, 2, server.Accepted(), "the other connection carried the next message")
}
