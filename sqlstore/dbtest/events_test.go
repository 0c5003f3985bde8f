package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/servers"
	"github.com/invitekit/invitations/internal/sqlhooks"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// eventRecorder collects the IDs of the events a Service reports.
type eventRecorder struct {
	mu  sync.Mutex
	ids map[uuid.UUID]bool
}

func (r *eventRecorder) onEvent(_ context.Context, ev invitations.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[uuid.UUID]bool{}
	}
	r.ids[ev.ID] = true
}

func (r *eventRecorder) all() map[uuid.UUID]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[uuid.UUID]bool, len(r.ids))
	for id := range r.ids {
		out[id] = true
	}
	return out
}

// linkBox keeps the last link mailed to each address.
type linkBox struct{ links sync.Map }

func (b *linkBox) mailer() invitations.Mailer {
	return invitations.MailerFunc(func(_ context.Context, m invitations.Message) error {
		b.links.Store(m.To, m.Link)
		return nil
	})
}

// TestEventFeedTailUnderConcurrentWriters: two "processes" (two pools, two
// Stores, two Services) commit invites, resends and accepts, some of them
// inside host transactions that take a few milliseconds to commit after
// their write, so that transactions commit in another order than the one
// they began writing in; a reader tails the feed from its saved position
// all along. At the end it has seen every stored event exactly once. A
// PostgreSQL feed ordered by a sequence alone (seq > after) fails it: it
// misses the events of transactions that commit after a higher number
// was read.
func TestEventFeedTailUnderConcurrentWriters(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, db := b.newStore(t)
			dbs := []*sql.DB{db, db}
			if b.dialect == sqlstore.Postgres {
				// A second pool on the same schema: another process.
				second, err := sql.Open("pgx", connString(t, db))
				require.NoError(t, err)
				t.Cleanup(func() { second.Close() })
				dbs[1] = second
			}
			var rec eventRecorder
			var box linkBox
			stores := make([]*sqlstore.Store, 2)
			svcs := make([]*invitations.Service, 2)
			for i := range stores {
				s, err := sqlstore.New(dbs[i], b.dialect)
				require.NoError(t, err)
				stores[i] = s
				svcs[i], err = invitations.New(s, box.mailer(), invitations.Config{
					Secret: secret, AcceptURL: "https://app.example.com/accept", OnEvent: rec.onEvent,
				})
				require.NoError(t, err)
			}

			done := make(chan struct{})
			seen := map[uuid.UUID]int{}
			var tail sync.WaitGroup
			tail.Go(func() {
				after := ""
				read := func() int {
					page, next, err := stores[0].ListEvents(ctx, invitations.EventFilter{After: after, Limit: 13})
					if !assert.NoError(t, err) {
						return -1
					}
					for _, e := range page {
						seen[e.ID]++
					}
					after = next
					return len(page)
				}
				for {
					select {
					case <-done:
						// Drain: read until every reported event is in or
						// the feed has stayed empty for a while (a long
						// transaction of another test may hold it back).
						want := rec.all()
						deadline := time.Now().Add(15 * time.Second)
						for time.Now().Before(deadline) {
							if n := read(); n < 0 || (n == 0 && containsAll(seen, want)) {
								return
							}
						}
						return
					default:
						if read() < 0 {
							return
						}
					}
				}
			})

			const writers, rounds = 12, 6
			errs := together(writers, func(w int) error {
				for j := range rounds {
					svc, other := svcs[w%2], svcs[(w+1)%2]
					email := fmt.Sprintf("w%d-%d@example.com", w, j)
					if (w+j)%3 == 0 {
						// A host transaction that commits a while after
						// its write.
						tx, err := dbs[w%2].BeginTx(ctx, nil)
						if err != nil {
							return err
						}
						if _, err := svc.InTx(stores[w%2].WithTx(tx)).Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: email, Roles: []string{"member"}}); err != nil {
							_ = tx.Rollback()
							return err
						}
						time.Sleep(time.Duration(2+w%5) * time.Millisecond)
						if err := tx.Commit(); err != nil {
							return err
						}
						continue
					}
					inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: fmt.Sprintf("acct-%d", w%3), Email: email, Roles: []string{"member"}})
					if err != nil {
						return err
					}
					if j%2 == 0 {
						// Resend may be refused by its cooldown: only the
						// events the Services report count.
						_, _ = other.Resend(ctx, inv.AccountID, inv.ID)
					}
					link, _ := box.links.Load(email)
					token, err := invitationstest.TokenFromLink(link.(string))
					if err != nil {
						return err
					}
					if _, err := other.Accept(ctx, token); err != nil {
						return err
					}
				}
				return nil
			})
			for _, err := range errs {
				require.NoError(t, err)
			}
			close(done)
			tail.Wait()

			stored := rec.all()
			require.NotEmpty(t, stored)
			missing, twice := 0, 0
			for id := range stored {
				switch seen[id] {
				case 0:
					missing++
				case 1:
				default:
					twice++
				}
			}
			t.Logf("%d events stored, %d missing, %d seen twice", len(stored), missing, twice)
			assert.Zero(t, missing, "events never seen, of %d", len(stored))
			assert.Zero(t, twice, "events seen more than once")
			assert.Len(t, seen, len(stored), "no event the Services did not report")
		})
	}
}

