package sqlstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/invitekit/invitations"
)

// columnTable is the invitations table, one column a line, in the order of every
// statement that lists them. The column lists of the statements, the JSON
// record of PostgreSQL's batch insert, the arguments of every write and the
// scan targets of every read all derive from it, so that a new field of
// invitations.Invitation is one line here, one migration, and nothing else:
// TestEveryFieldPersists fails until both are there.
//
// The order is that of the statements' column lists: changing it changes
// their text, and with it the prepared statements and the plans the
// EXPLAIN tests check; a new column goes at the end.
var columnTable = [...]column{
	{name: "id", json: "uuid", write: onInsert,
		value: func(_ Dialect, inv *invitations.Invitation) any { return inv.ID.String() },
		scan:  func(inv *invitations.Invitation) any { return &inv.ID }},
	text("account_id", onInsert, func(inv *invitations.Invitation) *string { return &inv.AccountID }),
	text("email", onInsert, func(inv *invitations.Invitation) *string { return &inv.Email }),
	text("name", onUpdate, func(inv *invitations.Invitation) *string { return &inv.Name }),
	{name: "roles", json: "text", write: onUpdate, value: rolesValue,
		scan: func(inv *invitations.Invitation) any { return rolesColumn{&inv.Roles} }},
	text("invited_by", onUpdate, func(inv *invitations.Invitation) *string { return &inv.InvitedBy }),
	{name: "metadata", json: "text", write: onUpdate, value: metadataValue,
		scan: func(inv *invitations.Invitation) any { return metadataColumn{&inv.Metadata} }},
	text("state", onUpdate, func(inv *invitations.Invitation) *invitations.Status { return &inv.State }),
	timestamp("created_at", onInsert, func(inv *invitations.Invitation) *time.Time { return &inv.CreatedAt }),
	timestamp("sent_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.SentAt }),
	timestamp("expires_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.ExpiresAt }),
	timestamp("accepted_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.AcceptedAt }),
	timestamp("declined_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.DeclinedAt }),
	timestamp("revoked_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.RevokedAt }),
	number("send_count", "integer", onUpdate, func(inv *invitations.Invitation) *int { return &inv.SendCount }),
	number("version", "bigint", onUpdate, func(inv *invitations.Invitation) *int64 { return &inv.Version }),
	text("delivery_due", onUpdate, func(inv *invitations.Invitation) *invitations.MessageKind { return &inv.Delivery.Due }),
	number("delivery_attempts", "integer", onUpdate, func(inv *invitations.Invitation) *int { return &inv.Delivery.Attempts }),
	text("delivery_last_error", onUpdate, func(inv *invitations.Invitation) *string { return &inv.Delivery.LastError }),
	timestamp("delivery_next_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.Delivery.NextAttempt }),
	timestamp("delivered_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.Delivery.DeliveredAt }),
	timestamp("delivery_failed_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.Delivery.FailedAt }),
	timestamp("delivery_reminded_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.Delivery.RemindedAt }),
	timestamp("link_copied_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.LinkCopiedAt }),
	timestamp("delivery_claimed_at", onUpdate, func(inv *invitations.Invitation) *time.Time { return &inv.Delivery.ClaimedAt }),
	text("key_id", withToken, func(inv *invitations.Invitation) *string { return &inv.Token.KeyID }),
	secret("token_nonce", withToken, func(inv *invitations.Invitation) *invitations.SecretBytes { return &inv.Token.Nonce }),
	secret("token_hash", withToken, func(inv *invitations.Invitation) *invitations.SecretBytes { return &inv.Token.Hash }),
}

// column is one column of the table: how it is written from an
// invitation, read back into one, and typed where a statement needs its
// type.
type column struct {
	name string
	// json is the column's type in the record of PostgreSQL's batch
	// insert (json_to_recordset). A bytea travels as base64 text, which
	// the INSERT's SELECT decodes.
	json  string
	write writeRule
	// value is what a statement binds for the column on the dialect.
	value func(Dialect, *invitations.Invitation) any
	// scan is the Scan destination that reads the column into inv: a
	// pointer database/sql reads directly, or a small Scanner that
	// converts, so that a read costs no reflection and no second pass.
	scan func(inv *invitations.Invitation) any
}

// writeRule says which statements write a column.
type writeRule int

const (
	// onInsert: written once, never updated (an invitation's identity:
	// its ID, account, email and creation time).
	onInsert writeRule = iota + 1
	// onUpdate: rewritten by every Update.
	onUpdate
	// withToken: the material of the link, rewritten only by the Update
	// that replaces the link; the one that keeps it leaves the columns,
	// and their unique index, alone.
	withToken
)

// text is a text column of a string field, or of a string type such as
// invitations.Status.
func text[T ~string](name string, w writeRule, field func(*invitations.Invitation) *T) column {
	return column{
		name: name, json: "text", write: w,
		value: func(_ Dialect, inv *invitations.Invitation) any { return string(*field(inv)) },
		scan:  func(inv *invitations.Invitation) any { return textColumn[T]{field(inv)} },
	}
}

// number is an integer column (json names its SQL type) of an int field.
func number[T int | int64](name, json string, w writeRule, field func(*invitations.Invitation) *T) column {
	return column{
		name: name, json: json, write: w,
		value: func(_ Dialect, inv *invitations.Invitation) any { return *field(inv) },
		scan:  func(inv *invitations.Invitation) any { return field(inv) },
	}
}

// timestamp is a time column (see Dialect.timeValue); the zero time is
// NULL.
func timestamp(name string, w writeRule, field func(*invitations.Invitation) *time.Time) column {
	return column{
		name: name, json: "timestamptz", write: w,
		value: func(d Dialect, inv *invitations.Invitation) any { return d.timeValue(*field(inv)) },
		scan:  func(inv *invitations.Invitation) any { return timeColumn{field(inv)} },
	}
}

// secret is a bytea (PostgreSQL) or blob (SQLite) column of token material.
func secret(name string, w writeRule, field func(*invitations.Invitation) *invitations.SecretBytes) column {
	return column{
		name: name, json: "bytea", write: w,
		value: func(_ Dialect, inv *invitations.Invitation) any { return []byte(*field(inv)) },
		scan:  func(inv *invitations.Invitation) any { return bytesColumn{field(inv)} },
	}
}

// rolesValue is the JSON array of the roles. Encoding a []string cannot
// fail.
func rolesValue(_ Dialect, inv *invitations.Invitation) any {
	roles, _ := json.Marshal(inv.Roles)
	return string(roles)
}

// metadataValue is the JSON object of the metadata, "{}" when there is
// none (the common case, which a read then need not decode). Encoding a
// map[string]string cannot fail.
func metadataValue(_ Dialect, inv *invitations.Invitation) any {
	if len(inv.Metadata) == 0 {
		return "{}"
	}
	metadata, _ := json.Marshal(inv.Metadata)
	return string(metadata)
}

// The column lists of the statements, in columnTable order.
var (
	// columns names every column, as INSERT and SELECT list them.
	columns = names(columnTable[:], func(c column) string { return c.name })
	// jsonRecord types the columns of PostgreSQL's JSON batch.
	jsonRecord = names(columnTable[:], func(c column) string {
		if c.json == "bytea" {
			return c.name + " text"
		}
		return c.name + " " + c.json
	})
	// jsonSelect reads a column out of that record.
	jsonSelect = names(columnTable[:], func(c column) string {
		if c.json == "bytea" {
			return "decode(" + c.name + ", 'base64')"
		}
		return c.name
	})
	// setAll are the positions in columnTable of the columns an Update
	// writes: those every Update does, then the token's, which only an
	// Update that replaces the link writes. The one that keeps the link
	// sets setKeep, a prefix of the same list, so that both statements
	// bind their values in the same order.
	setAll  = append(positions(onUpdate), positions(withToken)...)
	setKeep = setAll[:len(positions(onUpdate)):len(positions(onUpdate))]
	// The positions of the columns that find the row to update.
	idAt, accountAt, tokenHashAt = position("id"), position("account_id"), position("token_hash")
)

func names(cols []column, name func(column) string) string {
	list := make([]string, len(cols))
	for i, c := range cols {
		list[i] = name(c)
	}
	return strings.Join(list, ", ")
}

func positions(w writeRule) []int {
	var at []int
	for i, c := range columnTable {
		if c.write == w {
			at = append(at, i)
		}
	}
	return at
}

// position is the position of a column the statements name in their
// conditions; a missing one is a mistake in columnTable, found at start-up.
func position(name string) int {
	for i, c := range columnTable {
		if c.name == name {
			return i
		}
	}
	panic("sqlstore: no column " + name)
}

// rowValues returns the invitation's column values in columnTable order.
func (s *Store) rowValues(inv *invitations.Invitation) []any {
	return s.appendValues(make([]any, 0, len(columnTable)), inv)
}

// appendValues appends the invitation's column values in columnTable order.
func (s *Store) appendValues(args []any, inv *invitations.Invitation) []any {
	for _, c := range columnTable {
		args = append(args, c.value(s.dialect, inv))
	}
	return args
}

// pick returns the values at the given positions of row, then extra.
func pick(row []any, at []int, extra ...any) []any {
	args := make([]any, 0, len(at)+len(extra))
	for _, i := range at {
		args = append(args, row[i])
	}
	return append(args, extra...)
}

// appendJSONBatch appends the invitations as the JSON array of objects
// that PostgreSQL's batch insert reads with jsonRecord: each column under
// its name, with its bound value encoded by encoding/json (times in RFC
// 3339 with microseconds or null, bytes in base64).
func (s *Store) appendJSONBatch(buf *bytes.Buffer, chunk []*invitations.Invitation) error {
	enc := json.NewEncoder(buf)
	buf.WriteByte('[')
	for i, inv := range chunk {
		if i > 0 {
			buf.WriteByte(',')
		}
		for j, c := range columnTable {
			if j == 0 {
				buf.WriteString(`{"`)
			} else {
				buf.WriteString(`,"`)
			}
			buf.WriteString(c.name)
			buf.WriteString(`":`)
			if err := enc.Encode(c.value(s.dialect, inv)); err != nil {
				return err
			}
			buf.Truncate(buf.Len() - 1) // Encode ends each value with a newline
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
	return nil
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// newDest returns a slice for scan's destinations, to be reused row after
// row.
func newDest() []any { return make([]any, len(columnTable)) }

// scan reads one row of every column into a new invitation, through dest
// (from newDest).
func scan(row rowScanner, dest []any) (*invitations.Invitation, error) {
	inv := new(invitations.Invitation)
	for i, c := range columnTable {
		dest[i] = c.scan(inv)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return inv, nil
}

// textColumn reads a text column into a string type.
type textColumn[T ~string] struct{ p *T }

func (c textColumn[T]) Scan(v any) error {
	switch v := v.(type) {
	case string:
		*c.p = T(v)
	case []byte:
		*c.p = T(v)
	default:
		return fmt.Errorf("sqlstore: cannot read text from %T", v)
	}
	return nil
}

// bytesColumn reads a bytea or blob column; a driver may reuse the bytes
// it hands over, so they are copied.
type bytesColumn struct{ p *invitations.SecretBytes }

func (c bytesColumn) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.p = nil
	case []byte:
		*c.p = append(invitations.SecretBytes(nil), v...)
	case string:
		*c.p = invitations.SecretBytes(v)
	default:
		return fmt.Errorf("sqlstore: cannot read bytes from %T", v)
	}
	return nil
}

// rolesColumn reads the JSON array of roles.
type rolesColumn struct{ p *[]string }

func (c rolesColumn) Scan(v any) error {
	text, err := textOf(v)
	if err != nil {
		return err
	}
	if *c.p, err = decodeRoles(text); err != nil {
		return fmt.Errorf("decoding roles: %w", err)
	}
	return nil
}

// decodeRoles reads the JSON array of roles. Roles rarely need escaping, and
// json.Unmarshal was a tenth of a List page's cost, so a plain array of
// strings without backslashes is split directly.
func decodeRoles(text string) ([]string, error) {
	inner, ok := strings.CutPrefix(text, `["`)
	if inner, ok2 := strings.CutSuffix(inner, `"]`); ok && ok2 && !strings.ContainsRune(inner, '\\') {
		return strings.Split(inner, `","`), nil
	}
	var roles []string
	err := json.Unmarshal([]byte(text), &roles)
	return roles, err
}

// metadataColumn reads the JSON object of the metadata; "{}", the common
// case, needs no decoding and reads as nil.
type metadataColumn struct{ p *map[string]string }

func (c metadataColumn) Scan(v any) error {
	text, err := textOf(v)
	if err != nil || text == "{}" {
		return err
	}
	if err := json.Unmarshal([]byte(text), c.p); err != nil {
		return fmt.Errorf("decoding metadata: %w", err)
	}
	if len(*c.p) == 0 {
		*c.p = nil
	}
	return nil
}

func textOf(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	return "", fmt.Errorf("sqlstore: cannot read text from %T", v)
}
