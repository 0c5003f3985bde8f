package sqlstore

import (
	"errors"
	"strings"
)

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
