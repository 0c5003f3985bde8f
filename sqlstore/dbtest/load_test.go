package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// TestLoad drives PostgreSQL with 1, 4, 16 and 64 goroutines doing a mix of
// Invite, Lookup, Accept and a List page for a bounded time, through the
// Service and as hand-written SQL doing the same work, and logs operations
// per second and p50/p99 latency per operation. It measures; it asserts
// only that the work succeeds. It runs when INVITATIONS_LOAD gives the time
// per level; .ci/run runs it briefly, .ci/bench load for the README's
// figures:
//
//	INVITATIONS_LOAD=5s bash .ci/with-postgres go test -run Load -v ./sqlstore/dbtest/
func TestLoad(t *testing.T) {
	raw := os.Getenv("INVITATIONS_LOAD")
	if raw == "" {
		t.Skip("set INVITATIONS_LOAD=10s to run the load test")
	}
	per, err := time.ParseDuration(raw)
	require.NoError(t, err, "INVITATIONS_LOAD is a duration")
	postgres := backends[1]
	store, db := postgres.newStore(t)
	db.SetMaxOpenConns(32)
	// A table in use, not a fresh one: 100,000 invitations over 100
	// accounts, so that the planner meets the shape it meets in production.
	seed(t, db, sqlstore.Postgres, 100_000, 100)
	var links sync.Map // invitation ID -> the link mailed
	svc, err := invitations.New(store, invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
		links.Store(m.Invitation.ID, m.Link)
		return nil
	}), invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept"})
	require.NoError(t, err)

	var lines []string
	for level, workers := range []int{1, 4, 16, 64} {
		impls := []struct {
			name string
			new  func(t *testing.T, worker int) loadOps
		}{
			{"service", func(t *testing.T, w int) loadOps {
				return &serviceOps{svc: svc, links: &links, account: fmt.Sprintf("load-%d-%d", workers, w)}
			}},
			{"hand-written", func(t *testing.T, w int) loadOps { return newHandOps(t, db, fmt.Sprintf("hand-%d-%d", workers, w)) }},
		}
		if level%2 == 1 {
			// Alternate which runs first: the table grows, and the second
			// of a level would otherwise always meet the bigger one.
			slices.Reverse(impls)
		}
		for _, impl := range impls {
			// Statistics as a production table has them. A table that grew
			// faster than autovacuum analyzes it makes the planner guess a
			// few rows for an account whose page it then sorts in full
			// (a literal LIMIT 51 did), instead of walking its index.
			_, err := db.ExecContext(context.Background(), "ANALYZE invitations")
			require.NoError(t, err)
			stats := runLoad(t, workers, per, impl.new)
			lines = append(lines, stats.line(impl.name, workers))
		}
	}
	t.Logf("load on PostgreSQL, %s per level (ops/s; p50 / p99 per operation):\n%s", per, strings.Join(lines, "\n"))
}

// loadOps is the work of one goroutine: each call does one operation.
type loadOps interface {
	invite(ctx context.Context) (token string, err error)
	lookup(ctx context.Context, token string) error
	accept(ctx context.Context, token string) error
	list(ctx context.Context) error
}

type loadStats struct {
	mu    sync.Mutex
	ops   int
	took  time.Duration
	times map[string][]time.Duration
}

func (s *loadStats) line(name string, workers int) string {
	var parts []string
	for _, op := range []string{"invite", "lookup", "accept", "list"} {
		d := s.times[op]
		slices.Sort(d)
		if len(d) == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s/%s", op, d[len(d)/2].Round(time.Microsecond), d[len(d)*99/100].Round(time.Microsecond)))
	}
	return fmt.Sprintf("  %-12s %2d goroutines: %7.0f ops/s  %s", name, workers, float64(s.ops)/s.took.Seconds(), strings.Join(parts, "  "))
}

// runLoad runs the mix on workers goroutines for d: each round invites,
// looks the link up, lists a page and, every other round, accepts.
func runLoad(t *testing.T, workers int, d time.Duration, newOps func(*testing.T, int) loadOps) *loadStats {
	stats := &loadStats{times: map[string][]time.Duration{}}
	ctx := context.Background()
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		ops := newOps(t, w)
		wg.Go(func() {
			local := map[string][]time.Duration{}
			timed := func(name string, f func() error) {
				began := time.Now()
				if err := f(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				local[name] = append(local[name], time.Since(began))
			}
			for round := 0; time.Now().Before(deadline); round++ {
				var token string
				timed("invite", func() (err error) { token, err = ops.invite(ctx); return err })
				timed("lookup", func() error { return ops.lookup(ctx, token) })
				timed("list", func() error { return ops.list(ctx) })
				if round%2 == 0 {
					timed("accept", func() error { return ops.accept(ctx, token) })
				}
			}
			stats.mu.Lock()
			defer stats.mu.Unlock()
			for name, d := range local {
				stats.times[name] = append(stats.times[name], d...)
				stats.ops += len(d)
			}
		})
	}
	wg.Wait()
	stats.took = time.Since(start)
	return stats
}

// serviceOps does the mix through the Service; its mailer only keeps the
// links, so an invite is the row with its mail due, then its delivery
// recorded.
type serviceOps struct {
	svc     *invitations.Service
	links   *sync.Map
	account string
	seq     int
}

func (o *serviceOps) invite(ctx context.Context) (string, error) {
	o.seq++
	inv, err := o.svc.Invite(ctx, invitations.InviteInput{AccountID: o.account, Email: fmt.Sprintf("u%d@example.com", o.seq), Roles: []string{"member"}})
	if err != nil {
		return "", err
	}
	link, _ := o.links.LoadAndDelete(inv.ID)
	return invitationstest.TokenFromLink(link.(string))
}

