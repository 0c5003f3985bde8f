package dbtest

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/sqlhooks"
	"github.com/invitekit/invitations/sqlstore"
)

func dueArg(d sqlstore.Dialect, t time.Time) any {
	if d == sqlstore.SQLite {
		return t.UnixMicro()
	}
	return t
}

// explain returns the query plan as text, one node or step per line.
func explain(t *testing.T, db *sql.DB, d sqlstore.Dialect, query string, args ...any) string {
	t.Helper()
	prefix := "EXPLAIN "
	if d == sqlstore.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.QueryContext(context.Background(), prefix+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for _, v := range vals {
			if s, ok := v.(string); ok {
				lines = append(lines, s)
			}
		}
	}
	require.NoError(t, rows.Err())
	return strings.Join(lines, "\n")
}

// TestQueriesUseIndexes checks the plans on a seeded table: lookups probe
// an index, and List pages come off the (account, created_at, id) indexes
// in order, with no sort and no scan of the table, so that a page costs the
// same at row 10 and row 1,000,000.
func TestQueriesUseIndexes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t)
			h := sqlhooks.Of(s) // the statement texts, which sqlstore keeps unexported
			seed(t, db, b.dialect, 20_000, 4)
			acceptSome(t, db, b.dialect)
			now := seedBase.Add(7*24*time.Hour + 10*time.Millisecond) // half the rows expired
			cursor := &invitations.Cursor{CreatedAt: seedBase.Add(10 * time.Millisecond), ID: uuid.MustParse("00000000-0000-7000-8000-000000002710")}

			bad := []string{"Seq Scan", "SCAN invitations", "Sort", "TEMP B-TREE"}
			check := func(name, plan string, wantIndex string) {
				t.Helper()
				for _, b := range bad {
					assert.NotContains(t, plan, b, "%s:\n%s", name, plan)
				}
				assert.Contains(t, plan, wantIndex, "%s:\n%s", name, plan)
			}
			check("by token hash", explain(t, db, b.dialect, h.ByHashQuery(), []byte("x")), "invitations_token_hash_key")
			check("due messages", explain(t, db, b.dialect, h.ListDueQuery(), dueArg(b.dialect, now), 100), "invitations_delivery_due_idx")
			check("remindable", explain(t, db, b.dialect, h.RemindableQuery(), dueArg(b.dialect, now), dueArg(b.dialect, now.Add(24*time.Hour)), 100),
				"invitations_remindable_idx")
			check("pending email", explain(t, db, b.dialect, h.PendingIDQuery(), "acct-1", "user5@example.com"), "invitations_pending_email_key")
			check("working links (limits)", explain(t, db, b.dialect, h.CountWorkingQuery(), "acct-1", dueArg(b.dialect, now), 10_000),
				"invitations_account_pending_expiry_idx")
			ended, expired := h.PurgeQueries()
			check("purge ended", explain(t, db, b.dialect, ended, dueArg(b.dialect, now), 2000), "invitations_ended_idx")
			check("purge expired", explain(t, db, b.dialect, expired, dueArg(b.dialect, now), 2000), "invitations_expired_idx")
			seedMailLog(t, db, b.dialect, now)
			check("count mails (limits)", explain(t, db, b.dialect, h.CountMailsQuery(), "acct-1", dueArg(b.dialect, now)),
				"invitations_mail_log_account_at_idx")
			check("recent mails (limits)", explain(t, db, b.dialect, h.RecentMailsQuery(), "acct-1", dueArg(b.dialect, now), 500),
				"invitations_mail_log_account_at_idx")
			for name, f := range map[string]invitations.ListFilter{
				"first page":     {AccountID: "acct-1", Now: now, Limit: 51},
				"page after":     {AccountID: "acct-1", Now: now, Limit: 51, After: cursor},
				"pending after":  {AccountID: "acct-1", Status: invitations.StatusPending, Now: now, Limit: 51, After: cursor},
				"expired":        {AccountID: "acct-1", Status: invitations.StatusExpired, Now: now, Limit: 51},
				"accepted after": {AccountID: "acct-1", Status: invitations.StatusAccepted, Now: now, Limit: 51, After: cursor},
			} {
				query, args := h.ListQuery(f)
				plan := explain(t, db, b.dialect, query, args...)
				check(name, plan, "invitations_account_")
				if f.After != nil {
					assert.Regexp(t, `Index Cond: .*ROW\(created_at, id\) <|\(created_at,id\)<\(\?,\?\)`, plan,
						"%s: the cursor must seek in the index, not filter rows:\n%s", name, plan)
				}
			}
		})
	}
}

