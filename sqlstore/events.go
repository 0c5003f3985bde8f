package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// eventQueries are the statements of the history (migrations 009 and
// 010).
type eventQueries struct {
	// insertWithEvent, updateWithEvent and updateKeepTokenWithEvent make
	// a change and store its event in one statement, so that a change
	// that stores nothing (a refused row, a lost compare-and-set) stores
	// no event either, and no transaction is needed around them. On
	// PostgreSQL the event is inserted from the change's RETURNING (a
	// data-modifying CTE); on SQLite, whose INSERT and UPDATE cannot feed
	// another statement, the change hands the event to a trigger
	// (migration 010) through the row's new_event columns, which the
	// trigger moves to the history and clears.
	insertWithEvent, updateWithEvent, updateKeepTokenWithEvent string
	history, feed, accountFeed, deleteEvents                   string
	// heldBack and accountHeldBack (PostgreSQL) tell whether committed
	// events wait after a position behind a transaction still running.
	heldBack, accountHeldBack string
}

// eventColumns are the columns of a history row that a write of an
// event gives, in the order of eventValues.
const eventColumns = "id, account_id, invitation_id, kind, at, key_id, event"

// newEventColumns are SQLite's columns of an invitation that carry an
// event to the trigger that stores it, in the order of eventArgs.
const newEventColumns = "new_event_id, new_event_kind, new_event_at, new_event"

func buildEventQueries(d Dialect, table string, q *queries) eventQueries {
	p := d.param
	events := table + "_events"
	var e eventQueries
	if d == Postgres {
		e.history = "SELECT event, key_id FROM " + events + " WHERE invitation_id = " + p(1) + " AND account_id = " + p(2) +
			" ORDER BY seq"
		// from inserts the event (parameters from n on) for the rows of
		// a CTE that made the change; the key ID is the changed row's.
		from := func(cte string, n int) string {
			return "INSERT INTO " + events + " (" + eventColumns + ") SELECT " + p(n) + "::uuid, " + cte + ".account_id, " +
				cte + ".id, " + p(n+1) + ", " + p(n+2) + "::timestamptz, " + cte + ".key_id, " + p(n+3) + "::json FROM " + cte
		}
		const returning = " RETURNING id, account_id, key_id) "
		e.insertWithEvent = "WITH ins AS (" + q.insert + returning + from("ins", len(columnTable)+1)
		e.updateWithEvent = "WITH changed AS (" + q.update + returning + from("changed", len(setAll)+4)
		e.updateKeepTokenWithEvent = "WITH changed AS (" + q.updateKeepToken + returning + from("changed", len(setKeep)+5)
		// Only the events of transactions below the oldest one still
		// running: each of those has ended, so no event can ever be
		// committed before the last one handed out.
		const visible = " AND txid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY txid, seq LIMIT "
		e.feed = "SELECT txid::text AS tx, seq, event, key_id FROM " + events +
			" WHERE (txid, seq) > (" + p(1) + "::text::xid8, " + p(2) + ")" + visible + p(3)
		e.accountFeed = "SELECT txid::text AS tx, seq, event, key_id FROM " + events + " WHERE account_id = " + p(1) +
			" AND (txid, seq) > (" + p(2) + "::text::xid8, " + p(3) + ")" + visible + p(4)
		e.deleteEvents = "DELETE FROM " + events + " WHERE invitation_id = ANY(" + p(1) + "::text::uuid[])"
		const held = " AND txid >= pg_snapshot_xmin(pg_current_snapshot()))"
		e.heldBack = "SELECT EXISTS (SELECT 1 FROM " + events + " WHERE (txid, seq) > (" + p(1) + "::text::xid8, " + p(2) + ")" + held
		e.accountHeldBack = "SELECT EXISTS (SELECT 1 FROM " + events + " WHERE account_id = " + p(3) +
			" AND (txid, seq) > (" + p(1) + "::text::xid8, " + p(2) + ")" + held
	} else {
		// The event's parameters follow the change's own.
		set := func(n int) string {
			return "new_event_id = " + p(n) + ", new_event_kind = " + p(n+1) + ", new_event_at = " + p(n+2) +
				", new_event = " + p(n+3) + ", "
		}
		values := make([]string, len(columnTable)+4)
		for i := range values {
			values[i] = p(i + 1)
		}
		e.insertWithEvent = "INSERT INTO " + table + " (" + columns + ", " + newEventColumns + ") VALUES (" +
			strings.Join(values, ", ") + ")" + skipPendingDuplicate
		e.updateWithEvent = strings.Replace(q.update, " SET ", " SET "+set(len(setAll)+4), 1)
		e.updateKeepTokenWithEvent = strings.Replace(q.updateKeepToken, " SET ", " SET "+set(len(setKeep)+5), 1)
		// The invitation's row lists the positions of its history
		// (migration 010).
		e.history = "SELECT e.event, e.key_id FROM " + table + " AS i, json_each('[' || i.event_seqs || ']') AS j, " +
			events + " AS e WHERE i.id = " + p(1) + " AND i.account_id = " + p(2) + " AND e.seq = j.value ORDER BY e.seq"
		// A placeholder (migration 010) has no account: the feed of
		// every account skips it, and no account's feed meets it.
		e.feed = "SELECT seq, event, key_id FROM " + events + " WHERE seq > " + p(1) + " AND account_id <> '' ORDER BY seq LIMIT " + p(2)
		e.accountFeed = "SELECT seq, event, key_id FROM " + events + " WHERE account_id = " + p(1) +
			" AND seq > " + p(2) + " ORDER BY seq LIMIT " + p(3)
	}
	return e
}