func containsAll(seen map[uuid.UUID]int, want map[uuid.UUID]bool) bool {
	for id := range want {
		if seen[id] == 0 {
			return false
		}
	}
	return true
}

// connString is a DSN for another pool on db's PostgreSQL schema.
func connString(t *testing.T, db *sql.DB) string {
	t.Helper()
	var schema string
	require.NoError(t, db.QueryRow("SELECT current_schema()").Scan(&schema))
	return withSearchPath(servers.PostgresDSN(t), schema)
}

// storedEvents counts the events stored.
func storedEvents(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	// A placeholder, which keeps SQLite's newest position after a
	// purge, has no account.
	require.NoError(t, db.QueryRow("SELECT count(*) FROM invitations_events WHERE account_id <> ''").Scan(&n))
	return n
}

func eventKinds(events []invitations.Event) []invitations.EventKind {
	var kinds []invitations.EventKind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// TestEventsRollBackWithTheHostTransaction: a change made in a host
// transaction that rolls back leaves no event, though OnEvent saw it.
func TestEventsRollBackWithTheHostTransaction(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		inv, _ := r.invite(t, "ada@example.com")
		before, err := r.store.History(ctx, "acme", inv.ID)
		require.NoError(t, err)
		require.NotEmpty(t, before)
		fresh, _ := r.invite(t, "bob@example.com")
		n := storedEvents(t, r.db)

		tx, svc := r.begin(t)
		_, err = svc.Revoke(ctx, "acme", inv.ID)
		require.NoError(t, err)
		_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "cy@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())

		after, err := r.store.History(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.Equal(t, eventKinds(before), eventKinds(after), "the rolled-back revoke left no event")
		bob, err := r.store.History(ctx, "acme", fresh.ID)
		require.NoError(t, err)
		assert.NotEmpty(t, bob)
		assert.Equal(t, n, storedEvents(t, r.db), "no event of the rolled-back transaction")
		feed, _, err := r.store.ListEvents(ctx, invitations.EventFilter{Limit: 100})
		require.NoError(t, err)
		assert.Len(t, feed, n)
	})
}

