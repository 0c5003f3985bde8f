package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/invitekit/invitations"
)

var _ invitations.LimitStore = (*Store)(nil)

// limitQueries are the statements of invitations.LimitStore.
type limitQueries struct {
	lock, countMails, recentMails, forgetMails, recordMails, countWorking string
	bound, setBound                                                       string
}

func buildLimitQueries(d Dialect, table string) limitQueries {
	p := d.param
	log := table + "_mail_log"
	limits := table + "_account_limits"
	q := limitQueries{
		bound: "SELECT working_bound, counted_at FROM " + limits + " WHERE account_id = " + p(1),
		setBound: "INSERT INTO " + limits + " (account_id, working_bound, counted_at) VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")" +
			" ON CONFLICT (account_id) DO UPDATE SET working_bound = excluded.working_bound, counted_at = excluded.counted_at",
		countMails: "SELECT coalesce(sum(n), 0) FROM " + log + " WHERE account_id = " + p(1) + " AND at > " + p(2),
		recentMails: "SELECT at, n FROM " + log + " WHERE account_id = " + p(1) + " AND at > " + p(2) +
			" ORDER BY at DESC LIMIT " + p(3),
		forgetMails: "DELETE FROM " + log + " WHERE account_id = " + p(1) + " AND at <= " + p(2),
		recordMails: "INSERT INTO " + log + " (account_id, at, n) VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")",
		// The partial pending-expiry index serves it, and the LIMIT stops
		// the count at the cap.
		countWorking: "SELECT count(*) FROM (SELECT 1 FROM " + table + " WHERE account_id = " + p(1) +
			" AND state = 'pending' AND expires_at > " + p(2) + " LIMIT " + p(3) + ") AS working",
	}
	if d == Postgres {
		// A transaction-scoped advisory lock per account (and table): it
		// ends with the transaction, and it blocks no reader.
		q.lock = "SELECT pg_advisory_xact_lock(hashtextextended(" + p(1) + ", 0))"
	} else {
		// SQLite has one writer at a time. A write as the transaction's
		// first statement takes the write lock before anything is read,
		// so that what fn reads stays true until it commits, even on a
		// transaction begun DEFERRED (where a read first, then a write,
		// fails with SQLITE_BUSY when another writer came between).
		q.lock = "UPDATE " + log + " SET n = n WHERE 0 AND account_id = " + p(1)
	}
	return q
}

// LockAccount implements invitations.LimitStore. On the pool it runs fn in
// a transaction of its own, committed when fn returns nil and rolled back
// otherwise. On a Store from WithTx it takes the lock in the caller's
// transaction and passes itself: the lock is held, and fn's writes kept or
// undone, with that transaction.
//
// PostgreSQL locks the account with a transaction-scoped advisory lock:
// other accounts, and readers, are not held up. SQLite holds its one write
// lock for the transaction.
func (s *Store) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	// Whether fn's writes landed after a failed COMMIT is for the caller
	// to find out: only it knows what fn wrote.
	return s.atomically(ctx, "lock account", nil, func(st *Store) error {
		if err := st.lockAccount(ctx, accountID); err != nil {
			return err
		}
		return fn(ctx, st)
	})
}

func (s *Store) lockAccount(ctx context.Context, accountID string) error {
	key := accountID
	if s.dialect == Postgres {
		key = s.table + "/" + accountID
	}
	if _, err := s.exec(ctx, s.q.limits.lock, key); err != nil {
		return fail(ctx, "lock account", err)
	}
	return nil
}

// CountMails implements invitations.LimitStore: the sum is taken in the
// database, off the (account_id, at) index.
func (s *Store) CountMails(ctx context.Context, accountID string, since time.Time) (int, error) {
	var n int64
	if err := s.queryRow(ctx, s.q.limits.countMails, accountID, s.dialect.timeValue(since)).Scan(&n); err != nil {
		return 0, fail(ctx, "count mails", err)
	}
	return int(n), nil
}

// RecentMails implements invitations.LimitStore.
func (s *Store) RecentMails(ctx context.Context, accountID string, since time.Time, limit int) ([]invitations.MailRecord, error) {
	rows, err := s.query(ctx, s.q.limits.recentMails, accountID, s.dialect.timeValue(since), limit)
	if err != nil {
		return nil, fail(ctx, "recent mails", err)
	}
	defer rows.Close()
	var out []invitations.MailRecord
	for rows.Next() {
		var r invitations.MailRecord
		if err := rows.Scan(timeColumn{&r.At}, &r.Count); err != nil {
			return nil, fail(ctx, "recent mails", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "recent mails", err)
	}
	return out, nil
}

// RecordMails implements invitations.LimitStore with two statements: the
// account's records that left the window are deleted as the new one is
// written, so the ledger holds about a day of mail per account.
func (s *Store) RecordMails(ctx context.Context, accountID string, at time.Time, n int, forgetBefore time.Time) error {
	if _, err := s.exec(ctx, s.q.limits.forgetMails, accountID, s.dialect.timeValue(forgetBefore)); err != nil {
		return fail(ctx, "record mails", err)
	}
	if n <= 0 {
		return nil
	}
	if _, err := s.exec(ctx, s.q.limits.recordMails, accountID, s.dialect.timeValue(at), n); err != nil {
		return fail(ctx, "record mails", err)
	}
	return nil
}

// CountValidLinks implements invitations.LimitStore off the partial
// pending-expiry index, reading at most limit entries.
func (s *Store) CountValidLinks(ctx context.Context, accountID string, now time.Time, limit int) (int, error) {
	var n int
	if err := s.queryRow(ctx, s.q.limits.countWorking, accountID, s.dialect.timeValue(now), limit).Scan(&n); err != nil {
		return 0, fail(ctx, "count working", err)
	}
	return n, nil
}

// ValidLinksBound implements invitations.LimitStore.
func (s *Store) ValidLinksBound(ctx context.Context, accountID string) (invitations.LinkBound, error) {
	var b invitations.LinkBound
	err := s.queryRow(ctx, s.q.limits.bound, accountID).Scan(&b.Links, timeColumn{&b.CountedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return invitations.LinkBound{}, nil
	}
	if err != nil {
		return b, fail(ctx, "working bound", err)
	}
	return b, nil
}

// SetValidLinksBound implements invitations.LimitStore with one upsert.
func (s *Store) SetValidLinksBound(ctx context.Context, accountID string, b invitations.LinkBound) error {
	if _, err := s.exec(ctx, s.q.limits.setBound, accountID, b.Links, s.dialect.timeValue(b.CountedAt)); err != nil {
		return fail(ctx, "set working bound", err)
	}
	return nil
}