// eventValues are the values of eventColumns for ev, the event of inv.
// The Event's JSON form leaves out the token; its key ID goes in a
// column of its own.
func (s *Store) eventValues(inv *invitations.Invitation, ev *invitations.Event) ([]any, error) {
	v, err := s.eventArgs(ev)
	if err != nil {
		return nil, err
	}
	return []any{v[0], inv.AccountID, inv.ID.String(), v[1], v[2], ev.Invitation.Token.KeyID, v[3]}, nil
}

// eventArgs are the arguments of ev that follow a change's own in a
// statement of insertWithEvent, updateWithEvent or
// updateKeepTokenWithEvent: the values the changed row does not hold.
func (s *Store) eventArgs(ev *invitations.Event) ([]any, error) {
	body, err := marshalEvent(ev)
	if err != nil {
		return nil, err
	}
	return []any{ev.ID.String(), string(ev.Kind), s.dialect.timeValue(ev.At), string(body)}, nil
}

// insertEvents writes the events of rows CreateMany just inserted on
// PostgreSQL, in one statement (on SQLite the trigger stored them).
func (s *Store) insertEvents(ctx context.Context, invs []*invitations.Invitation, evs []*invitations.Event) error {
	var sb strings.Builder
	var args []any
	sb.WriteString("INSERT INTO " + s.table + "_events (" + eventColumns + ") VALUES ")
	types := [...]string{"uuid", "text", "uuid", "text", "timestamptz", "text", "json"}
	for i, ev := range evs {
		v, err := s.eventValues(invs[i], ev)
		if err != nil {
			return err
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range v {
			if c > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(s.dialect.param(len(args)+c+1) + "::" + types[c])
		}
		sb.WriteByte(')')
		args = append(args, v...)
	}
	_, err := s.runner().ExecContext(ctx, sb.String(), args...)
	return err
}

// History implements invitations.Store: on PostgreSQL off the
// (invitation_id, seq) index, on SQLite from the positions of its events
// that the invitation's row lists.
func (s *Store) History(ctx context.Context, accountID string, id uuid.UUID) ([]invitations.Event, error) {
	rows, err := s.query(ctx, s.q.events.history, id.String(), accountID)
	if err != nil {
		return nil, fail(ctx, "history", err)
	}
	defer rows.Close()
	var out []invitations.Event
	for rows.Next() {
		var body, keyID string
		if err := rows.Scan(&body, &keyID); err != nil {
			return nil, fail(ctx, "history", err)
		}
		ev, err := decodeEvent(body, keyID)
		if err != nil {
			return nil, fail(ctx, "history", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "history", err)
	}
	return out, nil
}

func decodeEvent(body, keyID string) (invitations.Event, error) {
	var ev invitations.Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return ev, fmt.Errorf("decoding event: %w", err)
	}
	ev.Invitation.Token.KeyID = keyID
	return ev, nil
}

var errBadPosition = fmt.Errorf("sqlstore: list events: %w: not a position of this store's feed", invitations.ErrInvalidInput)

// ListEvents implements invitations.Store with keyset pagination, so that
// a page costs the same at the start of the feed and at its end.
//
// On PostgreSQL a position is "txid:seq": the ID of the transaction that
// wrote the event and the event's number. A sequence alone would not do:
// a transaction that took number 7 can commit after another's number 8
// was read, and a reader past 8 would never see 7. So the feed is ordered
// by transaction ID and hands out only the events of transactions below
// the oldest one still running (pg_snapshot_xmin of the statement's
// snapshot): those have all ended, and every transaction that has not
// yet written gets a higher ID, so no event can ever be committed below
// a position handed out. The price: a long transaction that writes
// anywhere in the database (a host transaction through WithTx, a
// migration, a bulk import) holds the feed back until it ends; it does
// not hold up writers, and a reader takes no locks, so it cannot deadlock
// with LockAccount. Served by the (txid, seq) primary key, or by the
// (account_id, txid, seq) index for one account. Transaction IDs are the
// cluster's, so a long transaction in another database of the same
// server holds the feed back too.
//
// A page that comes back short while events committed after it wait
// behind a running transaction waits for that transaction, polling, up to
// a second: a reader that has caught up then sees what was committed
// before it asked, unless a longer transaction holds it back. A Store
// from WithTx does not wait: its own transaction, once it has written,
// holds back every event after it until it ends.
//
// On SQLite, whose writers take turns, the order of seq is the order of
// commits, and a position is that number: a new event's is one past the
// highest in the table, whose row a purge never deletes (migration 010
// leaves a placeholder), so no position handed out comes back, with one
// exception: a Store from WithTx sees its transaction's own events, and
// if that transaction rolls back their positions are taken again. Read
// the feed outside transactions, as the Service does (its Events refuses
// inside InTx with invitations.ErrInTx).
func (s *Store) ListEvents(ctx context.Context, f invitations.EventFilter) ([]invitations.Event, string, error) {
	var txid uint64
	var seq int64
	if s.dialect == Postgres {
		var err error
		if txid, seq, err = parsePosition(f.After); err != nil {
			return nil, "", err
		}
	} else if f.After != "" {
		n, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || n < 0 {
			return nil, "", errBadPosition
		}
		seq = n
	}
	waited := time.Duration(0)
	for delay := time.Millisecond; ; delay = min(2*delay, 20*time.Millisecond) {
		out, next, err := s.eventPage(ctx, f, txid, seq)
		if err != nil || len(out) == f.Limit || s.dialect != Postgres || s.tx != nil || waited >= maxHoldBackWait {
			return out, next, err
		}
		args := []any{strconv.FormatUint(txid, 10), seq}
		query := s.q.events.heldBack
		if f.AccountID != "" {
			args, query = append(args, f.AccountID), s.q.events.accountHeldBack
		}
		var held bool
		if err := s.queryRow(ctx, query, args...).Scan(&held); err != nil {
			return nil, "", fail(ctx, "list events", err)
		}
		if !held {
			return out, next, nil
		}
		select {
		case <-ctx.Done():
			return out, next, nil
		case <-time.After(delay):
		}
		waited += delay
	}
}

// maxHoldBackWait bounds how long a short page of the PostgreSQL feed
// waits for the running transactions that hold back events already
// committed after it.
const maxHoldBackWait = time.Second

// eventPage reads one page of the feed after the position (txid, seq)
// (SQLite: seq).
func (s *Store) eventPage(ctx context.Context, f invitations.EventFilter, txid uint64, seq int64) ([]invitations.Event, string, error) {
	var args []any
	query := s.q.events.feed
	if f.AccountID != "" {
		args, query = append(args, f.AccountID), s.q.events.accountFeed
	}
	if s.dialect == Postgres {
		args = append(args, strconv.FormatUint(txid, 10))
	}
	args = append(args, seq, f.Limit)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, "", fail(ctx, "list events", err)
	}
	defer rows.Close()
	out := make([]invitations.Event, 0, min(f.Limit, 1000))
	next := f.After
	for rows.Next() {
		var txid, body, keyID string
		var seq int64
		dest := []any{&seq, &body, &keyID}
		if s.dialect == Postgres {
			dest = append([]any{&txid}, dest...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, "", fail(ctx, "list events", err)
		}
		ev, err := decodeEvent(body, keyID)
		if err != nil {
			return nil, "", fail(ctx, "list events", err)
		}
		out = append(out, ev)
		next = strconv.FormatInt(seq, 10)
		if s.dialect == Postgres {
			next = txid + ":" + next
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fail(ctx, "list events", err)
	}
	return out, next, nil
}

// parsePosition reads a PostgreSQL position, "txid:seq"; "" is the start.
func parsePosition(pos string) (txid uint64, seq int64, err error) {
	if pos == "" {
		return 0, 0, nil
	}
	t, q, ok := strings.Cut(pos, ":")
	if !ok {
		return 0, 0, errBadPosition
	}
	txid, err1 := strconv.ParseUint(t, 10, 64)
	seq, err2 := strconv.ParseInt(q, 10, 64)
	if err1 != nil || err2 != nil || seq < 0 || txid > 1<<63-1 {
		return 0, 0, errBadPosition
	}
	return txid, seq, nil
}

// deleteHistory deletes the events of the invitations with these IDs
// (DeleteEnded), in the transaction that deletes them. On SQLite a
// trigger of migration 010 deletes an invitation's history with it.
func (s *Store) deleteHistory(ctx context.Context, ids []string) error {
	if len(ids) == 0 || s.dialect != Postgres {
		return nil
	}
	_, err := s.exec(ctx, s.q.events.deleteEvents, "{"+strings.Join(ids, ",")+"}")
	return err
}

// scanIDs reads a result of IDs as text.
func scanIDs(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id.String())
	}
	return ids, errors.Join(rows.Err(), rows.Close())
}
