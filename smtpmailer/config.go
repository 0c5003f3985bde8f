package smtpmailer

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"time"
)

// TLSMode says how the connection to the server is protected.
type TLSMode int

const (
	// StartTLS connects in plain text and upgrades with STARTTLS before
	// anything else is said; a server that does not offer it is refused.
	// The default, for port 587.
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte, for port 465.
	ImplicitTLS
	// NoTLS sends in plain text. It is allowed only to a loopback address
	// (a local relay or a test server such as Mailpit).
	NoTLS
)

// AuthMethod is the SMTP authentication mechanism.
type AuthMethod int

const (
	// AuthPlain is SASL PLAIN, the default when a Username is set.
	AuthPlain AuthMethod = iota
	// AuthLogin is the older LOGIN mechanism some servers still require.
	AuthLogin
)

// Defaults for the zero Config fields.
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultSendTimeout = 30 * time.Second
	// DefaultMaxIdle keeps a connection for each of up to eight senders,
	// twice the Service's default delivery concurrency.
	DefaultMaxIdle = 8
	// DefaultIdleTimeout is well under the five minutes a server may wait
	// for a command (RFC 5321, 4.5.3.2.7): providers drop idle clients
	// sooner than that, and a connection is only worth keeping while
	// messages follow each other.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultMaxMessagesPerConn renews a connection now and then: some
	// servers limit the messages per connection and answer 421 past it,
	// and a new connection every hundred messages costs little.
	DefaultMaxMessagesPerConn = 100
)

// Config is the SMTP server and sender. It prints without the password.
type Config struct {
	Host string // required
	Port int    // required: 587 for StartTLS, 465 for ImplicitTLS
	TLS  TLSMode
	// TLSConfig, optional, tunes certificate checks (RootCAs for a private
	// CA). ServerName defaults to Host.
	TLSConfig *tls.Config

	From     string // required: the sender address, e.g. invitations@example.com
	FromName string // optional display name; non-ASCII is encoded

	Username string // optional: authenticate when set
	Password string
	Auth     AuthMethod

	// HelloName is the name sent with EHLO; default "localhost".
	HelloName string
	// DialTimeout bounds connecting; SendTimeout bounds the whole
	// transaction when the context has no earlier deadline.
	DialTimeout time.Duration
	SendTimeout time.Duration

	// A Mailer keeps the connections of the messages it sent open, already
	// past TLS and authentication, and sends the next messages on them:
	// a message then costs its own four round trips (MAIL, RCPT, DATA and
	// the text), not a handshake and a login as well. These bound what it
	// keeps; zero means the default and a negative value is refused with
	// ErrConfig.
	//
	// MaxIdle bounds the connections kept open between messages; when
	// more senders finish at once, the longest idle is closed.
	// IdleTimeout is how long one is kept unused; no goroutine watches
	// the clock, so the next Send (or Close) closes those past it.
	// MaxMessagesPerConn is how many messages one connection carries
	// before it is closed and replaced.
	MaxIdle            int
	IdleTimeout        time.Duration
	MaxMessagesPerConn int
	// DisableReuse sends every message on a connection of its own, closed
	// after it: for a server that mishandles a second message on one
	// connection.
	DisableReuse bool
}

// Format implements fmt.Formatter: no verb prints the password.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Host:%s Port:%d TLS:%d From:%s Username:%s Password:[redacted]}", c.Host, c.Port, c.TLS, c.From, c.Username)
}

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("from", c.From),
		slog.String("username", c.Username))
}

func (c Config) validate() (Config, error) {
	switch {
	case c.Host == "":
		return c, fmt.Errorf("%w: Host is required", ErrConfig)
	case c.Port <= 0 || c.Port > 65535:
		return c, fmt.Errorf("%w: Port must be 1 to 65535", ErrConfig)
	case c.TLS < StartTLS || c.TLS > NoTLS:
		return c, fmt.Errorf("%w: unknown TLS mode", ErrConfig)
	case c.Auth < AuthPlain || c.Auth > AuthLogin:
		return c, fmt.Errorf("%w: unknown auth method", ErrConfig)
	case c.TLS == NoTLS && !isLoopback(c.Host):
		return c, fmt.Errorf("%w: NoTLS is allowed only to a loopback host, not %s", ErrConfig, c.Host)
	case c.MaxIdle < 0 || c.IdleTimeout < 0 || c.MaxMessagesPerConn < 0:
		return c, fmt.Errorf("%w: MaxIdle, IdleTimeout and MaxMessagesPerConn must not be negative (DisableReuse turns reuse off)", ErrConfig)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil || from.Name != "" || from.Address != c.From {
		return c, fmt.Errorf("%w: From must be a plain address", ErrConfig)
	}
	if c.HelloName == "" {
		c.HelloName = "localhost"
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.MaxIdle == 0 {
		c.MaxIdle = DefaultMaxIdle
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxMessagesPerConn == 0 {
		c.MaxMessagesPerConn = DefaultMaxMessagesPerConn
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