func (o *serviceOps) lookup(ctx context.Context, token string) error {
	_, err := o.svc.Lookup(ctx, token)
	return err
}

func (o *serviceOps) accept(ctx context.Context, token string) error {
	_, err := o.svc.Accept(ctx, token)
	return err
}

func (o *serviceOps) list(ctx context.Context) error {
	_, err := o.svc.List(ctx, invitations.ListQuery{AccountID: o.account, Limit: 50})
	return err
}

// handOps does the same work as the fewest hand-written statements,
// prepared once: an INSERT with the mail due and an UPDATE recording it
// delivered, a SELECT by token hash, a SELECT and a conditional UPDATE, a
// keyset page; each change writes its event row in the same statement, as
// the store does.
type handOps struct {
	insert, delivered, byHash, update, page *sql.Stmt
	account                                 string
	seq                                     int
}

func newHandOps(t *testing.T, db *sql.DB, account string) *handOps {
	prepare := func(q string) *sql.Stmt {
		stmt, err := db.Prepare(q)
		require.NoError(t, err)
		t.Cleanup(func() { stmt.Close() })
		return stmt
	}
	return &handOps{
		account: account,
		insert: prepare("WITH ins AS (INSERT INTO invitations (id, account_id, email, name, roles, invited_by, metadata, state, created_at, sent_at, " +
			"expires_at, send_count, version, key_id, token_nonce, token_hash, delivery_due, delivery_next_at) VALUES ($1, $2, $3, '', " +
			"'[\"member\"]', '', '{}', 'pending', $4, $4, $5, 1, 1, 'k', $6, $7, 'invite', $8) RETURNING id, account_id) " +
			"INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, event) SELECT $9, account_id, id, 'invited', $4, $10 FROM ins"),
		delivered: prepare("WITH upd AS (UPDATE invitations SET delivery_due = '', delivery_next_at = NULL, delivered_at = $1, version = version + 1 " +
			"WHERE id = $2 AND version = 1 RETURNING id, account_id) " +
			"INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, event) SELECT $3, account_id, id, 'delivered', $1, $4 FROM upd"),
		byHash: prepare(selectAll + "WHERE token_hash = $1"),
		update: prepare("WITH upd AS (UPDATE invitations SET state = 'accepted', accepted_at = $1, version = version + 1 " +
			"WHERE id = $2 AND version = $3 AND state = 'pending' RETURNING id, account_id) " +
			"INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, event) SELECT $4, account_id, id, 'accepted', $1, $5 FROM upd"),
		page: prepare(selectAll + "WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"),
	}
}

func (o *handOps) invite(ctx context.Context) (string, error) {
	o.seq++
	var nonce, hash [32]byte
	_, _ = rand.Read(nonce[:])
	_, _ = rand.Read(hash[:])
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := o.insert.ExecContext(ctx, id, o.account, fmt.Sprintf("u%d@example.com", o.seq),
		now, now.Add(invitations.DefaultTTL), nonce[:], hash[:], now.Add(invitations.DefaultLease), uuid.Must(uuid.NewV7()), eventJSON); err != nil {
		return "", err
	}
	_, err := o.delivered.ExecContext(ctx, now, id, uuid.Must(uuid.NewV7()), eventJSON)
	return string(hash[:]), err
}

func (o *handOps) lookup(ctx context.Context, token string) error {
	return scanRow(o.byHash.QueryRowContext(ctx, []byte(token)))
}

func (o *handOps) accept(ctx context.Context, token string) error {
	var id string
	var version int64
	row := o.byHash.QueryRowContext(ctx, []byte(token))
	if err := scanInto(row, &id, &version); err != nil {
		return err
	}
	_, err := o.update.ExecContext(ctx, time.Now().UTC(), id, version, uuid.Must(uuid.NewV7()), eventJSON)
	return err
}

// eventJSON is an event as the store writes one, for the hand-written
// baseline's event rows: the same size, an invitation's snapshot inside.
var eventJSON = func() string {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	raw, _ := json.Marshal(invitations.Event{ID: uuid.New(), Kind: invitations.EventInvited, At: at, Actor: "grace@example.com",
		Invitation: invitations.Invitation{ID: uuid.New(), AccountID: "hand-1-0", Email: "u1@example.com", Roles: []string{"member"},
			State: invitations.StatusPending, CreatedAt: at, SentAt: at, ExpiresAt: at.Add(invitations.DefaultTTL), SendCount: 1, Version: 1,
			Delivery: invitations.Delivery{Due: invitations.MessageInvite, NextAttempt: at.Add(invitations.DefaultLease), ClaimedAt: at}}})
	return string(raw)
}()

func (o *handOps) list(ctx context.Context) error {
	rows, err := o.page.QueryContext(ctx, o.account, 51) // a page of 50 and one to tell whether another follows
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scanRow(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanInto reads a full row, keeping its id and version.
func scanInto(row interface{ Scan(...any) error }, id *string, version *int64) error {
	var (
		account, email, name, roles, invitedBy, metadata, state, keyID, due, lastError     string
		created, sent, expires, accepted, declined, revoked, nextAt, deliveredAt, failedAt any
		sendCount, attempts                                                                int64
		nonce, hash                                                                        []byte
	)
	return row.Scan(id, &account, &email, &name, &roles, &invitedBy, &metadata, &state,
		&created, &sent, &expires, &accepted, &declined, &revoked, &sendCount, version,
		&due, &attempts, &lastError, &nextAt, &deliveredAt, &failedAt, &keyID, &nonce, &hash)
}
