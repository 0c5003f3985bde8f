package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/sqlhooks"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// endAllBut marks every seeded invitation accepted (an hour after it was
// sent) except those of keep, which stay pending with working links.
func endAllBut(t testing.TB, db *sql.DB, d sqlstore.Dialect, keep string) {
	t.Helper()
	_, err := db.ExecContext(context.Background(),
		"UPDATE invitations SET state = 'accepted', accepted_at = sent_at + "+hourLater(d)+" WHERE account_id <> "+paramOf(d)(1), keep)
	require.NoError(t, err)
}

func hourLater(d sqlstore.Dialect) string {
	if d == sqlstore.Postgres {
		return "interval '1 hour'"
	}
	return "3600000000"
}

// TestPurgeInBatches: DeleteEnded works through more rows than one batch,
// each statement deleting at most a batch, and keeps the working links.
func TestPurgeInBatches(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t)
			h := sqlhooks.Of(s) // the batches, which sqlstore keeps unexported
			n := h.PurgeBatch()*2 + 500
			seed(t, db, b.dialect, n, 10)
			endAllBut(t, db, b.dialect, "acct-0")
			var batches []int
			h.ObservePurge(func(rows int, _ time.Duration) { batches = append(batches, rows) })

			svc, err := invitations.New(s, invitationstest.NewMailer(), invitations.Config{
				Secret: secret, AcceptURL: "https://app.example.com/accept", Now: invitationstest.NewClock(seedBase.Add(2 * time.Hour)).Now,
			})
			require.NoError(t, err)
			deleted, err := svc.Purge(context.Background(), seedBase.Add(30*24*time.Hour))
			require.NoError(t, err)
			assert.Equal(t, n-n/10, deleted, "every ended invitation")
			for _, rows := range batches {
				assert.LessOrEqual(t, rows, h.PurgeBatch())
			}
			assert.GreaterOrEqual(t, len(batches), 3, "more than one batch: %v", batches)
			counts, err := svc.Count(context.Background(), "acct-0")
			require.NoError(t, err)
			assert.Equal(t, n/10, counts[invitations.StatusPending], "the working links are kept")
		})
	}
}

// TestPurgeScale purges a table of INVITATIONS_SCALE_ROWS invitations, all
// but 1% of them ended, while four goroutines list the pages of the
// account that keeps its links, and reports how long each batch statement
// held its locks and the List latencies. It runs only when
// INVITATIONS_SCALE_ROWS is set (.ci/run: 10,000, to keep it working; the
// README's figures, bash .ci/bench purge: 1,000,000):
//
//	INVITATIONS_SCALE_ROWS=1000000 bash .ci/with-postgres go test -run 'TestPurgeScale' -v -timeout 1h ./sqlstore/dbtest/
func TestPurgeScale(t *testing.T) {
	rows := scaleRows(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, db := b.newStore(t)
			h := sqlhooks.Of(s) // the batches, which sqlstore keeps unexported
			seeded := time.Now()
			seed(t, db, b.dialect, rows, 100)
			endAllBut(t, db, b.dialect, "acct-0")
			t.Logf("seeded %d invitations (%d ended) in %s", rows, rows-rows/100, time.Since(seeded).Round(time.Second))
			var batches []time.Duration
			h.ObservePurge(func(_ int, took time.Duration) { batches = append(batches, took) })
			svc, err := invitations.New(s, invitationstest.NewMailer(), invitations.Config{
				Secret: secret, AcceptURL: "https://app.example.com/accept", Now: invitationstest.NewClock(seedBase.Add(2 * time.Hour)).Now,
			})
			require.NoError(t, err)

			ctx, stop := context.WithCancel(context.Background())
			var mu sync.Mutex
			var lists []time.Duration
			var listers sync.WaitGroup
			for range 4 {
				listers.Go(func() {
					for ctx.Err() == nil {
						began := time.Now()
						page, err := svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-0"})
						took := time.Since(began)
						if !assert.NoError(t, err) || !assert.Len(t, page.Invitations, invitations.DefaultPageSize) {
							return
						}
						mu.Lock()
						lists = append(lists, took)
						mu.Unlock()
					}
				})
			}
			began := time.Now()
			deleted, err := svc.Purge(context.Background(), seedBase.Add(30*24*time.Hour))
			took := time.Since(began)
			stop()
			listers.Wait()
			require.NoError(t, err)
			require.Equal(t, rows-rows/100, deleted)
			counts, err := svc.Count(context.Background(), "acct-0")
			require.NoError(t, err)
			require.Equal(t, rows/100, counts[invitations.StatusPending])

			slices.Sort(batches)
			slices.Sort(lists)
			t.Logf("%s: purged %d in %s: %d statements, each p50 %s, max %s; %d concurrent List50 calls: p50 %s, p99 %s, max %s",
				b.name, deleted, took.Round(time.Millisecond), len(batches), pct(batches, 50), pct(batches, 100),
				len(lists), pct(lists, 50), pct(lists, 99), pct(lists, 100))
		})
	}
}

// scaleRows reads INVITATIONS_SCALE_ROWS, or skips.
func scaleRows(t testing.TB) int {
	raw := os.Getenv("INVITATIONS_SCALE_ROWS")
	if raw == "" {
		t.Skip("set INVITATIONS_SCALE_ROWS (e.g. 1000000) to run the scale runs")
	}
	rows, err := strconv.Atoi(raw)
	require.NoError(t, err, "INVITATIONS_SCALE_ROWS is a number of rows")
	require.GreaterOrEqual(t, rows, 10_000, "INVITATIONS_SCALE_ROWS")
	return rows
}

// pct is the p-th percentile of sorted durations (100 = the largest).
func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "n/a"
	}
	i := min(len(sorted)*p/100, len(sorted)-1)
	return fmt.Sprint(sorted[i].Round(10 * time.Microsecond))
}
