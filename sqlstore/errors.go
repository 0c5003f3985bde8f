package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// fail wraps a database error of operation op. When the context ended, the
// error also matches ctx.Err(): drivers report a cancelled query in their
// own words ("canceling statement due to user request"), and callers must
// be able to tell a cancelled call from a broken database.
func fail(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ctxErr, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isUniqueViolation reports whether err is a unique violation of the named
// index, without importing a driver: PostgreSQL drivers expose the SQLSTATE
// (23505) and name the constraint in the message; SQLite names the index.
func isUniqueViolation(err error, index string) bool {
	var state interface{ SQLState() string }
	if errors.As(err, &state) && state.SQLState() != "23505" {
		return false
	}
	return strings.Contains(err.Error(), index)
}
