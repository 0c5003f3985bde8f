package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/netdelay"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// The SQL benchmarks compare each operation through the Service on
// sqlstore with the same work written as the fewest hand-written statements
// (the baseline, prepared once as a careful hand-written store would), on
// tables seeded with 10k and with 1M rows.

const (
	probeAccount = "probe"
	probeCount   = 256
	listAccount  = "acct-0" // holds a quarter of the seeded rows
)

type sqlWorld struct {
	db      *sql.DB
	dialect sqlstore.Dialect
	svc     *invitations.Service
	clock   *invitationstest.Clock
	tokens  []string // of the probe invitations
	hashes  [][]byte // their token hashes, for the hand-written baseline
	cursor  *invitations.Cursor
	after   string // the same position as a Service cursor
	seq     int
	p       func(int) string
}

func newSQLWorld(b *testing.B, be backend, rows int) *sqlWorld {
	return newSQLWorldOf(b, be, rows, 4)
}

// newSQLWorldOf seeds rows over accounts accounts; listAccount holds
// rows/accounts of them.
func newSQLWorldOf(b *testing.B, be backend, rows, accounts int) *sqlWorld {
	b.Helper()
	store, db := be.newStore(b)
	seed(b, db, be.dialect, rows, accounts)
	w := &sqlWorld{db: db, dialect: be.dialect, p: paramOf(be.dialect),
		clock: invitationstest.NewClock(seedBase.Add(time.Hour))}
	var lastLink string
	mailer := invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
		lastLink = m.Link
		return nil
	})
	var err error
	w.svc, err = invitations.New(store, mailer, invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept", Now: w.clock.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range probeCount {
		if _, err := w.svc.Invite(ctx, invitations.InviteInput{AccountID: probeAccount, Email: fmt.Sprintf("probe%d@example.com", i), Roles: []string{"member"}}); err != nil {
			b.Fatal(err)
		}
		token, err := invitationstest.TokenFromLink(lastLink)
		if err != nil {
			b.Fatal(err)
		}
		w.tokens = append(w.tokens, token)
	}
	rowsH, err := db.QueryContext(ctx, "SELECT token_hash FROM invitations WHERE account_id = "+w.p(1)+" ORDER BY created_at", probeAccount)
	if err != nil {
		b.Fatal(err)
	}
	for rowsH.Next() {
		var h []byte
		if err := rowsH.Scan(&h); err != nil {
			b.Fatal(err)
		}
		w.hashes = append(w.hashes, h)
	}
	rowsH.Close()

	// A cursor half way down the list account, as raw values and as the
	// Service's opaque cursor (found by paging, as a user would).
	half := rows / accounts / 2
	q := invitations.ListQuery{AccountID: listAccount, Limit: invitations.MaxPageSize}
	for skipped := 0; skipped < half; {
		q.Limit = min(half-skipped, invitations.MaxPageSize)
		page, err := w.svc.List(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		skipped += len(page.Invitations)
		last := page.Invitations[len(page.Invitations)-1]
		w.cursor = &invitations.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		q.After = page.Next
	}
	w.after = q.After
	return w
}

func paramOf(d sqlstore.Dialect) func(int) string {
	return func(n int) string {
		if d == sqlstore.Postgres {
			return "$" + strconv.Itoa(n)
		}
		return "?" + strconv.Itoa(n)
	}
}

func (w *sqlWorld) timeArg(t time.Time) any {
	if w.dialect == sqlstore.SQLite {
		return t.UnixMicro()
	}
	return t
}

// restoreProbes puts the probe invitations back to pending, untimed.
func (w *sqlWorld) restoreProbes(b *testing.B) {
	if _, err := w.db.Exec("UPDATE invitations SET state = 'pending', accepted_at = NULL WHERE account_id = "+w.p(1), probeAccount); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSQL(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, size := range []struct {
				name string
				n    int
			}{{"rows=10k", 10_000}, {"rows=1M", 1_000_000}} {
				b.Run(size.name, func(b *testing.B) {
					w := newSQLWorld(b, be, size.n)
					for _, op := range []struct {
						name string
						fn   func(*testing.B, *sqlWorld)
					}{
						{"Lookup/handwritten", handLookup}, {"Lookup/service", svcLookup},
						{"Accept/handwritten", handAccept}, {"Accept/service", svcAccept},
						{"List50/handwritten", handList}, {"List50/service", svcList},
						{"Invite/handwritten", handInvite}, {"Invite/service", svcInvite},
					} {
						b.Run(op.name, func(b *testing.B) {
							b.ReportAllocs()
							op.fn(b, w)
						})
					}
				})
			}
		})
	}
}

