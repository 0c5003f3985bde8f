package dbtest

import (
	"context"
	"strconv"
	"testing"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/sqlstore"
)

// BenchmarkEvents reads a page of 1,000 events of a feed of 1,000,000 on
// PostgreSQL, at its start and at its end: the keyset page costs the
// same wherever it is.
//
//	go test -run '^$' -bench BenchmarkEvents -benchtime 200x ./...
func BenchmarkEvents(b *testing.B) {
	const events, page = 1_000_000, 1000
	be := backends[1]
	s, db := be.newStore(b)
	seedEvents(b, db, sqlstore.Postgres, events, 20)
	var txid string
	var first, last int64
	if err := db.QueryRow("SELECT min(txid)::text, min(seq), max(seq) FROM invitations_events").Scan(&txid, &first, &last); err != nil {
		b.Fatal(err)
	}
	for _, at := range []struct {
		name  string
		after string
	}{
		{"start", txid + ":" + strconv.FormatInt(first-1, 10)},
		{"end", txid + ":" + strconv.FormatInt(last-page, 10)},
	} {
		b.Run(at.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				got, _, err := s.ListEvents(ctx, invitations.EventFilter{After: at.after, Limit: page})
				if err != nil || len(got) != page {
					b.Fatal(err, len(got))
				}
			}
		})
	}
}
