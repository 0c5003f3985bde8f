package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/smtpmailer"
)

func TestStoryOverSMTP(t *testing.T) {
	addr := os.Getenv("INVITATIONS_MAILPIT_SMTP")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("INVITATIONS_MAILPIT_SMTP is not set: CI must run the SMTP tests (see .ci/with-mailpit)")
		}
		t.Skip("INVITATIONS_MAILPIT_SMTP is not set; run with: bash .ci/with-mailpit go test ./examples/smtp/")
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	pem, err := os.ReadFile(os.Getenv("INVITATIONS_MAILPIT_CA"))
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem))
	cfg := smtpmailer.Config{
		Host: host, Port: p, TLS: smtpmailer.StartTLS, TLSConfig: &tls.Config{RootCAs: roots}, From: "invitations@example.com",
		Username: os.Getenv("INVITATIONS_MAILPIT_USER"), Password: os.Getenv("INVITATIONS_MAILPIT_PASSWORD"),
	}
	require.NoError(t, run(io.Discard, cfg, os.Getenv("INVITATIONS_MAILPIT_API")))
}