// scanRow reads a full row into locals, as a hand-written store would.
func scanRow(row interface{ Scan(...any) error }) error {
	var (
		id, account, email, name, roles, invitedBy, metadata, state, keyID, due, lastError string
		created, sent, expires, accepted, declined, revoked, nextAt, deliveredAt, failedAt any
		sendCount, version, attempts                                                       int64
		nonce, hash                                                                        []byte
	)
	return row.Scan(&id, &account, &email, &name, &roles, &invitedBy, &metadata, &state,
		&created, &sent, &expires, &accepted, &declined, &revoked, &sendCount, &version,
		&due, &attempts, &lastError, &nextAt, &deliveredAt, &failedAt, &keyID, &nonce, &hash)
}

const selectAll = "SELECT id, account_id, email, name, roles, invited_by, metadata, state, created_at, sent_at, expires_at, " +
	"accepted_at, declined_at, revoked_at, send_count, version, delivery_due, delivery_attempts, delivery_last_error, " +
	"delivery_next_at, delivered_at, delivery_failed_at, key_id, token_nonce, token_hash FROM invitations "

func (w *sqlWorld) prepare(b *testing.B, query string) *sql.Stmt {
	stmt, err := w.db.Prepare(query)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	return stmt
}

func handLookup(b *testing.B, w *sqlWorld) {
	get := w.prepare(b, selectAll+"WHERE token_hash = "+w.p(1))
	i := 0
	for b.Loop() {
		if err := scanRow(get.QueryRow(w.hashes[i%probeCount])); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func svcLookup(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := w.svc.Lookup(ctx, w.tokens[i%probeCount]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// acceptRounds accepts the probes in rounds, restoring them between rounds.
func acceptRounds(b *testing.B, w *sqlWorld, accept func(i int) error) {
	b.StopTimer()
	for done := 0; done < b.N; done += probeCount {
		round := min(probeCount, b.N-done)
		b.StartTimer()
		for i := range round {
			if err := accept(i); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		w.restoreProbes(b)
	}
}

func handAccept(b *testing.B, w *sqlWorld) {
	// The caller needs the whole invitation (its account and roles), so the
	// baseline reads the whole row too, then flips the state if the version
	// is still the one it read.
	get := w.prepare(b, "SELECT version, id, account_id, email, name, roles, invited_by, metadata, state, created_at, sent_at, "+
		"expires_at, accepted_at, declined_at, revoked_at, send_count, key_id, token_nonce, token_hash FROM invitations WHERE token_hash = "+w.p(1))
	update := w.prepare(b, "UPDATE invitations SET state = 'accepted', accepted_at = "+w.p(1)+", version = version + 1 WHERE id = "+w.p(2)+" AND version = "+w.p(3))
	acceptRounds(b, w, func(i int) error {
		var version int64
		var id, account, email, name, roles, invitedBy, metadata, state, keyID string
		var created, sent, expires, accepted, declined, revoked, sendCount any
		var nonce, hash []byte
		if err := get.QueryRow(w.hashes[i]).Scan(&version, &id, &account, &email, &name, &roles, &invitedBy, &metadata, &state,
			&created, &sent, &expires, &accepted, &declined, &revoked, &sendCount, &keyID, &nonce, &hash); err != nil {
			return err
		}
		_, err := update.Exec(w.timeArg(w.clock.Now()), id, version)
		return err
	})
}

func svcAccept(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	acceptRounds(b, w, func(i int) error {
		_, err := w.svc.Accept(ctx, w.tokens[i])
		return err
	})
}

func handList(b *testing.B, w *sqlWorld) {
	list := w.prepare(b, selectAll+"WHERE account_id = "+w.p(1)+" AND (created_at, id) < ("+w.p(2)+", "+w.p(3)+
		") ORDER BY created_at DESC, id DESC LIMIT 51")
	for b.Loop() {
		rows, err := list.Query(listAccount, w.timeArg(w.cursor.CreatedAt), w.cursor.ID.String())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			if err := scanRow(rows); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		if n != 51 {
			b.Fatalf("got %d rows", n)
		}
	}
}

func svcList(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	q := invitations.ListQuery{AccountID: listAccount, Limit: 50, After: w.after}
	for b.Loop() {
		page, err := w.svc.List(ctx, q)
		if err != nil || len(page.Invitations) != 50 {
			b.Fatal(err)
		}
	}
}

// handInvite is an invitation with durable delivery state, written by hand:
// insert it with its mail due, send, then mark the mail delivered. This is
// the work the Service does, so that a crash between the two writes leaves
// a due message rather than a lost one.
func handInvite(b *testing.B, w *sqlWorld) {
	insert := w.prepare(b, "INSERT INTO invitations (id, account_id, email, name, roles, invited_by, metadata, state, created_at, sent_at, "+
		"expires_at, send_count, version, key_id, token_nonce, token_hash, delivery_due, delivery_next_at) VALUES ("+
		w.p(1)+", 'hand', "+w.p(2)+", '', '[\"member\"]', '', '{}', 'pending', "+w.p(3)+", "+w.p(3)+", "+w.p(4)+
		", 1, 1, 'k', "+w.p(5)+", "+w.p(6)+", 'invite', "+w.p(7)+")")
	delivered := w.prepare(b, "UPDATE invitations SET delivery_due = '', delivery_next_at = NULL, delivered_at = "+w.p(1)+
		", version = version + 1 WHERE id = "+w.p(2)+" AND version = 1")
	for b.Loop() {
		w.seq++
		var nonce, hash [32]byte
		_, _ = rand.Read(nonce[:])
		_, _ = rand.Read(hash[:])
		now := w.clock.Now()
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := insert.Exec(id, "user"+strconv.Itoa(w.seq)+"@example.com",
			w.timeArg(now), w.timeArg(now.Add(invitations.DefaultTTL)), nonce[:], hash[:], w.timeArg(now.Add(invitations.DefaultLease))); err != nil {
			b.Fatal(err)
		}
		if _, err := delivered.Exec(w.timeArg(now), id); err != nil {
			b.Fatal(err)
		}
	}
}

func svcInvite(b *testing.B, w *sqlWorld) {
	ctx := context.Background()
	for b.Loop() {
		w.seq++
		if _, err := w.svc.Invite(ctx, invitations.InviteInput{AccountID: "service", Email: "user" + strconv.Itoa(w.seq) + "@example.com", Roles: []string{"member"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInviteMany: 1,000 invitations in one InviteMany call against
// 1,000 Invite calls, mail off in both (SkipMail), on each database. One
// op is the whole thousand. PostgreSQL runs on loopback, then through each
// round trip listed in INVITATIONS_BENCH_RTT (internal/netdelay), as a
// database on another host would be.
func BenchmarkInviteMany(b *testing.B) {
	b.Run(sqliteBackend.name, func(b *testing.B) { benchmarkInviteMany(b, sqliteBackend) })
	for _, rtt := range netdelay.RTTs(b) {
		be := postgresThrough(rtt)
		b.Run(be.name, func(b *testing.B) { benchmarkInviteMany(b, be) })
	}
}

func benchmarkInviteMany(b *testing.B, be backend) {
	store, _ := be.newStore(b)
	svc, err := invitations.New(store, invitationstest.NewMailer(), invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	round := 0
	rows := func() []invitations.InviteInput {
		round++
		in := make([]invitations.InviteInput, 1000)
		for i := range in {
			in[i] = invitations.InviteInput{AccountID: "bulk", Email: fmt.Sprintf("r%d-u%d@example.com", round, i), Roles: []string{"member"}, SkipMail: true}
		}
		return in
	}
	b.Run("rows=1000/sequential", func(b *testing.B) {
		for b.Loop() {
			for _, in := range rows() {
				if _, err := svc.Invite(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("rows=1000/InviteMany", func(b *testing.B) {
		for b.Loop() {
			results, err := svc.InviteMany(ctx, rows())
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range results {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		}
	})
}

// BenchmarkRoundTrip is the cost of one statement that does no work,
// SELECT 1, on loopback and through each link of INVITATIONS_BENCH_RTT:
// what the link adds to every round trip, relay included, in this run.
func BenchmarkRoundTrip(b *testing.B) {
	for _, rtt := range netdelay.RTTs(b) {
		be := postgresThrough(rtt)
		b.Run(be.name, func(b *testing.B) {
			db := be.open(b)
			ctx := context.Background()
			var one int
			if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil { // connect, untimed
				b.Fatal(err)
			}
			for b.Loop() {
				if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