// TestEventsNotStoredWithoutTheirChange: a lost compare-and-set, on
// either UPDATE (the one that keeps the link and the one that replaces
// it), a refused Create and a refused CreateMany row store no event; a
// nil event stores none.
func TestEventsNotStoredWithoutTheirChange(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db := b.newStore(t)
			now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			newInv := func(email string) *invitations.Invitation {
				return &invitations.Invitation{ID: uuid.Must(uuid.NewV7()), AccountID: "acme", Email: email, Roles: []string{"member"},
					State: invitations.StatusPending, CreatedAt: now, SentAt: now, ExpiresAt: now.Add(time.Hour), Version: 1,
					Token: invitations.TokenMaterial{KeyID: "k1", Nonce: []byte(email + "n"), Hash: []byte(email + "-hash-of-32-bytes-padding")[:32]}}
			}
			evOf := func(kind invitations.EventKind, inv *invitations.Invitation) *invitations.Event {
				return &invitations.Event{ID: uuid.Must(uuid.NewV7()), Kind: kind, At: now, Invitation: *inv.Clone()}
			}
			inv := newInv("ada@example.com")
			require.NoError(t, s.Create(ctx, inv, evOf(invitations.EventInvited, inv)))

			stale := inv.Clone()
			stale.Version = 3
			require.ErrorIs(t, s.Update(ctx, stale, 2, evOf(invitations.EventResent, stale)), invitations.ErrConflict)
			relinked := stale.Clone()
			relinked.Token.Hash = []byte("another-hash-of-32-bytes-padding")
			require.ErrorIs(t, s.Update(ctx, relinked, 2, evOf(invitations.EventRegenerated, relinked)), invitations.ErrConflict)
			gone := newInv("gone@example.com")
			require.ErrorIs(t, s.Update(ctx, gone, 1, evOf(invitations.EventRevoked, gone)), invitations.ErrNotFound)
			require.ErrorIs(t, s.Create(ctx, newInv("ada@example.com"), evOf(invitations.EventInvited, inv)), invitations.ErrAlreadyInvited)
			dup, bob := newInv("ada@example.com"), newInv("bob@example.com")
			errs, err := s.CreateMany(ctx, []*invitations.Invitation{dup, bob},
				[]*invitations.Event{evOf(invitations.EventInvited, dup), evOf(invitations.EventInvited, bob)})
			require.NoError(t, err)
			require.ErrorIs(t, errs[0], invitations.ErrAlreadyInvited)
			require.NoError(t, errs[1])
			silent := inv.Clone()
			silent.Version = 2
			require.NoError(t, s.Update(ctx, silent, 1, nil), "a claim records nothing")

			history, err := s.History(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, []invitations.EventKind{invitations.EventInvited}, eventKinds(history))
			assert.Equal(t, "k1", history[0].Invitation.Token.KeyID, "the key ID is kept")
			assert.Equal(t, 2, storedEvents(t, db), "ada's invite and bob's")
		})
	}
}

// TestPurgeDeletesHistory: DeleteEnded deletes the events of what it
// deletes, across several batches, and nothing else.
func TestPurgeDeletesHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db := b.newStore(t)
			now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			const ended = 2500 // more than a batch on both databases
			var invs []*invitations.Invitation
			var evs []*invitations.Event
			for i := range ended + 10 {
				inv, ev := revokedWithEvent(now, i)
				if i >= ended {
					inv.State, inv.RevokedAt = invitations.StatusPending, time.Time{}
					ev.Kind, ev.Invitation = invitations.EventInvited, *inv.Clone()
				}
				invs, evs = append(invs, inv), append(evs, ev)
			}
			errs, err := s.CreateMany(ctx, invs, evs)
			require.NoError(t, err)
			for _, err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, ended+10, storedEvents(t, db))

			n, err := s.DeleteEnded(ctx, now.Add(time.Second), now.Add(-time.Hour))
			require.NoError(t, err)
			require.Equal(t, ended, n)
			assert.Equal(t, 10, storedEvents(t, db), "the pending invitations keep their history")
			history, err := s.History(ctx, "acme", invs[0].ID)
			require.NoError(t, err)
			assert.Empty(t, history)
			history, err = s.History(ctx, "acme", invs[ended].ID)
			require.NoError(t, err)
			assert.Len(t, history, 1)
		})
	}
}

