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

func (b *linkBox) token(t *testing.T, email string) string {
	t.Helper()
	link, ok := b.links.Load(email)
	require.True(t, ok, "a link was mailed to %s", email)
	token, err := invitationstest.TokenFromLink(link.(string))
	require.NoError(t, err)
	return token
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
