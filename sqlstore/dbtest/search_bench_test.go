package dbtest

import (
	"context"
	"testing"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

// BenchmarkSearch1M: the Users page of one account holding 1M
// invitations: a page found by email prefix, at several selectivities,
// and the tab counts; the baseline is the same page without a search.
// Seeded emails are user<g>@example.com for g = 1..1M, oldest first.
func BenchmarkSearch1M(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			store, db := be.newStore(b)
			seed(b, db, be.dialect, 1_000_000, 1)
			if _, err := db.Exec("VACUUM"); err != nil {
				b.Fatal(err)
			}
			clock := invitationstest.NewClock(seedBase.Add(7*24*time.Hour + 500*time.Millisecond)) // half expired
			svc, err := invitations.New(store, invitationstest.NewMailer(), invitations.Config{
				Secret: secret, AcceptURL: "https://app.example.com/accept", Now: clock.Now,
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			list := func(q invitations.ListQuery, want int) func(b *testing.B) {
				return func(b *testing.B) {
					b.ReportAllocs()
					q.AccountID = "acct-0"
					for b.Loop() {
						page, err := svc.List(ctx, q)
						if err != nil {
							b.Fatal(err)
						}
						if len(page.Invitations) != want {
							b.Fatalf("got %d rows, want %d", len(page.Invitations), want)
						}
					}
				}
			}
			b.Run("List50/baseline", list(invitations.ListQuery{Limit: 50}, 50))
			b.Run("List50/search=whole-email", list(invitations.ListQuery{Limit: 50, Search: "user123456@example.com"}, 1))
			b.Run("List50/search=11-rows", list(invitations.ListQuery{Limit: 50, Search: "user12345"}, 11))
			b.Run("List50/search=111-rows", list(invitations.ListQuery{Limit: 50, Search: "user1234"}, 50))
			b.Run("List50/search=1111-rows", list(invitations.ListQuery{Limit: 50, Search: "user123"}, 50))
			b.Run("List50/search=11k-rows", list(invitations.ListQuery{Limit: 50, Search: "user12"}, 50))
			b.Run("List50/search=111k-rows", list(invitations.ListQuery{Limit: 50, Search: "user1"}, 50))
			b.Run("List50/search=pending-1111-rows", list(invitations.ListQuery{Limit: 50, Search: "user923", Status: invitations.StatusPending}, 50))
			b.Run("Count", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.Count(ctx, "acct-0"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
