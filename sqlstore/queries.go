package sqlstore

import (
	"strings"

	"github.com/invitekit/invitations"
)

// skipPendingDuplicate ends an INSERT of invitations: the conflict target
// names the partial unique index, so only a duplicate pending invitation
// is absorbed; any other violation (id, token hash) still fails loudly.
const skipPendingDuplicate = " ON CONFLICT (account_id, lower(email)) WHERE state = 'pending' DO NOTHING"

// queries are the statements of one Store, built once by New.
type queries struct {
	insert, pendingID, get, byHash, version, deleteEnded, deleteExpired, listDue, count string
	listRemindable                                                                      string
	insertJSON                                                                          string // PostgreSQL: a batch as one JSON parameter
	update, updateKeepToken                                                             string
	listHead                                                                            string // SELECT columns FROM table
	table                                                                               string
	limits                                                                              limitQueries
	events                                                                              eventQueries
}

func buildQueries(d Dialect, table string) queries {
	p := d.param
	params := func(from, n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = p(from + i)
		}
		return strings.Join(list, ", ")
	}
	var set []string
	for i, at := range setAll {
		set = append(set, columnTable[at].name+" = "+p(i+1))
	}
	n := len(setAll)
	kept := len(setKeep)
	q := queries{
		insert: "INSERT INTO " + table + " (" + columns + ") VALUES (" + params(1, len(columnTable)) + ")" + skipPendingDuplicate,
		pendingID: "SELECT id FROM " + table + " WHERE account_id = " + p(1) +
			" AND lower(email) = lower(" + p(2) + ") AND state = 'pending'",
		get:    "SELECT " + columns + " FROM " + table + " WHERE id = " + p(1) + " AND account_id = " + p(2),
		byHash: "SELECT " + columns + " FROM " + table + " WHERE token_hash = " + p(1),
		update: "UPDATE " + table + " SET " + strings.Join(set, ", ") +
			" WHERE id = " + p(n+1) + " AND account_id = " + p(n+2) + " AND version = " + p(n+3),
		updateKeepToken: "UPDATE " + table + " SET " + strings.Join(set[:kept], ", ") +
			" WHERE id = " + p(kept+1) + " AND account_id = " + p(kept+2) + " AND version = " + p(kept+3) +
			" AND token_hash = " + p(kept+4),
		version: "SELECT version FROM " + table + " WHERE id = " + p(1) + " AND account_id = " + p(2),
		// Purge in batches, each off its own index (migration 006). The
		// outer WHERE repeats the condition: on PostgreSQL a row changed
		// by a concurrent transaction (an expired link regenerated) is
		// checked again in its new version, and kept if it no longer
		// qualifies. The IDs it returns name the history to delete.
		deleteEnded: "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table + " WHERE " + endedBefore(p(1)) +
			" LIMIT " + p(2) + ") AND " + endedBefore(p(1)) + " RETURNING id",
		deleteExpired: "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table + " WHERE " + expiredBefore(p(1)) +
			" LIMIT " + p(2) + ") AND " + expiredBefore(p(1)) + " RETURNING id",
		listDue: "SELECT " + columns + " FROM " + table + " WHERE delivery_due <> '' AND delivery_next_at <= " + p(1) +
			" ORDER BY delivery_next_at, id LIMIT " + p(2),
		listHead: "SELECT " + columns + " FROM " + table,
		// The WHERE repeats the predicate of the partial index, so that it
		// serves the query; a failed delivery (a bounced address, rare) is
		// filtered out of what the index yields.
		listRemindable: "SELECT " + columns + " FROM " + table + " WHERE state = 'pending' AND delivery_due = '' AND delivery_failed_at IS NULL" +
			" AND (delivery_reminded_at IS NULL OR delivery_reminded_at < sent_at)" +
			" AND expires_at > " + p(1) + " AND expires_at <= " + p(2) + " ORDER BY expires_at, id LIMIT " + p(3),
		insertJSON: "INSERT INTO " + table + " (" + columns + ") SELECT " + jsonSelect +
			" FROM json_to_recordset(" + p(1) + "::json) AS r(" + jsonRecord + ")" +
			skipPendingDuplicate + " RETURNING id",
		table:  table,
		limits: buildLimitQueries(d, table),
		// Totals per stored state off the (account, state, ...) index, and
		// the expired among the pending off the partial expiry index.
		count: "SELECT state, count(*) FROM " + table + " WHERE account_id = " + p(1) + " GROUP BY state" +
			" UNION ALL SELECT 'expired', count(*) FROM " + table + " WHERE account_id = " + p(1) +
			" AND state = 'pending' AND expires_at <= " + p(2),
	}
	q.events = buildEventQueries(d, table, &q)
	return q
}

