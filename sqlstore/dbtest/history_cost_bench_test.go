package dbtest

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
	"github.com/stretchr/testify/require"
)

// withoutHistory is sqlstore with the history write disabled: it hands
// every change to the store without its event, as the store did before
// the history. It exists for BenchmarkHistoryCost's baseline only.
type withoutHistory struct{ *sqlstore.Store }

func (s withoutHistory) Create(ctx context.Context, inv *invitations.Invitation, _ *invitations.Event) error {
	return s.Store.Create(ctx, inv, nil)
}

func (s withoutHistory) CreateMany(ctx context.Context, invs []*invitations.Invitation, _ []*invitations.Event) ([]error, error) {
	return s.Store.CreateMany(ctx, invs, nil)
}

func (s withoutHistory) Update(ctx context.Context, inv *invitations.Invitation, expectedVersion int64, _ *invitations.Event) error {
	return s.Store.Update(ctx, inv, expectedVersion, nil)
}

// TestWithoutHistoryIsTheBaseline checks BenchmarkHistoryCost's baseline:
// through withoutHistory the same calls succeed and store no event, and
// through the store itself they store theirs.
func TestWithoutHistoryIsTheBaseline(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store, _ := be.newStore(t)
			ctx := context.Background()
			mailer := invitations.MailerFunc(func(context.Context, invitations.Message) error { return nil })
			for _, c := range []struct {
				store  invitations.Store
				events int
			}{{withoutHistory{store}, 0}, {store, 2}} {
				svc, err := invitations.New(c.store, mailer, invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept"})
				require.NoError(t, err)
				inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "cost", Email: "user" + strconv.Itoa(c.events) + "@example.com", Roles: []string{"member"}})
				require.NoError(t, err)
				history, err := svc.History(ctx, "cost", inv.ID)
				require.NoError(t, err)
				require.Len(t, history, c.events)
			}
		})
	}
}

// BenchmarkHistoryCost measures what storing the history adds to Invite
// and Accept: the same Service calls on the same database of 10k rows,
// with the history and with its write disabled (withoutHistory), in
// alternating blocks of historyBlock calls within one run, so that the
// load of a noisy machine falls on both alike. It reports each side's
// time per call (on-ns/op, off-ns/op) and their ratio (on/off):
//
//	bash .ci/with-postgres go test -run '^$' -bench HistoryCost -benchtime 4096x -count 8 ./sqlstore/dbtest/
//
// Every Accept is of a fresh invitation, invited with its history outside
// the timer, so that the invitation accepted has the usual history of two
// events (invited, delivered) in both cases.
func BenchmarkHistoryCost(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			store, db := be.newStore(b)
			seed(b, db, be.dialect, 10_000, 4)
			clock := invitationstest.NewClock(seedBase.Add(time.Hour))
			var lastLink string
			mailer := invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
				lastLink = m.Link
				return nil
			})
			var services [2]*invitations.Service // with the history, without
			for i, s := range []invitations.Store{store, withoutHistory{store}} {
				svc, err := invitations.New(s, mailer, invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept", Now: clock.Now})
				if err != nil {
					b.Fatal(err)
				}
				services[i] = svc
			}
			ctx := context.Background()
			seq := 0
			invite := func(svc *invitations.Service) {
				seq++
				if _, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "cost", Email: "user" + strconv.Itoa(seq) + "@example.com", Roles: []string{"member"}}); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("Invite", func(b *testing.B) {
				alternate(b, db, be.dialect, func(int) {}, func(side, _ int) { invite(services[side]) })
			})
			tokens := make([]string, historyBlock)
			b.Run("Accept", func(b *testing.B) {
				alternate(b, db, be.dialect, func(n int) {
					for i := range n {
						invite(services[0])
						token, err := invitationstest.TokenFromLink(lastLink)
						if err != nil {
							b.Fatal(err)
						}
						tokens[i] = token
					}
				}, func(side, i int) {
					if _, err := services[side].Accept(ctx, tokens[i]); err != nil {
						b.Fatal(err)
					}
				})
			})
		})
	}
}

// historyBlock is how many calls BenchmarkHistoryCost makes on one side
// before it turns to the other.
const historyBlock = 32

// alternate runs b.N calls of call, half on side 0 (with the history),
// half on side 1 (without), in alternating blocks; prepare(n) readies
// the next block of n calls outside the timer.
func alternate(b *testing.B, db *sql.DB, dialect sqlstore.Dialect, prepare func(n int), call func(side, i int)) {
	b.ReportAllocs()
	var spent [2]time.Duration
	var calls, frames [2]int
	// On SQLite each block ends with a checkpoint, timed as part of the
	// block, which copies the pages the block wrote to the database and
	// counts the WAL frames it wrote: a whole page each.
	checkpoint := func() int {
		if dialect != sqlstore.SQLite {
			return 0
		}
		var busy, log, done int
		if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil || busy != 0 {
			b.Fatal(err, busy)
		}
		return log
	}
	b.StopTimer()
	for done := 0; done < b.N; {
		side := (done / historyBlock) % 2
		n := min(historyBlock, b.N-done)
		prepare(n)
		checkpoint()
		b.StartTimer()
		start := time.Now()
		for i := range n {
			call(side, i)
		}
		frames[side] += checkpoint()
		spent[side] += time.Since(start)
		b.StopTimer()
		calls[side] += n
		done += n
	}
	if calls[0] == 0 || calls[1] == 0 {
		return
	}
	on := float64(spent[0]) / float64(calls[0])
	off := float64(spent[1]) / float64(calls[1])
	b.ReportMetric(on, "on-ns/op")
	b.ReportMetric(off, "off-ns/op")
	b.ReportMetric(on/off, "on/off")
	if dialect == sqlstore.SQLite {
		b.ReportMetric(float64(frames[0])/float64(calls[0]), "on-frames/op")
		b.ReportMetric(float64(frames[1])/float64(calls[1]), "off-frames/op")
	}
}