// revokedWithEvent is the i-th invitation of account acme, revoked at
// now, and the event that records it.
func revokedWithEvent(now time.Time, i int) (*invitations.Invitation, *invitations.Event) {
	id := uuid.Must(uuid.NewV7())
	inv := &invitations.Invitation{ID: id, AccountID: "acme", Email: fmt.Sprintf("u%d@example.com", i), Roles: []string{"member"},
		State: invitations.StatusRevoked, CreatedAt: now, SentAt: now, ExpiresAt: now.Add(time.Hour), RevokedAt: now, Version: 1,
		Token: invitations.TokenMaterial{KeyID: "k1", Nonce: id[:], Hash: append(id[:], id[:]...)}}
	return inv, &invitations.Event{ID: uuid.Must(uuid.NewV7()), Kind: invitations.EventRevoked, At: now, Invitation: *inv.Clone()}
}

// TestPurgeKeepsOnePlaceholder (SQLite): a purge that deletes the newest
// event leaves one placeholder row in its place, and the next such purge
// replaces it rather than piling them up.
func TestPurgeKeepsOnePlaceholder(t *testing.T) {
	ctx := context.Background()
	s, db := sqliteBackend.newStore(t)
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	placeholders := func() (n int, top bool) {
		require.NoError(t, db.QueryRow("SELECT count(*), coalesce(max(seq) = (SELECT max(seq) FROM invitations_events), 0) "+
			"FROM invitations_events WHERE account_id = ''").Scan(&n, &top))
		return n, top
	}
	for i := range 3 {
		inv, ev := revokedWithEvent(now, i)
		require.NoError(t, s.Create(ctx, inv, ev))
		n, err := s.DeleteEnded(ctx, now.Add(time.Second), now.Add(-time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		count, top := placeholders()
		assert.Equal(t, 1, count, "round %d", i)
		assert.True(t, top, "the placeholder holds the newest position")
		assert.Zero(t, storedEvents(t, db))
	}
}

// TestEventsMigrationKeepsRows: migration 009 adds the events table to a
// database that already holds invitations: they are kept as they were,
// with no history, and their next change records one.
func TestEventsMigrationKeepsRows(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db := b.newStore(t)
			svc := quietService(t, s)
			inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			before, err := s.Get(ctx, "acme", inv.ID)
			require.NoError(t, err)

			// Back to the schema of migration 008, the row still in it.
			undo010(t, db, b.dialect)
			_, err = db.ExecContext(ctx, "DROP TABLE invitations_events")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "DELETE FROM invitations_migrations WHERE version = 9")
			require.NoError(t, err)

			require.NoError(t, s.Migrate(ctx))
			after, err := s.Get(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, before, after, "every column is kept")
			history, err := svc.History(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Empty(t, history, "no history from before")

			_, err = svc.Revoke(ctx, "acme", inv.ID)
			require.NoError(t, err)
			history, err = svc.History(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, []invitations.EventKind{invitations.EventRevoked}, eventKinds(history))
		})
	}
}

// quietService is a Service on s whose mail goes nowhere.
func quietService(t *testing.T, s *sqlstore.Store) *invitations.Service {
	t.Helper()
	svc, err := invitations.New(s, invitations.MailerFunc(func(context.Context, invitations.Message) error { return nil }),
		invitations.Config{Secret: secret, AcceptURL: "https://app.example.com/accept"})
	require.NoError(t, err)
	return svc
}