// TestSearchAndCountUseIndexes: a selective search reads the account's
// email range off its index, whatever page it is on (a broad prefix, which
// matches most rows, is rightly served by walking the created_at index);
// counting reads only indexes.
func TestSearchAndCountUseIndexes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.newStore(t)
			h := sqlhooks.Of(s) // the statement texts, which sqlstore keeps unexported
			seed(t, db, b.dialect, 20_000, 20)
			if b.dialect == sqlstore.Postgres {
				// Index-only scans need the visibility map that (auto)vacuum keeps.
				_, err := db.ExecContext(context.Background(), "VACUUM ANALYZE invitations")
				require.NoError(t, err)
			}
			now := seedBase.Add(7*24*time.Hour + 10*time.Millisecond)
			cursor := &invitations.Cursor{CreatedAt: seedBase.Add(10 * time.Millisecond), ID: uuid.MustParse("00000000-0000-7000-8000-000000002710")}
			for name, f := range map[string]invitations.ListFilter{
				"search":             {AccountID: "acct-1", Search: "user1241", Now: now, Limit: 51},
				"search after":       {AccountID: "acct-1", Search: "user1241", Now: now, Limit: 51, After: cursor},
				"search pending":     {AccountID: "acct-1", Search: "user1241", Status: invitations.StatusPending, Now: now, Limit: 51},
				"search whole email": {AccountID: "acct-1", Search: "user1241@example.com", Now: now, Limit: 51},
			} {
				query, args := h.ListQuery(f)
				plan := explain(t, db, b.dialect, query, args...)
				assert.Contains(t, plan, "invitations_account_email_idx", "%s:\n%s", name, plan)
				for _, bad := range []string{"Seq Scan", "SCAN invitations "} {
					assert.NotContains(t, plan, bad, "%s:\n%s", name, plan)
				}
			}
			plan := explain(t, db, b.dialect, h.CountQuery(), "acct-1", dueArg(b.dialect, now))
			for _, bad := range []string{"Seq Scan", "SCAN invitations\n", "Heap Fetches"} {
				assert.NotContains(t, plan, bad, "count:\n%s", plan)
			}
			assert.Contains(t, plan, "invitations_account_pending_expiry_idx", "count:\n%s", plan)
		})
	}
}

// seedMailLog writes 20,000 ledger records over 20 accounts, a second
// apart, ending at end, and refreshes the planner's statistics.
func seedMailLog(t *testing.T, db *sql.DB, d sqlstore.Dialect, end time.Time) {
	t.Helper()
	ctx := context.Background()
	var err error
	if d == sqlstore.Postgres {
		_, err = db.ExecContext(ctx, "INSERT INTO invitations_mail_log (account_id, at, n)"+
			" SELECT 'acct-' || (i % 20), $1::timestamptz - i * interval '1 second', 1 FROM generate_series(1, 20000) AS i", end)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "ANALYZE invitations_mail_log")
	} else {
		_, err = db.ExecContext(ctx, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)"+
			" INSERT INTO invitations_mail_log (account_id, at, n) SELECT 'acct-' || (i % 20), ?1 - i * 1000000, 1 FROM c", end.UnixMicro())
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "ANALYZE")
	}
	require.NoError(t, err)
}

// acceptSome marks a tenth of the seeded invitations accepted, as a live
// table has them, and refreshes the planner's statistics.
func acceptSome(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	ctx := context.Background()
	_, err := db.ExecContext(ctx, "UPDATE invitations SET state = 'accepted', accepted_at = sent_at WHERE email LIKE '%0@example.com'")
	require.NoError(t, err)
	analyze := "ANALYZE"
	if d == sqlstore.Postgres {
		analyze = "ANALYZE invitations"
	}
	_, err = db.ExecContext(ctx, analyze)
	require.NoError(t, err)
}
