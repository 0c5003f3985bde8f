package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache prepares each query once per Store. database/sql re-prepares a
// *sql.Stmt on every pooled connection as needed; without it, drivers
// without a statement cache of their own (modernc.org/sqlite) parse every
// query on every call, which doubled the cost of a lookup on SQLite.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	if stmt := c.lookup(query); stmt != nil {
		return stmt, nil
	}
	// Prepare outside the lock: a prepare can stall (on PostgreSQL, behind
	// a lock on the table) and no call may wait on another call's prepare
	// beyond its own context. Two calls that miss together both prepare;
	// the second to finish closes its statement.
	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cur := c.keep(query, stmt)
	if cur != stmt {
		// Closed outside the lock: Close waits for every connection the
		// statement was prepared on, and one of them may be waiting (in
		// SQLite's busy handler, say) for a transaction whose next
		// statement needs this cache.
		_ = stmt.Close()
	}
	return cur, nil
}

// keep caches stmt for query unless another call cached one first, and
// returns the cached statement.
func (c *stmtCache) keep(query string, stmt *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.stmts[query]; cur != nil {
		return cur
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = stmt
	return stmt
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	stmts := c.stmts
	c.stmts = nil
	c.mu.Unlock()
	var errs []error
	for _, stmt := range stmts {
		errs = append(errs, stmt.Close())
	}
	return errors.Join(errs...)
}

// stmt gives the prepared statement of query: from the cache on the
// pool; for a Store from WithTx, the cached statement bound to the
// caller's transaction, or one prepared on it (the transaction holds its
// connection, so nothing is prepared on another).
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s.tx == nil {
		return s.stmts.get(ctx, s.db, query)
	}
	if cached := s.stmts.lookup(query); cached != nil {
		return s.tx.StmtContext(ctx, cached), nil
	}
	return s.tx.PrepareContext(ctx, query)
}

// exec runs a statement through stmt.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	stmt, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return stmt.ExecContext(ctx, args...)
}

// query runs a query through stmt.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

// queryRow runs a one-row query through stmt; a failure to prepare
// surfaces from Scan, as database/sql does for QueryRow.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	stmt, err := s.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return stmt.QueryRowContext(ctx, args...)
}

// runner runs a statement that is built per call (CreateMany's, whose
// length varies) without preparing it: on the caller's transaction for a
// Store from WithTx, else on the pool.
func (s *Store) runner() interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
} {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Close releases the Store's prepared statements. It does not close the
// *sql.DB, which belongs to the caller. A closed Store prepares afresh if
// it is used again.
func (s *Store) Close() error { return s.stmts.close() }
