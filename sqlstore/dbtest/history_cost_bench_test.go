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
// every change to the store without its event, as the Service did before
// the history. It exists for BenchmarkHistoryCost's baseline only. It
// embeds the concrete store so that every optional method the Service
// looks for is there, as on the other side.
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

// LockAccount hands fn the locked store without its history too: with
// Config.Limits the Service writes through it.
func (s withoutHistory) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	return s.Store.LockAccount(ctx, accountID, func(ctx context.Context, st invitations.LimitStore) error {
		return fn(ctx, lockedWithoutHistory{st})
	})
}

// lockedWithoutHistory is withoutHistory for the store LockAccount hands
// its fn.
type lockedWithoutHistory struct{ invitations.LimitStore }

func (s lockedWithoutHistory) Create(ctx context.Context, inv *invitations.Invitation, _ *invitations.Event) error {
	return s.LimitStore.Create(ctx, inv, nil)
}

func (s lockedWithoutHistory) CreateMany(ctx context.Context, invs []*invitations.Invitation, _ []*invitations.Event) ([]error, error) {
	return s.LimitStore.CreateMany(ctx, invs, nil)
}

func (s lockedWithoutHistory) Update(ctx context.Context, inv *invitations.Invitation, expectedVersion int64, _ *invitations.Event) error {
	return s.LimitStore.Update(ctx, inv, expectedVersion, nil)
}

// historyCostService is the Service of either side of
// BenchmarkHistoryCost, and of the test of its baseline.
func historyCostService(tb testing.TB, store invitations.Store, mailer invitations.Mailer, now func() time.Time, limits invitations.Limits) *invitations.Service {
	tb.Helper()
	svc, err := invitations.New(store, mailer, invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept", Now: now, Limits: limits,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// TestWithoutHistoryIsTheBaseline checks BenchmarkHistoryCost's baseline:
// through withoutHistory the calls it measures succeed and store no
// event, with limits (whose writes go through LockAccount) or without,
// while through the store itself they store theirs.
func TestWithoutHistoryIsTheBaseline(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			store, _ := be.newStore(t)
			ctx := context.Background()
			var link string
			mailer := invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
				link = m.Link
				return nil
			})
			n := 0
			for _, c := range []struct {
				store  invitations.Store
				limits invitations.Limits
				events int
			}{
				{withoutHistory{store}, invitations.Limits{}, 0},
				{withoutHistory{store}, invitations.Limits{MaxPendingPerAccount: 100}, 0},
				{store, invitations.Limits{}, 3},
				{store, invitations.Limits{MaxPendingPerAccount: 100}, 3},
			} {
				n++
				svc := historyCostService(t, c.store, mailer, time.Now, c.limits)
				inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "cost", Email: "user" + strconv.Itoa(n) + "@example.com", Roles: []string{"member"}})
				require.NoError(t, err)
				token, err := invitationstest.TokenFromLink(link)
				require.NoError(t, err)
				_, err = svc.Accept(ctx, token)
				require.NoError(t, err)
				history, err := svc.History(ctx, "cost", inv.ID)
				require.NoError(t, err)
				require.Len(t, history, c.events, "invited, delivered, accepted")
			}
		})
	}
}

// BenchmarkHistoryCost measures what storing the history adds to Invite
// and Accept: the same Service calls on the same database of 10k rows,
// with the history and with its write disabled (withoutHistory), in
// alternating blocks of historyBlock calls within one run, so that the
// load of a noisy machine falls on both alike. It reports each side's
// time per call (on-ns/op, off-ns/op) and their ratio (on/off), and on
// SQLite the WAL frames each side's call writes (on-frames/op,
// off-frames/op). Both sides build the event in the Service, as it does
// whether or not it is stored (a version 7 UUID and a copy of the
// invitation: about a microsecond):
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
			services := [2]*invitations.Service{ // with the history, without
				historyCostService(b, store, mailer, clock.Now, invitations.Limits{}),
				historyCostService(b, withoutHistory{store}, mailer, clock.Now, invitations.Limits{}),
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

// historyOrder is the order of the sides, block after block: with the
// history, without, without, with. A load that grows or fades through a
// run falls on both sides alike.
var historyOrder = [...]int{0, 1, 1, 0}

// alternate runs b.N calls of call, half on side 0 (with the history),
// half on side 1 (without), in blocks of historyBlock in historyOrder;
// prepare(n) readies the next block of n calls outside the timer. SQLite
// checkpoints as it always does, within the call that fills its WAL, so
// that the side that writes more pages pays for copying more of them.
func alternate(b *testing.B, db *sql.DB, dialect sqlstore.Dialect, prepare func(n int), call func(side, i int)) {
	b.ReportAllocs()
	b.StopTimer()
	if dialect == sqlstore.SQLite {
		// Before the timed run, blocks of each side between checkpoints
		// tell how many WAL frames (whole pages) a call writes: a count
		// the machine's load does not move.
		var frames [2]int
		for block := range 8 {
			side := historyOrder[block%len(historyOrder)]
			prepare(historyBlock)
			walCheckpoint(b, db)
			for i := range historyBlock {
				call(side, i)
			}
			frames[side] += walCheckpoint(b, db)
		}
		b.ReportMetric(float64(frames[0])/(4*historyBlock), "on-frames/op")
		b.ReportMetric(float64(frames[1])/(4*historyBlock), "off-frames/op")
	}
	var spent [2]time.Duration
	var calls [2]int
	for done := 0; done < b.N; {
		side := historyOrder[(done/historyBlock)%len(historyOrder)]
		n := min(historyBlock, b.N-done)
		prepare(n)
		b.StartTimer()
		start := time.Now()
		for i := range n {
			call(side, i)
		}
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
}

// walCheckpoint copies SQLite's WAL into the database and returns how
// many frames it held.
func walCheckpoint(b *testing.B, db *sql.DB) int {
	var busy, log, done int
	if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
		b.Fatal(err)
	}
	if busy != 0 || done != log {
		b.Fatalf("checkpoint incomplete: busy %d, %d of %d frames", busy, done, log)
	}
	return log
}
