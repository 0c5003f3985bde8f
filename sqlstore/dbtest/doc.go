// Package dbtest holds the tests and benchmarks of package sqlstore that
// need a database driver (pgx for PostgreSQL, modernc.org/sqlite) or
// go-sqlmock. It is a module of its own,
// github.com/invitekit/invitations/sqlstore/dbtest, so that those modules
// stay out of the module graph of every program that imports the library:
// sqlstore itself imports no driver, and its importers choose theirs.
//
// Run from the repository root (the go.work there includes this module):
//
//	go test ./sqlstore/dbtest/...
//
// The tests see sqlstore's exported API only; the statement texts and the
// purge batches they check come through internal/sqlhooks. The PostgreSQL
// tests need a server (bash .ci/with-postgres go test ./sqlstore/dbtest/...):
// without one they skip, and in CI (CI=true) they fail.
package dbtest