// undo010 takes the schema back to migration 009.
func undo010(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	undo := []string{"CREATE UNIQUE INDEX invitations_events_id_key ON invitations_events (id)"}
	if d == sqlstore.SQLite {
		undo = []string{"DROP TRIGGER invitations_event_on_insert", "DROP TRIGGER invitations_event_on_update",
			"DROP TRIGGER invitations_history_on_delete",
			"ALTER TABLE invitations DROP COLUMN new_event_id", "ALTER TABLE invitations DROP COLUMN new_event_kind",
			"ALTER TABLE invitations DROP COLUMN new_event_at", "ALTER TABLE invitations DROP COLUMN new_event",
			"ALTER TABLE invitations DROP COLUMN event_seqs",
			// The events table of 009, with its AUTOINCREMENT counter.
			`CREATE TABLE events_009 (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
				invitation_id TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, key_id TEXT NOT NULL DEFAULT '', event TEXT NOT NULL)`,
			"INSERT INTO events_009 SELECT * FROM invitations_events WHERE account_id <> ''",
			"DROP TABLE invitations_events",
			"ALTER TABLE events_009 RENAME TO invitations_events",
			"CREATE INDEX invitations_events_invitation_idx ON invitations_events (invitation_id, seq)",
			"CREATE INDEX invitations_events_account_idx ON invitations_events (account_id, seq)"}
	}
	for _, stmt := range append(undo, "DELETE FROM invitations_migrations WHERE version = 10") {
		_, err := db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
}

// TestEventWritesMigrationKeepsHistory: migration 010 (the event written
// by the change's own statement; on SQLite a rebuilt events table) keeps
// the history and the feed's positions: a change after it is read after
// every position handed out before it, even one whose event a purge has
// since deleted.
func TestEventWritesMigrationKeepsHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db := b.newStore(t)
			svc := quietService(t, s)
			ada, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			_, err = svc.Revoke(ctx, "acme", ada.ID)
			require.NoError(t, err)
			before, err := svc.History(ctx, "acme", ada.ID)
			require.NoError(t, err)
			page, err := svc.Events(ctx, invitations.EventQuery{})
			require.NoError(t, err)
			require.Len(t, page.Events, len(before))
			// Back to 009, whose purge then takes the newest event.
			undo010(t, db, b.dialect)
			_, err = db.ExecContext(ctx, "DELETE FROM invitations_events WHERE id = "+paramOf(b.dialect)(1), before[len(before)-1].ID.String())
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))

			history, err := svc.History(ctx, "acme", ada.ID)
			require.NoError(t, err)
			assert.Equal(t, eventIDs(before[:len(before)-1]), eventIDs(history), "the history is kept")
			grace, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "grace@example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			next, err := svc.Events(ctx, invitations.EventQuery{After: page.Next})
			require.NoError(t, err)
			graceHistory, err := svc.History(ctx, "acme", grace.ID)
			require.NoError(t, err)
			assert.Equal(t, eventIDs(graceHistory), eventIDs(next.Events), "every change after the migration is read after the old cursor")
		})
	}
}

