package dbtest

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/invitekit/invitations"
)

// BenchmarkScale compares the Service's calls on a PostgreSQL table of
// 10,000 invitations with the same calls on a big one, both with 1,000
// invitations per account (so 10 accounts against 10,000 at 10 million
// rows): what grows is the table and its indexes, not the account. The
// big table has INVITATIONS_SCALE_ROWS rows (default 100,000; .ci/run
// sets 10,000, the smallest, so only the small table runs; the README's
// figures, bash .ci/bench scale, are for 10,000,000, seeded with
// generate_series in one statement):
//
//	INVITATIONS_SCALE_ROWS=10000000 bash .ci/with-postgres go test -run '^$' -bench Scale -benchtime 2000x -timeout 2h ./sqlstore/dbtest/
func BenchmarkScale(b *testing.B) {
	big := 100_000
	if raw := os.Getenv("INVITATIONS_SCALE_ROWS"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 10_000 {
			b.Fatalf("INVITATIONS_SCALE_ROWS=%q: want a number of rows, at least 10000", raw)
		}
		big = n
	}
	be := backends[1]
	if be.dialect.String() != "postgres" {
		b.Fatal("backends[1] is expected to be PostgreSQL")
	}
	for _, rows := range slices.Compact([]int{10_000, big}) {
		b.Run("rows="+count(rows), func(b *testing.B) {
			w := newSQLWorldOf(b, be, rows, rows/1000)
			ctx := context.Background()
			if _, err := w.db.ExecContext(ctx, "VACUUM ANALYZE invitations"); err != nil {
				b.Fatal(err)
			}
			for _, op := range []struct {
				name string
				fn   func(*testing.B, *sqlWorld)
			}{
				{"Lookup", svcLookup}, {"Accept", svcAccept}, {"List50", svcList},
				{"Count", svcCount}, {"Search", svcSearch},
			} {
				b.Run(op.name, func(b *testing.B) {
					b.ReportAllocs()
					op.fn(b, w)
				})
			}
		})
	}
}

// count names a row count the way the README does: 10k, 100k, 10M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func svcCount(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	for b.Loop() {
		counts, err := w.svc.Count(ctx, listAccount)
		if err != nil || counts[invitations.StatusPending] != 1000 {
			b.Fatal(counts, err)
		}
	}
}

// svcSearch finds the 112 emails of the list account that start with
// "user1" (the same number at every size: see seed), first page.
func svcSearch(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	for b.Loop() {
		page, err := w.svc.List(ctx, invitations.ListQuery{AccountID: listAccount, Search: "user1", Limit: 50})
		if err != nil || len(page.Invitations) != 50 {
			b.Fatal(err)
		}
	}
}
