package sqlstore

import (
	"fmt"
	"strconv"
	"time"
)

// Dialect is the SQL flavour of the database behind a Store.
type Dialect int

// The supported dialects.
const (
	// Postgres is PostgreSQL 15 or later, through any database/sql driver
	// (the tests use github.com/jackc/pgx/v5/stdlib).
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.35 or later (the tests use modernc.org/sqlite,
	// which needs no cgo). Open it in WAL mode with a busy timeout; see the
	// README.
	SQLite
)

// String returns "postgres" or "sqlite".
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d == Postgres || d == SQLite }

// param is the n-th (1-based) positional parameter. SQLite's ?NNN binds by
// number like PostgreSQL's $N, so one query text serves a parameter twice.
func (d Dialect) param(n int) string {
	if d == Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// positional is the n-th parameter of a statement that binds each once,
// in order: on SQLite a plain "?", because its numbered ?NNN parameters are
// bound by name, and finding a name costs a walk of all of them: a
// 10,000-parameter batch INSERT spent 90% of its time there.
func (d Dialect) positional(n int) string {
	if d == SQLite {
		return "?"
	}
	return d.param(n)
}

// timeValue is how a time is written: timestamptz on PostgreSQL, integer
// microseconds on SQLite (which has no time type). The zero time is NULL.
func (d Dialect) timeValue(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d == SQLite {
		return t.UnixMicro()
	}
	return t.UTC()
}

// timeColumn scans either representation back into a UTC time.Time.
type timeColumn struct{ t *time.Time }

func (c timeColumn) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlstore: cannot read a time from %T", v)
	}
	return nil
}
