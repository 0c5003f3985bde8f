package smtpmailer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/smtpmailer"
)

// mailpit is the test server, with helpers to read what it received.
type mailpit struct{ servers.Mailpit }

func mailpitServer(t testing.TB) mailpit { return mailpit{servers.MailpitServer(t)} }

// config is a Mailer config for the server: STARTTLS, PLAIN auth.
func (m mailpit) config() smtpmailer.Config {
	return smtpmailer.Config{
		Host: m.Host, Port: m.Port, TLS: smtpmailer.StartTLS, TLSConfig: m.TLS,
		From: "invitations@example.org", FromName: "Acme Invitations",
		Username: m.User, Password: m.Password,
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
	resp, err := http.Get(m.API + path)
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
