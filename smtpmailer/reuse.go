package smtpmailer

import (
	"context"
	"errors"
	"net/smtp"
	"net/textproto"
	"slices"
	"sync"
	"time"
)

// session is one connection past the greeting, TLS and the login, ready
// for a mail transaction. A session is used by one Send at a time: it is
// either in the idle list or held by the Send that took it.
type session struct {
	conn      *limitedConn // under TLS, so its deadlines and byte budget hold for both
	client    *smtp.Client
	messages  int       // transactions begun on it
	idleSince time.Time // when it was last put in the idle list
}

// watch applies ctx to the session until release is called: its deadline
// to every read and write, and its cancellation at once, by moving the
// deadline to the past. The byte budget starts afresh, as it is per
// message. release reports whether the connection is still usable, that is
// ctx did not cut it off meanwhile; it clears the deadline, since an idle
// connection waits without one.
func (s *session) watch(ctx context.Context) (release func() bool) {
	s.conn.left = maxServerBytes
	if deadline, ok := ctx.Deadline(); ok {
		_ = s.conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	if ctx.Err() != nil {
		// AfterFunc runs f in a goroutine of its own, maybe after the
		// first command went out: a context that has ended must not let
		// one through.
		_ = s.conn.SetDeadline(time.Unix(1, 0))
	}
	return func() bool {
		if !stop() {
			return false
		}
		_ = s.conn.SetDeadline(time.Time{})
		return true
	}
}

// quit ends a session after a message: it says QUIT and waits a moment for
// the server's goodbye, which changes nothing about the message.
func (s *session) quit() {
	_ = s.conn.SetDeadline(time.Now().Add(quitWait))
	_ = s.client.Quit()
	_ = s.client.Close()
}

// hangUp ends an idle session: it says QUIT without waiting for the reply,
// so that neither a Send nor Close waits on a server that may be gone.
func (s *session) hangUp() {
	_ = s.conn.SetDeadline(time.Now().Add(quitWait))
	_ = s.client.Text.PrintfLine("QUIT")
	_ = s.client.Close()
}

// pool holds the idle sessions of a Mailer, the one that was put back
// last at the end. It is a pointer in the Mailer, so that a Mailer copied
// by fmt does not copy its lock.
type pool struct {
	mu     sync.Mutex
	idle   []*session
	closed bool
}

// take returns the idle session used last, or nil. Sessions idle for
// IdleTimeout or longer are hung up on the way: the server may already
// have dropped them, and what is left is as likely to be.
func (m *Mailer) take() *session {
	p := m.pool
	p.mu.Lock()
	now := m.now()
	expired := 0
	for expired < len(p.idle) && now.Sub(p.idle[expired].idleSince) >= m.cfg.IdleTimeout {
		expired++
	}
	stale := slices.Clone(p.idle[:expired])
	p.idle = slices.Delete(p.idle, 0, expired)
	var s *session
	if n := len(p.idle); n > 0 {
		s = p.idle[n-1]
		p.idle = slices.Delete(p.idle, n-1, n)
	}
	p.mu.Unlock()
	for _, old := range stale {
		old.hangUp()
	}
	return s
}

// keep puts a usable session back in the idle list and reports whether it
// did. It does not when reuse is off, when the session has carried its
// MaxMessagesPerConn, or once the Mailer is closed. When the list is full,
// the session idle the longest makes room.
func (m *Mailer) keep(s *session) bool {
	if m.cfg.DisableReuse || s.messages >= m.cfg.MaxMessagesPerConn {
		return false
	}
	p := m.pool
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	s.idleSince = m.now()
	p.idle = append(p.idle, s)
	var evicted *session
	if len(p.idle) > m.cfg.MaxIdle {
		evicted = p.idle[0]
		p.idle = slices.Delete(p.idle, 0, 1)
	}
	p.mu.Unlock()
	if evicted != nil {
		evicted.hangUp()
	}
	return true
}

// dropIdleSince closes the idle sessions that have been idle since before
// t. It is called when a session idle since t turned out to be gone: a
// server that restarts or times out idle clients has dropped the older
// ones too, and each would cost a Send a wasted round trip to find out.
func (m *Mailer) dropIdleSince(t time.Time) {
	p := m.pool
	p.mu.Lock()
	n := 0
	for n < len(p.idle) && !p.idle[n].idleSince.After(t) {
		n++
	}
	gone := slices.Clone(p.idle[:n])
	p.idle = slices.Delete(p.idle, 0, n)
	p.mu.Unlock()
	for _, s := range gone {
		_ = s.client.Close()
	}
}

// Close closes the idle connections. Sends that are under way, and any
// that follow, still work, but their connections are closed after their
// message instead of being kept, so nothing stays open once they return.
// It always returns nil; it is an io.Closer so that a Mailer can be closed
// with the rest of an application's resources.
func (m *Mailer) Close() error {
	p := m.pool
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, s := range idle {
		s.hangUp()
	}
	return nil
}

// errRetry tells Send that a kept session failed before the server could
// have accepted the message, so that the message is sent again on a new
// connection.
var errRetry = errors.New("smtpmailer: kept connection lost, retry on a new one")

// transact sends one message on s, which is watched by ctx, then keeps s
// for the next message or ends it.
//
// A failure on a kept session (reused) up to and including the DATA
// command, whether the connection broke or the server answered 421 (it is
// closing), gives errRetry: the server had not received the message body,
// let alone its final dot, so sending it on a new connection cannot
// deliver it twice. Once the body is on its way, a lost reply to the final
// dot may mean the server has accepted it: that is an error, so the
// message is sent at least once but never silently twice.
//
// A reply that refuses this message (a 4xx or 5xx other than 421) leaves
// the connection in step: it is reset with RSET and kept. Any other
// failure, the context's end included, closes this connection only.
func (m *Mailer) transact(ctx context.Context, s *session, to string, data []byte) error {
	release := s.watch(ctx)
	reused := s.messages > 0
	s.messages++
	step, bodySent, err := m.mailTransaction(s.client, to, data)
	var reply *textproto.Error
	replied := errors.As(err, &reply)
	inStep := err == nil || (replied && reply.Code != 421 && s.client.Reset() == nil)
	if release() && inStep {
		if !m.keep(s) {
			s.quit()
		}
		return m.result(ctx, step, err)
	}
	_ = s.client.Close()
	if reused && !bodySent && (!replied || reply.Code == 421) && ctx.Err() == nil && !deadlinePassed(ctx) &&
		!errors.Is(err, errServerTooLong) {
		if !replied {
			m.dropIdleSince(s.idleSince)
		}
		return errRetry
	}
	return m.result(ctx, step, err)
}

// mailTransaction is MAIL, RCPT and DATA. It names the step that failed
// and says whether the message body was on its way by then.
func (m *Mailer) mailTransaction(c *smtp.Client, to string, data []byte) (step string, bodySent bool, err error) {
	if err := c.Mail(m.cfg.From); err != nil {
		return "mail from", false, err
	}
	if err := c.Rcpt(to); err != nil {
		return "rcpt to", false, err
	}
	w, err := c.Data()
	if err != nil {
		return "data", false, err
	}
	if _, err := w.Write(data); err != nil {
		return "data", true, err
	}
	// The server accepts or refuses the message here.
	if err := w.Close(); err != nil {
		return "data", true, err
	}
	return "", true, nil
}

func (m *Mailer) result(ctx context.Context, step string, err error) error {
	if err == nil {
		return nil
	}
	return m.fail(ctx, step, err)
}

// deadlinePassed reports a deadline that has passed though ctx's timer has
// not fired yet: a connection's deadline and the context's timer are two
// clocks, and the connection's may be first.
func deadlinePassed(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}
