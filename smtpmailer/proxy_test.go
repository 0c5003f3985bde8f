package smtpmailer_test

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/smtpmailer"
)

// proxy is a TCP relay in front of the test server. It counts the
// connections it accepts, which is how the tests see whether a Mailer
// reused one, and it can drop every open connection, as a server does to
// idle clients when it restarts or times them out.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	accepted int
	conns    map[net.Conn]struct{}
}

// newProxy relays to target until the test ends.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.drop()
		p.wg.Wait()
	})
	return p
}

// config points cfg at the proxy instead of the server. The TLS name
// stays right: both listen on 127.0.0.1.
func (p *proxy) config(cfg smtpmailer.Config) smtpmailer.Config {
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	cfg.Host = host
	cfg.Port, _ = strconv.Atoi(port)
	return cfg
}

// Accepted is how many connections the proxy has accepted so far.
func (p *proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// drop closes every open connection at both ends and says how many
// client connections it closed.
func (p *proxy) drop() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2
	clear(p.conns)
	return n
}

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(client) })
	}
}

func (p *proxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var both sync.WaitGroup
	// Either side ending ends both, as a server that closes does.
	both.Go(func() { _, _ = io.Copy(server, client); server.Close(); client.Close() })
	both.Go(func() { _, _ = io.Copy(client, server); client.Close(); server.Close() })
	both.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}
