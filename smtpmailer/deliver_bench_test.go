package smtpmailer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/memstore"
	"github.com/invitekit/invitations/smtpmailer"
)

// BenchmarkDeliverDue drains due messages into a real Mailpit, one
// connection per message, with 1 and with 8 sends at once. One op is one
// message: b.N invitations are made due untimed, then one DeliverDue run
// sends them all (go test -bench DeliverDue -benchtime 5000x for the
// README's figure).
func BenchmarkDeliverDue(b *testing.B) {
	server := mailpitServer(b)
	for _, concurrency := range []int{1, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			mailer, err := smtpmailer.New(server.config())
			if err != nil {
				b.Fatal(err)
			}
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
