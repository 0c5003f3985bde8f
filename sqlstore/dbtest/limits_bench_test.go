package dbtest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// BenchmarkLimits is the price of Config.Limits on each database: Invite
// (with its mail, to a recording mailer) through a Service with
// RecommendedLimits against one without, on the same store, into eight
// accounts that each hold 5,000 working links already, so that the pending
// cap counts half of its 10,000 on every call.
func BenchmarkLimits(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			store, db := be.newStore(b)
			const accounts = 8
			seed(b, db, be.dialect, accounts*5000, accounts)
			if os.Getenv("INVITATIONS_BENCH_VACUUM") != "" && be.dialect == sqlstore.Postgres {
				// As autovacuum leaves a live table: the visibility map set,
				// so that counting reads the index alone.
				if _, err := db.Exec("VACUUM ANALYZE invitations"); err != nil {
					b.Fatal(err)
				}
			}
			clock := invitationstest.NewClock(seedBase.Add(time.Hour))
			seq := 0
			for _, c := range []struct {
				name   string
				limits invitations.Limits
			}{
				{"none", invitations.Limits{}},
				{"quota", invitations.Limits{MailsPerAccountPerDay: invitations.RecommendedLimits.MailsPerAccountPerDay}},
				{"cap", invitations.Limits{MaxPendingPerAccount: invitations.RecommendedLimits.MaxPendingPerAccount}},
				{"recommended", invitations.RecommendedLimits},
			} {
				svc, err := invitations.New(store, invitationstest.NewMailer(), invitations.Config{
					Secret: secret, AcceptURL: "https://app.example.com/accept", Now: clock.Now, Limits: c.limits,
				})
				if err != nil {
					b.Fatal(err)
				}
				b.Run("Invite/limits="+c.name, func(b *testing.B) {
					b.ReportAllocs()
					ctx := context.Background()
					for b.Loop() {
						// A minute apart: each account gets one invite in eight
						// minutes, well within the daily quota however long it runs.
						clock.Advance(time.Minute)
						seq++
						_, err := svc.Invite(ctx, invitations.InviteInput{
							AccountID: "acct-" + strconv.Itoa(seq%accounts), Email: "new" + strconv.Itoa(seq) + "@example.com", Roles: []string{"member"},
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
