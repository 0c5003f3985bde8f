package smtpmailer_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/smtpmailer"
)

// scriptedServer is an SMTP peer that Mailpit cannot be made to be: it
// greets with greet, then answers each command by respond (by default a
// well-behaved server), and stops answering when respond returns "".
func scriptedServer(t *testing.T, greet func(net.Conn), respond func(cmd string) string) smtpmailer.Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				greet(c)
				r := bufio.NewReader(c)
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					if inData {
						if cmd != "." {
							continue
						}
						inData, cmd = false, "."
					}
					reply := respond(cmd)
					if reply == "" {
						// Silent: hold the connection open until the client leaves.
						_, _ = r.ReadString('\n')
						return
					}
					if strings.HasPrefix(cmd, "DATA") {
						inData = true
					}
					fmt.Fprint(c, reply)
				}
			}()
		}
	}()
	return smtpmailer.Config{
		Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: smtpmailer.NoTLS,
		From: "invitations@example.org", SendTimeout: time.Minute,
	}
}

func politeGreeting(c net.Conn) { fmt.Fprint(c, "220 fake ESMTP\r\n") }

// wellBehaved answers as a server that accepts the message.
func wellBehaved(cmd string) string {
	switch {
	case strings.HasPrefix(cmd, "EHLO"):
		return "250-fake\r\n250 8BITMIME\r\n"
	case strings.HasPrefix(cmd, "DATA"):
		return "354 go ahead\r\n"
	case cmd == ".":
		return "250 queued\r\n"
	case cmd == "QUIT":
		return "221 bye\r\n"
	}
	return "250 ok\r\n"
}

// sendWithin runs Send and fails the test if it does not return within
// limit: the behaviour under test is that it returns at all, long before
// the minute-long SendTimeout.
func sendWithin(t *testing.T, m *smtpmailer.Mailer, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- m.Send(context.Background(), invitations.Message{To: "ada@example.com", Subject: "hi", Text: "x", HTML: "x"})
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Send did not return within %s", limit)
		return nil
	}
}

// TestSilentAfterQuit: the message was accepted; a server that never says
// goodbye must not hold a successful send for the whole SendTimeout. A
// kept connection says no QUIT, so this one is not kept.
func TestSilentAfterQuit(t *testing.T) {
	cfg := scriptedServer(t, politeGreeting, func(cmd string) string {
		if cmd == "QUIT" {
			return ""
		}
		return wellBehaved(cmd)
	})
	cfg.DisableReuse = true
	m, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	require.NoError(t, sendWithin(t, m, 20*time.Second), "the message was accepted before QUIT")
}

// TestEndlessGreeting: a server that sends one line without end is cut off
// after a bounded read, with an error that says so, instead of being read
// into memory until the timeout.
func TestEndlessGreeting(t *testing.T) {
	cfg := scriptedServer(t, func(c net.Conn) {
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		_, _ = c.Write([]byte("220 "))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}, wellBehaved)
	m, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	err = sendWithin(t, m, 20*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 1 MiB")
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "cut off by size, not by the clock")
}

// TestPermanentOnlyForTheMessage: a 5xx to the recipient is permanent; a
// 5xx to the login is the setup's fault and stays worth retrying.
func TestPermanentOnlyForTheMessage(t *testing.T) {
	for _, tc := range []struct {
		failing   string
		permanent bool
	}{
		{"RCPT", true},
		{"MAIL", false},
	} {
		cfg := scriptedServer(t, politeGreeting, func(cmd string) string {
			if strings.HasPrefix(cmd, tc.failing) {
				return "550 no\r\n"
			}
			return wellBehaved(cmd)
		})
		m, err := smtpmailer.New(cfg)
		require.NoError(t, err)
		err = sendWithin(t, m, 20*time.Second)
		var sendErr *smtpmailer.SendError
		require.ErrorAs(t, err, &sendErr)
		assert.Equal(t, 550, sendErr.Code)
		assert.Equal(t, tc.permanent, errors.Is(err, invitations.ErrPermanent), tc.failing)
	}
}

// TestMailerPrintsNoPassword: every printed form of a Mailer, and of a
// Config, leaves the password out.
func TestMailerPrintsNoPassword(t *testing.T) {
	cfg := smtpmailer.Config{Host: "smtp.example.com", Port: 587, From: "invitations@example.com",
		Username: "mailer", Password: "hunter2-very-secret"}
	m, err := smtpmailer.New(cfg)
	require.NoError(t, err)
	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("mailer", "m", m, "cfg", cfg)
	logger = slog.New(slog.NewTextHandler(&logged, nil))
	logger.Info("mailer", "m", m, "cfg", cfg)
	printed := logged.String()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		printed += fmt.Sprintf(verb, m) + fmt.Sprintf(verb, *m) + fmt.Sprintf(verb, []any{m})
	}
	assert.NotContains(t, printed, "hunter2")
	assert.Contains(t, printed, "smtp.example.com", "the printed forms still say which server")
}
