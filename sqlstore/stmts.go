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

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	stmt := c.stmts[query]
	c.mu.RUnlock()
	if stmt != nil {
		return stmt, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if stmt := c.stmts[query]; stmt != nil {
		return stmt, nil
	}
	stmt, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = stmt
	return stmt, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, stmt := range c.stmts {
		errs = append(errs, stmt.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// exec runs a statement through the cache.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	stmt, err := s.stmts.get(ctx, s.db, query)
	if err != nil {
		return nil, err
	}
	return stmt.ExecContext(ctx, args...)
}

// query runs a query through the cache.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := s.stmts.get(ctx, s.db, query)
	if err != nil {
		return nil, err
	}
	return stmt.QueryContext(ctx, args...)
}

// queryRow runs a one-row query through the cache; a failure to prepare
// surfaces from Scan, as database/sql does for QueryRow.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	stmt, err := s.stmts.get(ctx, s.db, query)
	if err != nil {
		return errRow{err}
	}
	return stmt.QueryRowContext(ctx, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Close releases the Store's prepared statements. It does not close the
// *sql.DB, which belongs to the caller. A closed Store prepares afresh if
// it is used again.
func (s *Store) Close() error { return s.stmts.close() }
