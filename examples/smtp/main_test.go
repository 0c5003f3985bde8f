package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/smtpmailer"
)

func TestInviteAndResendOverSMTP(t *testing.T) {
	m := servers.MailpitServer(t)
	cfg := smtpmailer.Config{
		Host: m.Host, Port: m.Port, TLS: smtpmailer.StartTLS, TLSConfig: m.TLS, From: "invitations@example.com",
		Username: m.User, Password: m.Password,
	}
	var out strings.Builder
	require.NoError(t, run(&out, cfg, m.API))
	assert.Contains(t, out.String(), "Invited ada@example.com: delivered, mail 1 of this invitation")
	assert.Contains(t, out.String(), "Resent: delivered, mail 2 of this invitation")
}
