package dbtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/sqlstore"
)

// seedBase is when the first seeded invitation was created; row g is
// created g microseconds later and expires a week after that.
var seedBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seed inserts n pending invitations spread over accounts acct-0 ...
// acct-(accounts-1) with one bulk statement, as a benchmark's setup must
// not go through the Service a million times. IDs are valid UUIDs that sort
// with g; token hashes are unique.
func seed(t testing.TB, db *sql.DB, d sqlstore.Dialect, n, accounts int) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch d {
	case sqlstore.Postgres:
		_, err = db.ExecContext(ctx, `
INSERT INTO invitations (id, account_id, email, name, roles, invited_by, metadata, state,
    created_at, sent_at, expires_at, send_count, version, key_id, token_nonce, token_hash)
SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       'acct-' || (g % $2), 'user' || g || '@example.com', '', '["member"]', '', '{}', 'pending',
       $3::timestamptz + g * interval '1 microsecond',
       $3::timestamptz + g * interval '1 microsecond',
       $3::timestamptz + g * interval '1 microsecond' + interval '7 days',
       1, 1, 'seed00', sha256(('nonce' || g)::bytea), sha256(('hash' || g)::bytea)
FROM generate_series(1, $1::int) AS g`, n, accounts, seedBase)
		if err == nil {
			_, err = db.ExecContext(ctx, "ANALYZE invitations")
		}
	case sqlstore.SQLite:
		_, err = db.ExecContext(ctx, `
WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < ?1)
INSERT INTO invitations (id, account_id, email, name, roles, invited_by, metadata, state,
    created_at, sent_at, expires_at, send_count, version, key_id, token_nonce, token_hash)
SELECT printf('00000000-0000-7000-8000-%012x', g), 'acct-' || (g % ?2), 'user' || g || '@example.com',
       '', '["member"]', '', '{}', 'pending', ?3 + g, ?3 + g, ?3 + g + 604800000000,
       1, 1, 'seed00', randomblob(32), randomblob(32)
FROM seq`, n, accounts, seedBase.UnixMicro())
		if err == nil {
			_, err = db.ExecContext(ctx, "ANALYZE")
		}
	}
	require.NoError(t, err, "seeding %d rows", n)
}
