package smtpmailer_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
	"github.com/invitekit/invitations/smtpmailer"
)

func uniqueAddress(domain string) string {
	return "ada+" + strings.ToLower(rand.Text()[:10]) + "@" + domain
}

func newService(t *testing.T, mailer invitations.Mailer) *invitations.Service {
	t.Helper()
	svc, err := invitations.New(memstore.New(), mailer, invitations.Config{
		Secret: []byte("smtpmailer test secret, 32 bytes at least"), AcceptURL: "https://app.example.com/accept",
	})
	require.NoError(t, err)
	return svc
}

// TestInvitationArrives sends through the Service and reads the message
// back from Mailpit: recipient, encoded subject, both parts, headers, and a
// link that Accept takes.
func TestInvitationArrives(t *testing.T) {
	server := mailpitServer(t)
	mailer, err := smtpmailer.New(server.config())
	require.NoError(t, err)
	svc := newService(t, mailer)
	to := uniqueAddress("example.com")

	inv, err := svc.Invite(ctxTimeout(t), invitations.InviteInput{
		AccountID: "acme", Email: to, Name: "Ada", Roles: []string{"admin"}, InvitedBy: "Zoë Ångström",
	})
	require.NoError(t, err)
	assert.False(t, inv.Delivery.DeliveredAt.IsZero())

	got := server.received(t, to)
	require.Len(t, got.To, 1)
	assert.Equal(t, to, got.To[0].Address)
	assert.Equal(t, "invitations@example.org", got.From.Address)
	assert.Equal(t, "Acme Invitations", got.From.Name)
	assert.Equal(t, "Zoë Ångström invited you to join acme", got.Subject, "non-ASCII subject encoded and decoded")
	assert.Contains(t, got.Text, "Zoë Ångström invited you to join acme as admin.")
	assert.Contains(t, got.HTML, "Accept the invitation</a>")

	link := regexp.MustCompile(`https://app\.example\.com/accept\?token=[A-Za-z0-9_-]+`).FindString(got.Text)
	require.NotEmpty(t, link, "the text part carries the link")
	assert.Contains(t, got.HTML, `href="`+link+`"`, "the HTML part carries the same link")
	token, err := invitationstest.TokenFromLink(link)
	require.NoError(t, err)
	accepted, err := svc.Accept(ctxTimeout(t), token)
	require.NoError(t, err)
	assert.Equal(t, inv.ID, accepted.ID)

	h := server.headers(t, got.ID)
	require.NotEmpty(t, h["Date"])
	_, err = time.Parse(time.RFC1123Z, h["Date"][0])
	assert.NoError(t, err, "Date is RFC 5322")
	require.NotEmpty(t, h["Message-Id"])
	assert.Regexp(t, `^<[a-z0-9]+@example\.org>$`, h["Message-Id"][0])
	assert.Contains(t, h["Content-Type"][0], "multipart/alternative")
	assert.Equal(t, []string{inv.ID.String()}, h["X-Invitation-Id"])
}

func TestLoginAuthOverPlainLoopback(t *testing.T) {
	server := mailpitServer(t)
	cfg := server.config()
	cfg.TLS, cfg.TLSConfig, cfg.Auth = smtpmailer.NoTLS, nil, smtpmailer.AuthLogin
	mailer, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	to := uniqueAddress("example.org")
	require.NoError(t, mailer.Send(ctxTimeout(t), invitations.Message{To: to, Subject: "Hello", Text: "plain\nlines", HTML: "<p>hi</p>"}))
	got := server.received(t, to)
	assert.Equal(t, "plain\r\nlines", got.Text)
}

