// Package netdelay puts a network between a benchmark and a server that
// runs on the same machine: a TCP relay that delivers every byte a fixed
// time after it was sent, in each direction. On loopback a round trip
// costs microseconds, which flatters whatever pays one per call (a
// statement per row, a connection per mail) against what batches or
// overlaps them; a production database or mail provider is at least a
// millisecond away.
//
// The relay delays; it does not limit bandwidth or reorder. On Linux it
// waits with the kernel's timers, good to some tens of microseconds;
// elsewhere with time.Sleep, which may round up to whole milliseconds.
package netdelay

import (
	"bytes"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// RTTVariable names the environment variable that lists the round trips
// benchmarks add to their loopback runs: comma-separated Go durations,
// such as "1ms,5ms".
const RTTVariable = "INVITATIONS_BENCH_RTT"

// RTTs returns the round trips a benchmark runs with: 0 (loopback), then
// those listed in RTTVariable. A malformed list fails the benchmark.
func RTTs(tb testing.TB) []time.Duration {
	tb.Helper()
	rtts := []time.Duration{0}
	list := os.Getenv(RTTVariable)
	if list == "" {
		return rtts
	}
	for field := range strings.SplitSeq(list, ",") {
		rtt, err := time.ParseDuration(strings.TrimSpace(field))
		if err != nil || rtt <= 0 {
			tb.Fatalf("%s=%q: want positive Go durations separated by commas", RTTVariable, list)
		}
		rtts = append(rtts, rtt)
	}
	return rtts
}

// Name is how a benchmark names a link: "loopback", or "rtt=5ms".
func Name(rtt time.Duration) string {
	if rtt == 0 {
		return "loopback"
	}
	return "rtt=" + rtt.String()
}

// Relay listens on loopback and forwards every connection to target,
// delaying each direction by half of rtt. It stops, closing its
// connections, when the test ends. It returns the address to dial instead
// of target.
func Relay(tb testing.TB, target string, rtt time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("netdelay: %v", err)
	}
	r := &relay{ln: ln, target: target, oneWay: rtt / 2, conns: map[net.Conn]struct{}{}}
	r.wg.Go(r.serve)
	tb.Cleanup(r.close)
	return ln.Addr().String()
}

type relay struct {
	ln     net.Listener
	target string
	oneWay time.Duration
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

func (r *relay) serve() {
	for {
		client, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Go(func() { r.pipe(client) })
	}
}

// pipe relays one connection both ways until both directions have ended.
func (r *relay) pipe(client net.Conn) {
	server, err := net.Dial("tcp", r.target)
	if err != nil {
		client.Close()
		return
	}
	if !r.track(client, server) {
		return
	}
	var both sync.WaitGroup
	both.Go(func() { r.forward(server, client) })
	both.Go(func() { r.forward(client, server) })
	both.Wait()
	r.untrack(client, server)
}

// chunk is what one read returned, and when it may be written on.
type chunk struct {
	data []byte
	due  time.Time
}

// forward copies src to dst, writing each chunk oneWay after it was read.
// Reading goes on meanwhile, so a stream is delayed, not slowed. At the end
// of src it half-closes dst, so that the far side sees the end too.
func (r *relay) forward(dst, src net.Conn) {
	chunks := make(chan chunk, 1024)
	go func() {
		defer close(chunks)
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{bytes.Clone(buf[:n]), time.Now().Add(r.oneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	timer := newSleeper()
	defer timer.close()
	for c := range chunks {
		timer.sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			src.Close() // ends the reader, which closes chunks
			for range chunks {
			}
			return
		}
	}
	if half, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = half.CloseWrite()
	} else {
		dst.Close()
	}
}

func (r *relay) track(conns ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		r.conns[c] = struct{}{}
	}
	return true
}

func (r *relay) untrack(conns ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(r.conns, c)
	}
}

func (r *relay) close() {
	r.mu.Lock()
	r.closed = true
	r.ln.Close()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
