// Package sqlstore is an invitations.Store on database/sql, for PostgreSQL
// (15 and later) and SQLite.
//
// A Store from WithTx runs every call in the caller's transaction: with
// Service.InTx, invitations and acceptances commit or roll back together
// with the host's own writes.
//
// It imports no driver: open the *sql.DB with the driver of your choice and
// pass its Dialect. Create the schema with Store.Migrate, or apply the files
// of Migrations with your own migration tool. Every call is one statement
// but CreateMany (two per 400 rows), DeleteEnded (a transaction of two
// per batch on PostgreSQL, of one on SQLite), RecordMails (two) and
// LockAccount (a transaction around its function); a change stores its
// event in its own statement (PostgreSQL: a data-modifying CTE; SQLite:
// a trigger of migration 010). A lost compare-and-set or a duplicate
// pending invitation costs one more read to tell which error to return.
package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// DefaultTable is the table name when no WithTable option is given.
const DefaultTable = "invitations"

// Store keeps invitations in one table of a SQL database. It is safe for
// concurrent use, by one process or many.
type Store struct {
	db      *sql.DB
	tx      *sql.Tx // set on a Store from WithTx
	dialect Dialect
	table   string
	q       queries
	stmts   *stmtCache
	// onPurgeBatch, set by tests, sees each batch of DeleteEnded.
	onPurgeBatch func(rows int, took time.Duration)
}

var _ invitations.Store = (*Store)(nil)

// Option configures New.
type Option func(*options)

type options struct {
	table string
}

