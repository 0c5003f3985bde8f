package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/smtpmailer"
)

func TestStoryOverSMTP(t *testing.T) {
	m := servers.MailpitServer(t)
	cfg := smtpmailer.Config{
		Host: m.Host, Port: m.Port, TLS: smtpmailer.StartTLS, TLSConfig: m.TLS, From: "invitations@example.com",
		Username: m.User, Password: m.Password,
	}
	require.NoError(t, run(io.Discard, cfg, m.API))
}