func eventIDs(evs []invitations.Event) []uuid.UUID {
	ids := make([]uuid.UUID, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}

// seedEvents writes n events over the given number of accounts, four per
// invitation, in one statement, and refreshes the planner's statistics.
func seedEvents(t testing.TB, db *sql.DB, d sqlstore.Dialect, n, accounts int) {
	t.Helper()
	ctx := context.Background()
	var err error
	if d == sqlstore.Postgres {
		_, err = db.ExecContext(ctx, `
INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, event)
SELECT e.id, e.account_id, e.invitation_id, 'invited', '2026-11-02T09:00:00Z',
       json_build_object('id', e.id, 'kind', 'invited', 'at', '2026-11-02T09:00:00Z', 'invitation',
           json_build_object('id', e.invitation_id, 'account_id', e.account_id, 'email', 'user' || e.g || '@example.com',
               'roles', json_build_array('member'), 'state', 'pending'))
FROM (SELECT g, ('00000000-0000-7000-9000-' || lpad(to_hex(g), 12, '0'))::uuid AS id,
             ('00000000-0000-7000-8000-' || lpad(to_hex(g / 4), 12, '0'))::uuid AS invitation_id,
             'acct-' || (g / 4 % $2) AS account_id
      FROM generate_series(1, $1::int) AS g) AS e`, n, accounts)
		if err == nil {
			_, err = db.ExecContext(ctx, "VACUUM ANALYZE invitations_events")
		}
	} else {
		_, err = db.ExecContext(ctx, `
WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < ?1),
e AS (SELECT g, printf('00000000-0000-7000-9000-%012x', g) AS id, printf('00000000-0000-7000-8000-%012x', g / 4) AS invitation_id,
             'acct-' || (g / 4 % ?2) AS account_id FROM c)
INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, event)
SELECT id, account_id, invitation_id, 'invited', 1793610000000000,
       json_object('id', id, 'kind', 'invited', 'at', '2026-11-02T09:00:00Z', 'invitation',
           json_object('id', invitation_id, 'account_id', account_id, 'email', 'user' || g || '@example.com',
               'roles', json_array('member'), 'state', 'pending'))
FROM e`, n, accounts)
		if err == nil {
			_, err = db.ExecContext(ctx, "ANALYZE")
		}
	}
	require.NoError(t, err)
}

// TestEventQueriesUseIndexes: a page of the feed (of every account, of
// one) seeks its position in an index and reads in its order, with no
// sort and no scan; so does an invitation's history.
func TestEventQueriesUseIndexes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t)
			h := sqlhooks.Of(s)
			seedEvents(t, db, b.dialect, 20_000, 20)
			invitation := "00000000-0000-7000-8000-000000000100"
			all, one := []any{int64(10_000), 100}, []any{"acct-3", int64(10_000), 100}
			if b.dialect == sqlstore.Postgres {
				all = []any{"1", int64(10_000), 100}
				one = []any{"acct-3", "1", int64(10_000), 100}
			}
			bad := []string{"Seq Scan", "SCAN invitations_events", "Sort", "TEMP B-TREE"}
			check := func(name, plan, wantIndex, wantSeek string) {
				t.Helper()
				for _, b := range bad {
					assert.NotContains(t, plan, b, "%s:\n%s", name, plan)
				}
				assert.Contains(t, plan, wantIndex, "%s:\n%s", name, plan)
				assert.Regexp(t, wantSeek, plan, "%s: the position must seek in the index, not filter rows:\n%s", name, plan)
			}
			if b.dialect == sqlstore.Postgres {
				check("feed", explain(t, db, b.dialect, h.FeedQuery(false), all...), "invitations_events_pkey", `Index Cond: .*ROW\(txid, seq\) >`)
				check("account feed", explain(t, db, b.dialect, h.FeedQuery(true), one...), "invitations_events_account_idx",
					`Index Cond: .*account_id = .*ROW\(txid, seq\) >`)
				check("history", explain(t, db, b.dialect, h.HistoryQuery(), invitation, "acct-0"), "invitations_events_invitation_idx",
					`Index Cond: \(invitation_id = `)
			} else {
				check("feed", explain(t, db, b.dialect, h.FeedQuery(false), all...), "INTEGER PRIMARY KEY", `(rowid|seq)>\?`)
				check("account feed", explain(t, db, b.dialect, h.FeedQuery(true), one...), "invitations_events_account_idx",
					`account_id=\? AND (rowid|seq)>\?`)
				// The history: the invitation's row by its key, then each
				// position it lists by the events' key; only those few
				// rows are sorted.
				plan := explain(t, db, b.dialect, h.HistoryQuery(), invitation, "acct-0")
				assert.Contains(t, plan, "SEARCH i USING INDEX sqlite_autoindex_invitations_1 (id=?)", "history:\n%s", plan)
				assert.Contains(t, plan, "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)", "history:\n%s", plan)
				assert.NotContains(t, plan, "SCAN i", "history:\n%s", plan)
				assert.NotContains(t, plan, "SCAN e", "history:\n%s", plan)
			}
		})
	}
}