// WithTable names the table (default "invitations"). The name is also the
// prefix of the indexes and of the migrations table (TABLE_migrations). It
// must be a plain identifier: a letter or underscore, then letters, digits
// or underscores, at most 48 characters. To use another PostgreSQL schema,
// set search_path on the connection.
func WithTable(name string) Option { return func(o *options) { o.table = name } }

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,47}$`)

// New returns a Store on db. It does not touch the database; call Migrate
// (or apply Migrations) before use. Bad arguments match
// invitations.ErrInvalidInput.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	o := options{table: DefaultTable}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case db == nil:
		return nil, fmt.Errorf("sqlstore: %w: a *sql.DB is required", invitations.ErrInvalidInput)
	case !d.valid():
		return nil, fmt.Errorf("sqlstore: %w: unknown dialect %s", invitations.ErrInvalidInput, d)
	case !identifier.MatchString(o.table):
		return nil, fmt.Errorf("sqlstore: %w: table name must be a plain identifier of at most 48 characters", invitations.ErrInvalidInput)
	}
	return &Store{db: db, dialect: d, table: o.table, q: buildQueries(d, o.table), stmts: &stmtCache{}}, nil
}

// WithTx returns a Store whose every call runs on tx, the caller's
// transaction, and that shares s's table and prepared statements. Pass it
// to Service.InTx, so that an acceptance, say, commits or rolls back
// together with the caller's own writes:
//
//	tx, err := db.BeginTx(ctx, nil)
//	...
//	defer tx.Rollback()
//	inv, err := svc.InTx(store.WithTx(tx)).Accept(ctx, token)
//	... insert the membership with tx ...
//	err = tx.Commit()
//
// No call on it makes a statement fail to report a conflict: a lost
// compare-and-set or a duplicate pending invitation is told by row counts
// and ON CONFLICT, so that on PostgreSQL the caller's transaction stays
// usable. Use PostgreSQL's default READ COMMITTED isolation (under
// REPEATABLE READ or SERIALIZABLE a concurrent change fails the statement
// with a serialization error, which the caller must retry). On SQLite,
// begin the transaction as IMMEDIATE (open the database with
// _txlock=immediate), or two transactions that read and then write can
// fail with SQLITE_BUSY instead of waiting for each other.
//
// Under Config.Limits, a call that counts (Invite, Resend, Regenerate)
// takes the account's lock in tx and holds it until tx ends: keep such
// transactions short, as other invites of the account wait for them.
//
// The Store is valid until tx ends. Migrate and Close act on the database,
// not on tx.
func (s *Store) WithTx(tx *sql.Tx) *Store {
	c := *s
	c.tx = tx
	return &c
}

// Create implements invitations.Store. The row and its event are one
// statement (an event is stored only with a row inserted).
func (s *Store) Create(ctx context.Context, inv *invitations.Invitation, ev *invitations.Event) error {
	args := s.rowValues(inv)
	query := s.q.insert
	if ev != nil {
		evArgs, err := s.eventArgs(ev)
		if err != nil {
			return fmt.Errorf("sqlstore: create: %w", err)
		}
		args, query = append(args, evArgs...), s.q.events.insertWithEvent
	}
	// A pending invitation of the same email can end between the insert
	// and the read that names it; then the insert is simply tried again.
	for range 3 {
		res, err := s.exec(ctx, query, args...)
		if err != nil {
			return fail(ctx, "create", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fail(ctx, "create", err)
		} else if n == 1 {
			return nil
		}
		var existing uuid.UUID
		err = s.queryRow(ctx, s.q.pendingID, inv.AccountID, inv.Email).Scan(&existing)
		switch {
		case err == nil:
			return &invitations.AlreadyInvitedError{ExistingID: existing}
		case !errors.Is(err, sql.ErrNoRows):
			return fail(ctx, "create", err)
		}
	}
	return fmt.Errorf("sqlstore: create: %w", invitations.ErrConflict)
}

// createChunk is how many rows one INSERT of CreateMany carries: on
// SQLite, 31 parameters a row (27, and 4 for its event) stay within its
// limit of 32,766; on PostgreSQL, one JSON parameter of 400 rows was as
// fast as 1,000.
const createChunk = 400

// CreateMany implements invitations.Store with one multi-row INSERT ... ON
// CONFLICT DO NOTHING RETURNING id per chunk of rows, and one SELECT that
// names the pending invitations holding the emails of the rows not
// inserted: a few statements, whatever the number of rows, and none that
// fails on a duplicate (a caller's transaction stays usable).
//
// The events of the rows inserted follow each chunk in one more
// statement.
//
// The chunks share one transaction (the caller's, on a Store from WithTx):
// a call error, such as a context that ends between two chunks, leaves
// none of the rows stored. Rows go in (account, email) order, so that two
// calls racing over the same emails take their index entries in the same
// order and cannot deadlock.
func (s *Store) CreateMany(ctx context.Context, invs []*invitations.Invitation, evs []*invitations.Event) ([]error, error) {
	if len(invs) == 0 {
		return []error{}, nil
	}
	order := make([]int, len(invs))
	for i := range order {
		order[i] = i
	}
	// Stable: of two rows naming one email, the earlier one is inserted
	// and the later one refused, naming it.
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(strings.Compare(invs[a].AccountID, invs[b].AccountID),
			strings.Compare(strings.ToLower(invs[a].Email), strings.ToLower(invs[b].Email)))
	})
	sorted := make([]*invitations.Invitation, len(invs))
	sortedEvs := make([]*invitations.Event, len(invs))
	for j, i := range order {
		sorted[j] = invs[i]
		if i < len(evs) {
			sortedEvs[j] = evs[i]
		}
	}
	sortedErrs := make([]error, len(invs))
	// A commit can fail while the database commits all the same (the
	// context ended with COMMIT on its way): then one row inserted in the
	// transaction tells.
	landed := func(ctx context.Context) (bool, error) {
		for j, inv := range sorted {
			if sortedErrs[j] == nil {
				_, err := s.Get(ctx, inv.AccountID, inv.ID)
				if errors.Is(err, invitations.ErrNotFound) {
					return false, nil
				}
				return err == nil, err
			}
		}
		return false, nil
	}
	err := s.atomically(ctx, "create many", landed, func(st *Store) error {
		for start := 0; start < len(sorted); start += createChunk {
			chunk := sorted[start:min(start+createChunk, len(sorted))]
			end := start + len(chunk)
			if err := st.createChunk(ctx, chunk, sortedEvs[start:end], sortedErrs[start:end]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(invs))
	for j, i := range order {
		errs[i] = sortedErrs[j]
	}
	return errs, nil
}

// atomically runs fn on a Store bound to one transaction: the caller's on
// a Store from WithTx, else one of its own, committed when fn returns nil
// and rolled back otherwise. fn's error is returned as is.
//
// A failed COMMIT does not always mean nothing was committed: a context
// that ends while the COMMIT is on its way makes the driver give up
// waiting for a reply the server may still send. When landed is not nil
// it is asked then, on a context that outlives the caller's by a few
// seconds, and a commit it finds is a success.
func (s *Store) atomically(ctx context.Context, op string, landed func(context.Context) (bool, error), fn func(st *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(s.WithTx(tx)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		if landed != nil && ctx.Err() != nil {
			check, cancel := context.WithTimeout(context.WithoutCancel(ctx), landedCheckTimeout)
			defer cancel()
			if ok, _ := landed(check); ok {
				return nil
			}
		}
		return fail(ctx, op+": commit", err)
	}
	return nil
}

// landedCheckTimeout bounds the read that tells whether a failed COMMIT
// committed after all.
const landedCheckTimeout = 5 * time.Second

func (s *Store) createChunk(ctx context.Context, chunk []*invitations.Invitation, evs []*invitations.Event, errs []error) error {
	rows, err := s.insertBatch(ctx, chunk, evs)
	if err != nil {
		return fail(ctx, "create many", err)
	}
	inserted := make(map[uuid.UUID]bool, len(chunk))
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fail(ctx, "create many", err)
		}
		inserted[id] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fail(ctx, "create many", err)
	}
	var missing []int
	var withEvent []*invitations.Invitation
	var events []*invitations.Event
	for i, inv := range chunk {
		switch {
		case !inserted[inv.ID]:
			missing = append(missing, i)
		case evs[i] != nil && s.dialect == Postgres: // SQLite's trigger stored it
			withEvent = append(withEvent, inv)
			events = append(events, evs[i])
		}
	}
	if len(events) > 0 {
		if err := s.insertEvents(ctx, withEvent, events); err != nil {
			return fail(ctx, "create many", err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	holders, err := s.pendingHolders(ctx, chunk, missing)
	if err != nil {
		return err
	}
	for _, i := range missing {
		inv := chunk[i]
		if id, ok := holders[[2]string{inv.AccountID, strings.ToLower(inv.Email)}]; ok && id != inv.ID {
			errs[i] = &invitations.AlreadyInvitedError{ExistingID: id}
			continue
		}
		// The holder ended between the INSERT and the SELECT: try the row
		// again on its own.
		errs[i] = s.Create(ctx, inv, evs[i])
	}
	return nil
}

// insertBatch inserts the rows that no pending invitation holds the email
// of, returning their IDs. PostgreSQL gets the batch as one JSON parameter
// (a constant statement, prepared once: binding 10,000 parameters cost
// more than the insert), and the events of the rows inserted follow in
// one more statement; SQLite gets a multi-row VALUES with plain "?"
// parameters, which it binds in order, each row with its event for the
// trigger that stores it.
func (s *Store) insertBatch(ctx context.Context, chunk []*invitations.Invitation, evs []*invitations.Event) (*sql.Rows, error) {
	if s.dialect == Postgres {
		var payload bytes.Buffer
		if err := s.appendJSONBatch(&payload, chunk); err != nil {
			return nil, err
		}
		return s.query(ctx, s.q.insertJSON, payload.String())
	}
	query, args, err := s.valuesBatch(chunk, evs)
	if err != nil {
		return nil, err
	}
	return s.runner().QueryContext(ctx, query, args...)
}

// valuesBatch is SQLite's batch insert of chunk and its arguments.
func (s *Store) valuesBatch(chunk []*invitations.Invitation, evs []*invitations.Event) (string, []any, error) {
	var sb strings.Builder
	row := len(columnTable) + 4 // the columns, then the event's
	args := make([]any, 0, len(chunk)*row)
	sb.WriteString("INSERT INTO " + s.table + " (" + columns + ", " + newEventColumns + ") VALUES ")
	for i, inv := range chunk {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?" + strings.Repeat(", ?", row-1) + ")")
		args = s.appendValues(args, inv)
		if evs[i] == nil {
			args = append(args, nil, nil, nil, nil)
			continue
		}
		evArgs, err := s.eventArgs(evs[i])
		if err != nil {
			return "", nil, err
		}
		args = append(args, evArgs...)
	}
	sb.WriteString(skipPendingDuplicate + " RETURNING id")
	return sb.String(), args, nil
}

// pendingHolders names the pending invitations of the emails of the given
// rows, in one SELECT.
func (s *Store) pendingHolders(ctx context.Context, chunk []*invitations.Invitation, which []int) (map[[2]string]uuid.UUID, error) {
	var sb strings.Builder
	args := make([]any, 0, 2*len(which))
	sb.WriteString("SELECT id, account_id, lower(email) FROM " + s.table + " WHERE state = 'pending' AND (account_id, lower(email)) IN (")
	for n, i := range which {
		if n > 0 {
			sb.WriteString(", ")
		}
		args = append(args, chunk[i].AccountID, chunk[i].Email)
		sb.WriteString("(" + s.dialect.positional(len(args)-1) + ", lower(" + s.dialect.positional(len(args)) + "))")
	}
	sb.WriteByte(')')
	rows, err := s.runner().QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fail(ctx, "create many", err)
	}
	defer rows.Close()
	holders := make(map[[2]string]uuid.UUID, len(which))
	for rows.Next() {
		var id uuid.UUID
		var account, email string
		if err := rows.Scan(&id, &account, &email); err != nil {
			return nil, fail(ctx, "create many", err)
		}
		holders[[2]string{account, email}] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "create many", err)
	}
	return holders, nil
}

// Get implements invitations.Store.
func (s *Store) Get(ctx context.Context, accountID string, id uuid.UUID) (*invitations.Invitation, error) {
	inv, err := scanOne(s.queryRow(ctx, s.q.get, id.String(), accountID))
	if err != nil {
		return nil, fail(ctx, "get", err)
	}
	return inv, nil
}

// GetByTokenHash implements invitations.Store.
func (s *Store) GetByTokenHash(ctx context.Context, hash []byte) (*invitations.Invitation, error) {
	inv, err := scanOne(s.queryRow(ctx, s.q.byHash, hash))
	if err != nil {
		return nil, fail(ctx, "get by token", err)
	}
	return inv, nil
}

// Update implements invitations.Store with a conditional UPDATE. Most
// changes keep the link, so the first UPDATE leaves the token columns, and
// their unique index, alone and also requires the stored token hash to be
// the given one; a new link (Regenerate) falls through to the UPDATE of all
// columns. Each statement is atomic on its own and stores the event with
// the change, so that a lost compare-and-set stores none.
func (s *Store) Update(ctx context.Context, inv *invitations.Invitation, expectedVersion int64, ev *invitations.Event) error {
	row := s.rowValues(inv)
	keep := pick(row, setKeep, row[idAt], row[accountAt], expectedVersion, row[tokenHashAt])
	all := pick(row, setAll, row[idAt], row[accountAt], expectedVersion)
	keepQuery, allQuery := s.q.updateKeepToken, s.q.update
	if ev != nil {
		evArgs, err := s.eventArgs(ev)
		if err != nil {
			return fmt.Errorf("sqlstore: update: %w", err)
		}
		keep, all = append(keep, evArgs...), append(all, evArgs...)
		keepQuery, allQuery = s.q.events.updateKeepTokenWithEvent, s.q.events.updateWithEvent
	}
	if n, err := s.updateRows(ctx, keepQuery, keep); n == 1 || err != nil {
		return err
	}
	if n, err := s.updateRows(ctx, allQuery, all); n == 1 || err != nil {
		return err
	}
	var version int64
	err := s.queryRow(ctx, s.q.version, inv.ID.String(), inv.AccountID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: update: %w", invitations.ErrNotFound)
	case err != nil:
		return fail(ctx, "update", err)
	}
	return fmt.Errorf("sqlstore: update: %w", invitations.ErrConflict)
}

func (s *Store) updateRows(ctx context.Context, query string, args []any) (int64, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		if isUniqueViolation(err, s.table+"_pending_email_key") {
			return 0, fmt.Errorf("sqlstore: update: %w", invitations.ErrAlreadyInvited)
		}
		return 0, fail(ctx, "update", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(ctx, "update", err)
	}
	return n, nil
}

// List implements invitations.Store with keyset pagination on the account's
// (created_at, id) index: a page costs the same wherever it starts.
func (s *Store) List(ctx context.Context, f invitations.ListFilter) ([]*invitations.Invitation, error) {
	query, args := s.q.list(s.dialect, f)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fail(ctx, "list", err)
	}
	return s.collect(ctx, rows, "list", f.Limit)
}

// ListDue implements invitations.Store on a partial index of the due
// invitations.
func (s *Store) ListDue(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	rows, err := s.query(ctx, s.q.listDue, s.dialect.timeValue(now), limit)
	if err != nil {
		return nil, fail(ctx, "list due", err)
	}
	return s.collect(ctx, rows, "list due", limit)
}

// ListRemindable implements invitations.Store on a partial index of the
// pending invitations that may need a reminder.
func (s *Store) ListRemindable(ctx context.Context, now, until time.Time, limit int) ([]*invitations.Invitation, error) {
	rows, err := s.query(ctx, s.q.listRemindable, s.dialect.timeValue(now), s.dialect.timeValue(until), limit)
	if err != nil {
		return nil, fail(ctx, "list remindable", err)
	}
	return s.collect(ctx, rows, "list remindable", limit)
}

// collect reads every row of a result; a row error discards the rows read
// so far, so that no caller mistakes a cut-short result for a complete one.
func (s *Store) collect(ctx context.Context, rows *sql.Rows, op string, capacity int) ([]*invitations.Invitation, error) {
	defer rows.Close()
	out := make([]*invitations.Invitation, 0, capacity)
	dest := newDest()
	for rows.Next() {
		inv, err := scan(rows, dest)
		if err != nil {
			return nil, fail(ctx, op, err)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, op, err)
	}
	return out, nil
}

// Count implements invitations.Store with one statement served by the
// account's indexes, without reading the table's rows.
func (s *Store) Count(ctx context.Context, accountID string, now time.Time) (map[invitations.Status]int, error) {
	rows, err := s.query(ctx, s.q.count, accountID, s.dialect.timeValue(now))
	if err != nil {
		return nil, fail(ctx, "count", err)
	}
	defer rows.Close()
	counts := make(map[invitations.Status]int, 5)
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fail(ctx, "count", err)
		}
		counts[invitations.Status(state)] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "count", err)
	}
	// The first part counted the expired ones as pending.
	counts[invitations.StatusPending] -= counts[invitations.StatusExpired]
	return counts, nil
}

// purgeBatch is how many rows one statement of DeleteEnded deletes: small
// enough that no statement holds its locks for long, large enough that a
// million rows take a few hundred statements. SQLite's is smaller because
// its batch holds the one write lock: at a million rows 2,000 took up to
// 0.97 s, PostgreSQL's at most 0.56 s (TestPurgeScale).
func (s *Store) purgeBatch() int {
	if s.dialect == SQLite {
		return 500
	}
	return 2000
}

// DeleteEnded implements invitations.Store in batches (500 rows on SQLite,
// 2,000 on PostgreSQL), each a transaction: a statement found by an
// index (migration 006) deletes the rows and returns their IDs; on
// PostgreSQL a second one deletes their history off its (invitation_id,
// seq) index, reading anew (READ COMMITTED), so that an event committed
// for a row while the first waited for its lock goes too; on SQLite a
// trigger of migration 010 deletes it within the first. Other writers
// wait for one batch at most, never for the whole purge. On a Store from
// WithTx every batch runs in the caller's transaction, and its locks are
// held until that ends.
func (s *Store) DeleteEnded(ctx context.Context, endedBefore, expiredBefore time.Time) (int, error) {
	total := 0
	for _, step := range []struct {
		query  string
		cutoff time.Time
	}{{s.q.deleteEnded, endedBefore}, {s.q.deleteExpired, expiredBefore}} {
		for {
			began := time.Now()
			var n int
			s.warm(ctx, step.query)
			if s.dialect == Postgres {
				s.warm(ctx, s.q.events.deleteEvents)
			}
			err := s.atomically(ctx, "delete ended", nil, func(st *Store) error {
				rows, err := st.query(ctx, step.query, s.dialect.timeValue(step.cutoff), s.purgeBatch())
				if err != nil {
					return fail(ctx, "delete ended", err)
				}
				ids, err := scanIDs(rows)
				if err != nil {
					return fail(ctx, "delete ended", err)
				}
				n = len(ids)
				if err := st.deleteHistory(ctx, ids); err != nil {
					return fail(ctx, "delete ended", err)
				}
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			if s.onPurgeBatch != nil {
				s.onPurgeBatch(n, time.Since(began))
			}
			if n < s.purgeBatch() {
				break
			}
		}
	}
	return total, nil
}

func scanOne(row rowScanner) (*invitations.Invitation, error) {
	inv, err := scan(row, newDest())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, invitations.ErrNotFound
	}
	return inv, err
}
