package smtpmailer_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	t.Cleanup(func() { mailer.Close() })
	to := batch(20)
	for _, address := range to {
		require.NoError(t, mailer.Send(ctxTimeout(t), message(address)))
	}
	assert.Equal(t, 1, p.Accepted(), "connections opened for %d messages", len(to))
	server.deliveredOnce(t, to)
}

// TestDroppedConnectionsAreSurvived: the server drops the kept connection
// between messages, twice; every message still arrives, once, and the
// caller sees no error.
func TestDroppedConnectionsAreSurvived(t *testing.T) {
	server, p, mailer := throughProxy(t, nil)
	t.Cleanup(func() { mailer.Close() })
	to := batch(15)
	for i, address := range to {
		if i == 5 || i == 10 {
			require.Equal(t, 1, p.drop(), "the kept connection dropped")
		}
		require.NoError(t, mailer.Send(ctxTimeout(t), message(address)))
	}
	assert.Equal(t, 3, p.Accepted(), "one connection, and one after each drop")
	server.deliveredOnce(t, to)
}

// TestConcurrentSendersDeliverOnce: eight senders at once share the kept
// connections, before and after the server drops them all, and each
// message arrives exactly once.
func TestConcurrentSendersDeliverOnce(t *testing.T) {
	const senders, each = 8, 12
	server, p, mailer := throughProxy(t, nil)
	t.Cleanup(func() { mailer.Close() })
	to := batch(2 * senders * each)
	round := func(to []string) {
		var wg sync.WaitGroup
		for s := range senders {
			wg.Go(func() {
				for i := s; i < len(to); i += senders {
					assert.NoError(t, mailer.Send(ctxTimeout(t), message(to[i])))
				}
			})
		}
		wg.Wait()
	}
	round(to[:senders*each])
	assert.LessOrEqual(t, p.Accepted(), senders, "no more connections than senders")
	p.drop()
	round(to[senders*each:])
	assert.LessOrEqual(t, p.Accepted(), 2*senders)
	server.deliveredOnce(t, to)
}

// TestRefusedRecipientKeepsTheConnection: Mailpit refuses a recipient with
// 550; the connection carries the next message.
func TestRefusedRecipientKeepsTheConnection(t *testing.T) {
	server, p, mailer := throughProxy(t, nil)
	t.Cleanup(func() { mailer.Close() })
	err := mailer.Send(ctxTimeout(t), message(uniqueAddress("refused.test")))
	require.ErrorIs(t, err, invitations.ErrPermanent)
	to := batch(2)
	for _, address := range to {
		require.NoError(t, mailer.Send(ctxTimeout(t), message(address)))
	}
	assert.Equal(t, 1, p.Accepted())
	server.deliveredOnce(t, to)
}
