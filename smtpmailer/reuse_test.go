package smtpmailer_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/smtpmailer"
)

// batch names n recipients that share a fresh prefix, so that Mailpit can
// be asked for all of them at once.
func batch(n int) []string {
	prefix := "r" + strings.ToLower(uniqueAddress("x")[4:14])
	to := make([]string, n)
	for i := range to {
		to[i] = prefix + "-" + strconv.Itoa(i) + "@example.com"
	}
	return to
}

// deliveredOnce checks that Mailpit received exactly one message for each
// address of a batch, and nothing else sent to the batch.
func (m mailpit) deliveredOnce(t *testing.T, to []string) {
	t.Helper()
	prefix, _, _ := strings.Cut(to[0], "-")
	var list struct {
		Total    int              `json:"messages_count"`
		Messages []mailpitMessage `json:"messages"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.getJSON(t, "/api/v1/search?limit=5000&query="+url.QueryEscape("to:"+prefix+"-"), &list)
		if list.Total >= len(to) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := map[string]int{}
	for _, msg := range list.Messages {
		for _, rcpt := range msg.To {
			got[rcpt.Address]++
		}
	}
	want := map[string]int{}
	for _, address := range to {
		want[address] = 1
	}
	assert.Equal(t, want, got, "each message delivered exactly once")
	assert.Equal(t, len(to), list.Total)
}

func message(to string) invitations.Message {
	return invitations.Message{To: to, Subject: "Reuse " + to, Text: "hi", HTML: "<p>hi</p>"}
}

// throughProxy is a Mailer for the test Mailpit that connects through a
// counting proxy.
func throughProxy(t *testing.T, adjust func(*smtpmailer.Config)) (mailpit, *proxy, *smtpmailer.Mailer) {
	t.Helper()
	server := mailpitServer(t)
	p := newProxy(t, net.JoinHostPort(server.Host, strconv.Itoa(server.Port)))
	cfg := p.config(server.config())
	if adjust != nil {
		adjust(&cfg)
	}
	mailer, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	return server, p, mailer
}

// TestSequentialSendsShareAConnection: one sender's messages go out on one
// connection, paying the handshakes and the login once.
func TestSequentialSendsShareAConnection(t *testing.T) {
	server, p, mailer := throughProxy(t, nil)
	to := batch(20)
	for _, address := range to {
		require.NoError(t, mailer.Send(ctxTimeout(t), message(address)))
	}
	assert.Equal(t, 1, p.Accepted(), "connections opened for %d messages", len(to))
	server.deliveredOnce(t, to)
}
