package smtpmailer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/smtpmailer"
)

// mailpit describes the Mailpit server .ci/with-mailpit started.
type mailpit struct {
	host     string
	port     int
	api      string
	user     string
	password string
	roots    *x509.CertPool
}

func mailpitServer(t *testing.T) mailpit {
	t.Helper()
	addr := os.Getenv("INVITATIONS_MAILPIT_SMTP")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("INVITATIONS_MAILPIT_SMTP is not set: CI must run the SMTP tests against Mailpit (see .ci/with-mailpit)")
		}
		t.Skip("INVITATIONS_MAILPIT_SMTP is not set; run the SMTP tests with: bash .ci/with-mailpit go test ./smtpmailer/")
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	m := mailpit{host: host, api: os.Getenv("INVITATIONS_MAILPIT_API"),
		user: os.Getenv("INVITATIONS_MAILPIT_USER"), password: os.Getenv("INVITATIONS_MAILPIT_PASSWORD")}
	m.port, err = strconv.Atoi(port)
	require.NoError(t, err)
	pem, err := os.ReadFile(os.Getenv("INVITATIONS_MAILPIT_CA"))
	require.NoError(t, err, "the server's certificate")
	m.roots = x509.NewCertPool()
	require.True(t, m.roots.AppendCertsFromPEM(pem))
	return m
}

// config is a Mailer config for the server: STARTTLS, PLAIN auth.
func (m mailpit) config() smtpmailer.Config {
	return smtpmailer.Config{
		Host: m.host, Port: m.port, TLS: smtpmailer.StartTLS, TLSConfig: &tls.Config{RootCAs: m.roots},
		From: "invitations@example.org", FromName: "Acme Invitations",
		Username: m.user, Password: m.password,
	}
}

// mailpitMessage is what Mailpit's API says of one message.
type mailpitMessage struct {
	ID      string
	Subject string
	To      []struct{ Name, Address string }
	From    struct{ Name, Address string }
	Text    string
	HTML    string
}

// received waits for the one message sent to address and returns it whole.
func (m mailpit) received(t *testing.T, address string) mailpitMessage {
	t.Helper()
	var list struct {
		Messages []mailpitMessage `json:"messages"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.getJSON(t, "/api/v1/search?query="+url.QueryEscape("to:"+address), &list)
		if len(list.Messages) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Len(t, list.Messages, 1, "exactly one message to %s", address)
	var full mailpitMessage
	m.getJSON(t, "/api/v1/message/"+list.Messages[0].ID, &full)
	return full
}

func (m mailpit) headers(t *testing.T, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	m.getJSON(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

func (m mailpit) getJSON(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
