package smtpmailer_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/smtpmailer"
)

// fakeServer is a well-behaved SMTP server that records what each
// connection said, for the tests of the bounds on kept connections, and
// that a test can make refuse, stall or hang up at a given command.
type fakeServer struct {
	ln net.Listener
	// respond, when set, may replace the reply to a command on connection
	// conn (numbered from 1): "" keeps the well-behaved reply, hangUp
	// closes the connection without one. It may block.
	respond func(conn int, cmd string) string

	mu       sync.Mutex
	accepted int
	open     map[int]net.Conn
	commands []string // "conn CMD", in the order received
}

// hangUp is the reply that closes the connection instead.
const hangUp = "\x00hang up"

func newFakeServer(t *testing.T, respond func(conn int, cmd string) string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeServer{ln: ln, respond: respond, open: map[int]net.Conn{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.accepted++
			n := f.accepted
			f.open[n] = c
			f.mu.Unlock()
			wg.Go(func() { f.serve(n, c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		f.dropAll()
		wg.Wait()
	})
	return f
}

// config is a Mailer config for the server, with a long SendTimeout: the
// tests that stall a command end their sends themselves.
func (f *fakeServer) config() smtpmailer.Config {
	return smtpmailer.Config{
		Host: "127.0.0.1", Port: f.ln.Addr().(*net.TCPAddr).Port, TLS: smtpmailer.NoTLS,
		From: "invitations@example.org", SendTimeout: time.Minute,
	}
}

func (f *fakeServer) serve(n int, c net.Conn) {
	defer func() {
		c.Close()
		f.mu.Lock()
		delete(f.open, n)
		f.mu.Unlock()
	}()
	fmt.Fprint(c, "220 fake ESMTP\r\n")
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
			inData = false
		}
		f.mu.Lock()
		f.commands = append(f.commands, fmt.Sprintf("%d %s", n, cmd))
		f.mu.Unlock()
		reply := ""
		if f.respond != nil {
			reply = f.respond(n, cmd)
		}
		if reply == "" {
			reply = wellBehaved(cmd)
		}
		if reply == hangUp {
			return
		}
		if strings.HasPrefix(reply, "354") {
			inData = true
		}
		fmt.Fprint(c, reply)
		if cmd == "QUIT" || strings.HasPrefix(reply, "421") {
			return // 421: the server is closing the connection
		}
	}
}

// Accepted is how many connections the server has accepted.
func (f *fakeServer) Accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted
}

// Open is how many connections the server still has open.
func (f *fakeServer) Open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.open)
}

// count is how many commands starting with prefix the server received.
func (f *fakeServer) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.commands {
		_, cmd, _ := strings.Cut(c, " ")
		if strings.HasPrefix(cmd, prefix) {
			n++
		}
	}
	return n
}

// perConnection is how many commands starting with prefix each
// connection received, by connection number.
func (f *fakeServer) perConnection(prefix string) map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	per := map[int]int{}
	for _, c := range f.commands {
		var n int
		var cmd string
		fmt.Sscanf(c, "%d", &n)
		_, cmd, _ = strings.Cut(c, " ")
		if strings.HasPrefix(cmd, prefix) {
			per[n]++
		}
	}
	return per
}

// dropAll closes every open connection, as a server that restarts does.
func (f *fakeServer) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.open {
		c.Close()
	}
}