// endedAt and expiredAt are the expressions of the indexes of migration
// 006, written exactly as there so that the planners use them: when an
// ended invitation ended, and when a pending one's link expires (NULL for
// the others).
const (
	endedAt   = "(CASE state WHEN 'accepted' THEN accepted_at WHEN 'declined' THEN declined_at WHEN 'revoked' THEN revoked_at END)"
	expiredAt = "(CASE state WHEN 'pending' THEN expires_at END)"
)

func endedBefore(param string) string { return endedAt + " < " + param }

func expiredBefore(param string) string { return expiredAt + " < " + param }

// list builds one page's query. Status values come from the validated
// invitations.Status constants, never from raw input, but are bound as
// parameters all the same.
//
// Without a search, a page walks the account's (created_at, id) index
// from the cursor and stops after Limit rows. With one, the matches are
// collected first from the covering email index (a MATERIALIZED CTE, so
// that no planner walks the whole account in date order hoping to meet
// matches early), the page is picked among them, and only its rows are
// read: the cost follows the number of matches, never the account's size.
func (q *queries) list(d Dialect, f invitations.ListFilter) (string, []any) {
	var where strings.Builder
	args := []any{f.AccountID}
	bind := func(v any) string {
		args = append(args, v)
		return d.param(len(args))
	}
	where.WriteString("account_id = " + d.param(1))
	if f.Search != "" {
		// A prefix is the range [prefix, prefix with its last byte + 1):
		// byte-wise, so that the (account_id, email) index serves it.
		// Emails are ASCII (the Service finds nothing for other prefixes),
		// so the upper bound is ASCII too.
		email := "email"
		if d == Postgres {
			email = `email COLLATE "C"`
		}
		upper := f.Search[:len(f.Search)-1] + string(f.Search[len(f.Search)-1]+1)
		where.WriteString(" AND " + email + " >= " + bind(f.Search) + " AND " + email + " < " + bind(upper))
	}
	switch f.Status {
	case "":
	case invitations.StatusPending:
		where.WriteString(" AND state = 'pending' AND expires_at > " + bind(d.timeValue(f.Now)))
	case invitations.StatusExpired:
		where.WriteString(" AND state = 'pending' AND expires_at <= " + bind(d.timeValue(f.Now)))
	default:
		where.WriteString(" AND state = " + bind(string(f.Status)))
	}
	if f.After != nil {
		where.WriteString(" AND (created_at, id) < (" + bind(d.timeValue(f.After.CreatedAt)) + ", " + bind(f.After.ID.String()) + ")")
	}
	const order = " ORDER BY created_at DESC, id DESC"
	limit := " LIMIT " + bind(f.Limit)
	if f.Search == "" {
		return q.listHead + " WHERE " + where.String() + order + limit, args
	}
	return "WITH matches AS MATERIALIZED (SELECT id, created_at FROM " + q.table + " WHERE " + where.String() + ")" +
		" " + q.listHead + " WHERE id IN (SELECT id FROM matches" + order + limit + ")" + order, args
}