// TestRefusals: a server that cannot be reached, a wrong password, a
// refused recipient. Each fails the call with ErrDelivery and a cause an
// admin can read. The first two leave the message due for a retry; a
// refused recipient is permanent, so delivery is given up at once.
func TestRefusals(t *testing.T) {
	server := mailpitServer(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.Addr().(*net.TCPAddr).Port
	require.NoError(t, closed.Close())

	cases := map[string]struct {
		adjust    func(*smtpmailer.Config)
		to        string
		step      string
		code      int
		readable  string
		permanent bool
	}{
		"wrong port": {
			adjust: func(c *smtpmailer.Config) { c.Port = closedPort },
			to:     uniqueAddress("example.com"), step: "connect", readable: "connection refused",
		},
		"wrong password": {
			adjust: func(c *smtpmailer.Config) { c.Password = "not-the-password" },
			to:     uniqueAddress("example.com"), step: "auth", code: 535,
		},
		"refused recipient": {
			adjust: func(*smtpmailer.Config) {},
			to:     uniqueAddress("refused.test"), step: "rcpt to", code: 550, permanent: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := server.config()
			tc.adjust(&cfg)
			mailer, err := smtpmailer.New(cfg)
			require.NoError(t, err)
			svc := newService(t, mailer)
			inv, err := svc.Invite(ctxTimeout(t), invitations.InviteInput{AccountID: "acme", Email: tc.to, Roles: []string{"admin"}})
			require.ErrorIs(t, err, invitations.ErrDelivery)
			var sendErr *smtpmailer.SendError
			require.ErrorAs(t, err, &sendErr)
			assert.True(t, strings.HasPrefix(sendErr.Step, tc.step), "step %q", sendErr.Step)
			assert.Equal(t, tc.code, sendErr.Code)
			assert.Contains(t, err.Error(), tc.readable)
			assert.NotContains(t, err.Error(), cfg.Password)
			assert.NotEmpty(t, inv.Delivery.LastError)
			assert.Equal(t, tc.permanent, errors.Is(err, invitations.ErrPermanent))
			if tc.permanent {
				assert.Empty(t, inv.Delivery.Due, "given up at once")
				assert.False(t, inv.Delivery.FailedAt.IsZero())
				assert.Equal(t, 1, inv.Delivery.Attempts)
			} else {
				assert.Equal(t, invitations.MessageInvite, inv.Delivery.Due, "left due for DeliverDue")
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	server := mailpitServer(t)
	mailer, err := smtpmailer.New(server.config())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err = mailer.Send(ctx, invitations.Message{To: uniqueAddress("example.com"), Subject: "x", Text: "x", HTML: "x"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)

	// A server that accepts the connection but never answers: the deadline
	// ends the call.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := server.config()
	cfg.Port = silent.Addr().(*net.TCPAddr).Port
	mute, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = mute.Send(ctx, invitations.Message{To: uniqueAddress("example.com"), Subject: "x"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestConfigValidation(t *testing.T) {
	good := smtpmailer.Config{Host: "smtp.example.com", Port: 587, From: "invitations@example.com"}
	for name, adjust := range map[string]func(*smtpmailer.Config){
		"no host":                func(c *smtpmailer.Config) { c.Host = "" },
		"bad port":               func(c *smtpmailer.Config) { c.Port = 0 },
		"no from":                func(c *smtpmailer.Config) { c.From = "" },
		"from with display name": func(c *smtpmailer.Config) { c.From = "Acme <invitations@example.com>" },
		"plain text to internet": func(c *smtpmailer.Config) { c.TLS = smtpmailer.NoTLS },
		"unknown tls mode":       func(c *smtpmailer.Config) { c.TLS = 9 },
		"negative max idle":      func(c *smtpmailer.Config) { c.MaxIdle = -1 },
		"negative idle timeout":  func(c *smtpmailer.Config) { c.IdleTimeout = -time.Second },
		"negative messages":      func(c *smtpmailer.Config) { c.MaxMessagesPerConn = -1 },
	} {
		cfg := good
		adjust(&cfg)
		_, err := smtpmailer.New(cfg)
		require.ErrorIs(t, err, smtpmailer.ErrConfig, name)
		require.ErrorIs(t, err, invitations.ErrInvalidInput, name)
	}
	_, err := smtpmailer.New(good)
	require.NoError(t, err)

	cfg := good
	cfg.Password = "hunter2-very-secret"
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(verb, cfg), "hunter2", verb)
	}
	assert.False(t, errors.Is(nil, smtpmailer.ErrConfig))
}
