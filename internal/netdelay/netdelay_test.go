package netdelay_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/netdelay"
)

// echoServer answers every connection with what it reads, until EOF.
func echoServer(t *testing.T) string {
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
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRelayDelaysEachRoundTrip(t *testing.T) {
	const rtt = 40 * time.Millisecond
	conn, err := net.Dial("tcp", netdelay.Relay(t, echoServer(t), rtt))
	require.NoError(t, err)
	defer conn.Close()

	for range 3 {
		start := time.Now()
		_, err = conn.Write([]byte("ping"))
		require.NoError(t, err)
		got := make([]byte, 4)
		_, err = io.ReadFull(conn, got)
		require.NoError(t, err)
		assert.Equal(t, "ping", string(got))
		// A lower bound only: the relay may be late, never early.
		assert.GreaterOrEqual(t, time.Since(start), rtt)
	}
}

func TestRelayKeepsAStreamWholeAndInOrder(t *testing.T) {
	conn, err := net.Dial("tcp", netdelay.Relay(t, echoServer(t), 2*time.Millisecond))
	require.NoError(t, err)
	defer conn.Close()
	sent := make([]byte, 1<<20)
	_, _ = rand.Read(sent)

	go func() {
		_, _ = conn.Write(sent)
		_ = conn.(*net.TCPConn).CloseWrite() // the end reaches the server through the relay
	}()
	got, err := io.ReadAll(conn) // and the server's end comes back
	require.NoError(t, err)
	assert.True(t, bytes.Equal(sent, got), "got %d bytes back of %d, or out of order", len(got), len(sent))
}

func TestRelayRefusesWhenTheTargetIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	target := ln.Addr().String()
	ln.Close()

	conn, err := net.Dial("tcp", netdelay.Relay(t, target, time.Millisecond))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	require.Error(t, err)
	var timeout net.Error
	assert.False(t, errors.As(err, &timeout) && timeout.Timeout(), "the client's connection is closed, not left hanging: %v", err)
}

func TestRTTs(t *testing.T) {
	t.Setenv(netdelay.RTTVariable, "")
	assert.Equal(t, []time.Duration{0}, netdelay.RTTs(t))
	t.Setenv(netdelay.RTTVariable, "1ms, 5ms")
	assert.Equal(t, []time.Duration{0, time.Millisecond, 5 * time.Millisecond}, netdelay.RTTs(t))
	assert.Equal(t, "loopback", netdelay.Name(0))
	assert.Equal(t, "rtt=5ms", netdelay.Name(5*time.Millisecond))
}
