package smtpmailer_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/netdelay"
	"github.com/invitekit/invitations/memstore"
	"github.com/invitekit/invitations/smtpmailer"
)

// BenchmarkDeliverDue drains due messages into a real Mailpit, with the
// Mailer's connections kept for the next message (reuse=on, the default)
// and with one connection per message (reuse=off, Config.DisableReuse),
// with 1 and with 8 sends at once. One op is one message: b.N invitations
// are made due untimed, then one DeliverDue run sends them all (go test
// -bench DeliverDue -benchtime 5000x for the README's figure). It runs on
// loopback, then through each round trip listed in INVITATIONS_BENCH_RTT
// (internal/netdelay), as a provider across a network would be.
func BenchmarkDeliverDue(b *testing.B) {
	server := mailpitServer(b)
	for _, rtt := range netdelay.RTTs(b) {
		b.Run(netdelay.Name(rtt), func(b *testing.B) {
			config := server.config()
			if rtt > 0 {
				host, port, err := net.SplitHostPort(netdelay.Relay(b, net.JoinHostPort(config.Host, strconv.Itoa(config.Port)), rtt))
				if err != nil {
					b.Fatal(err)
				}
				config.Host = host
				if config.Port, err = strconv.Atoi(port); err != nil {
					b.Fatal(err)
				}
			}
			benchmarkDeliverDue(b, config)
		})
	}
}

func benchmarkDeliverDue(b *testing.B, config smtpmailer.Config) {
	for _, reuse := range []struct {
		name    string
		disable bool
	}{{"on", false}, {"off", true}} {
		config.DisableReuse = reuse.disable
		b.Run("reuse="+reuse.name, func(b *testing.B) { benchmarkConcurrency(b, config) })
	}
}

func benchmarkConcurrency(b *testing.B, config smtpmailer.Config) {
	for _, concurrency := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			mailer, err := smtpmailer.New(config)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { mailer.Close() })
			svc, err := invitations.New(memstore.New(), mailer, invitations.Config{
				Secret: []byte("deliver benchmark secret of 32 bytes or more"), AcceptURL: "https://app.example.com/accept",
				Delivery: invitations.DeliveryPolicy{Concurrency: concurrency},
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for start := 0; start < b.N; start += invitations.MaxInviteMany {
				var rows []invitations.InviteInput
				for i := start; i < min(start+invitations.MaxInviteMany, b.N); i++ {
					rows = append(rows, invitations.InviteInput{AccountID: "acme", Email: fmt.Sprintf("c%d-u%d@example.com", concurrency, i), Roles: []string{"member"}})
				}
				if _, err := svc.InviteMany(ctx, rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			r, err := svc.DeliverDue(ctx)
			b.StopTimer()
			if err != nil || r.Delivered != b.N {
				b.Fatalf("delivered %d of %d: %v", r.Delivered, b.N, err)
			}
		})
	}
}
