// Package smtpmailer is an invitations.Mailer that sends through an SMTP
// server: STARTTLS, implicit TLS, or plain text to a loopback relay; PLAIN
// or LOGIN authentication; multipart text and HTML.
//
// It uses only the standard library (net/smtp, mime/multipart): the
// protocol surface an invitation needs is small, and owning it lets every
// step honour the context and report which step failed.
package smtpmailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	"github.com/invitekit/invitations"
)

// ErrConfig reports a bad Config. It matches invitations.ErrInvalidInput
// too, as the errors of invitations.New do, so that a host checks one
// sentinel for every bad setting.
var ErrConfig error = configError{}

type configError struct{}

func (configError) Error() string { return "smtpmailer: invalid config" }

// Is makes errors.Is(err, invitations.ErrInvalidInput) true.
func (configError) Is(target error) bool { return target == invitations.ErrInvalidInput }

// Mailer sends invitation messages through one SMTP server. It keeps the
// connections it opened for the messages that follow, within the bounds
// of its Config; Close closes those it keeps. It is safe for concurrent
// use: each Send holds a connection of its own while it sends.
type Mailer struct {
	cfg  Config
	from mail.Address
	now  func() time.Time
	pool *pool
}

var _ invitations.Mailer = (*Mailer)(nil)

// New checks cfg and returns a Mailer. It does not connect.
func New(cfg Config) (*Mailer, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &Mailer{cfg: cfg, from: mail.Address{Name: cfg.FromName, Address: cfg.From}, now: time.Now, pool: &pool{}}, nil
}

// Format implements fmt.Formatter: a Mailer prints its server and sender,
// never its password, under every verb.
func (m Mailer) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "smtpmailer.Mailer%v", m.cfg)
}

// LogValue implements slog.LogValuer without the password.
func (m Mailer) LogValue() slog.Value { return m.cfg.LogValue() }

// SendError says which step of an SMTP transaction failed and, when the
// server answered, its reply code, so that an admin can tell a wrong
// password (535) from a refused recipient (550) from a server that is down.
// A 5xx reply to the recipient or to the message itself (steps "rcpt to"
// and "data") matches invitations.ErrPermanent: the Service gives up on
// such a message at once instead of retrying it. A 5xx at an earlier step
// (a wrong password, a refused sender) is the mailer's configuration, not
// the message's fault: it stays worth retrying once the setup is fixed.
type SendError struct {
	// Step is "connect", "hello", "starttls", "auth", "mail from",
	// "rcpt to" or "data".
	Step string
	Code int // the server's reply code; 0 when it did not answer
	Err  error
}

// Error implements error.
func (e *SendError) Error() string {
	return "smtpmailer: " + e.Step + ": " + e.Err.Error()
}

// Unwrap gives the cause (a *textproto.Error, a net error, a context error).
func (e *SendError) Unwrap() error { return e.Err }

// Is makes a 5xx reply to the recipient or the message match
// invitations.ErrPermanent.
func (e *SendError) Is(target error) bool {
	return target == invitations.ErrPermanent && e.Code >= 500 && (e.Step == "rcpt to" || e.Step == "data")
}

// maxServerBytes bounds what one transaction reads from the server: its
// replies are a few hundred bytes and a TLS handshake some kilobytes, so a
// server that talks without end is cut off rather than read into memory.
const maxServerBytes = 1 << 20

// quitWait is how long a delivered message waits for the server's goodbye.
const quitWait = time.Second

// Send delivers msg. It honours ctx: its deadline bounds the whole
// transaction (as does Config.SendTimeout), and cancelling it aborts the
// connection at once.
//
// It sends on a kept connection when there is one (see Config.MaxIdle). If
// that connection turns out to have been dropped by the server before the
// message could be accepted, the message is sent on a new connection
// instead, with no error; see transact for where that stops being safe.
func (m *Mailer) Send(ctx context.Context, msg invitations.Message) error {
	data, err := compose(m.from, msg, m.now())
	if err != nil {
		return fmt.Errorf("smtpmailer: composing message: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.SendTimeout)
	defer cancel()

	if err := ctx.Err(); err != nil {
		// Fail before a kept connection is taken, and lost to a context
		// that has already ended.
		return m.fail(ctx, "connect", err)
	}
	if s := m.take(); s != nil {
		if err := m.transact(ctx, s, msg.To, data); !errors.Is(err, errRetry) {
			return err
		}
	}
	s, err := m.connect(ctx)
	if err != nil {
		return err
	}
	return m.transact(ctx, s, msg.To, data) // never errRetry: the connection is new
}

// connect opens a session: it dials, reads the greeting, says EHLO, starts
// TLS and logs in, all within ctx.
func (m *Mailer) connect(ctx context.Context) (*session, error) {
	raw, err := m.dial(ctx)
	if err != nil {
		return nil, m.fail(ctx, "connect", err)
	}
	s := &session{conn: &limitedConn{Conn: raw}}
	release := s.watch(ctx)
	err = m.open(ctx, s)
	// Should ctx have ended just after the login, transact's own watch
	// ends the connection again, so release's answer is not needed.
	release()
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	return s, nil
}

func (m *Mailer) open(ctx context.Context, s *session) error {
	c, err := smtp.NewClient(s.conn, m.cfg.Host)
	if err != nil {
		return m.fail(ctx, "connect", err)
	}
	s.client = c
	if err := c.Hello(m.cfg.HelloName); err != nil {
		return m.fail(ctx, "hello", err)
	}
	if m.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &SendError{Step: "starttls", Err: errors.New("server does not offer STARTTLS, which this mailer requires")}
		}
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return m.fail(ctx, "starttls", err)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(m.auth()); err != nil {
			return m.fail(ctx, "auth", err)
		}
	}
	return nil
}

// limitedConn fails reads once the server has sent more than left bytes.
type limitedConn struct {
	net.Conn
	left int64
}

var errServerTooLong = errors.New("the server sent more than 1 MiB of replies")

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errServerTooLong
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	dialer := &net.Dialer{Timeout: m.cfg.DialTimeout}
	if m.cfg.TLS == ImplicitTLS {
		return (&tls.Dialer{NetDialer: dialer, Config: m.tlsConfig()}).DialContext(ctx, "tcp", addr)
	}
	return dialer.DialContext(ctx, "tcp", addr)
}

func (m *Mailer) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.cfg.TLSConfig != nil {
		cfg = m.cfg.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = m.cfg.Host
	}
	return cfg
}

func (m *Mailer) auth() smtp.Auth {
	if m.cfg.Auth == AuthLogin {
		return &loginAuth{username: m.cfg.Username, password: m.cfg.Password, host: m.cfg.Host}
	}
	return smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)
}

// fail wraps err as the SendError of a step, keeping the server's code and
// making a cancelled or timed-out context recognisable.
func (m *Mailer) fail(ctx context.Context, step string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil && deadlinePassed(ctx) {
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	e := &SendError{Step: step, Err: err}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		e.Code = reply.Code
	}
	return e
}
