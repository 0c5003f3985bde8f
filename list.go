package invitations

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf8"
)

// Paging limits of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// ListQuery asks for one page of an account's invitations, newest first.
type ListQuery struct {
	AccountID string
	Status    Status // "" for all statuses
	// Search, when not empty, keeps the invitations whose email starts
	// with it, case-insensitively ("ada" finds ada@example.com). It
	// combines with Status and with the cursor.
	Search string
	Limit  int    // 0 means DefaultPageSize; capped at MaxPageSize
	After  string // ListPage.Next of the previous page; "" for the first
}

// ListPage is one page of invitations. Its JSON form is what an admin API
// can return as is: {"invitations": [...], "next": ""}.
type ListPage struct {
	// Invitations is never nil: an empty page encodes as [].
	Invitations []*Invitation `json:"invitations"`
	// Next is the cursor for the next page; "" on the last page.
	Next string `json:"next"`
}

// List returns a page of the account's invitations, newest first. The
// status filter is judged at the Service's current time.
func (s *Service) List(ctx context.Context, q ListQuery) (*ListPage, error) {
	if err := checkAccountID(q.AccountID); err != nil {
		return nil, err
	}
	if q.Status != "" && !q.Status.valid() {
		return nil, inputError("status", "is not a known status")
	}
	search, err := normalizeSearch(q.Search)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(q.Limit, DefaultPageSize, MaxPageSize)
	if err != nil {
		return nil, err
	}
	after, err := decodeCursor(q.After)
	if err != nil {
		return nil, err
	}
	if !isASCII(search) {
		// Emails are ASCII (see NormalizeEmail): nothing can match.
		return &ListPage{Invitations: []*Invitation{}}, nil
	}
	// One extra row tells whether another page follows.
	rows, err := s.store.List(ctx, ListFilter{
		AccountID: q.AccountID, Status: q.Status, Search: search, Now: s.clock(), Limit: limit + 1, After: after,
	})
	if err != nil {
		return nil, storeError(err)
	}
	page := &ListPage{Invitations: rows}
	if rows == nil {
		page.Invitations = []*Invitation{}
	}
	if len(rows) > limit {
		page.Invitations = rows[:limit]
		last := rows[limit-1]
		page.Next = encodeCursor(Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, inv := range page.Invitations {
		inv.stripToken()
	}
	return page, nil
}

// normalizeSearch checks a search prefix and returns it as emails are
// stored: trimmed and lower-cased.
func normalizeSearch(search string) (string, error) {
	search = strings.ToLower(strings.TrimSpace(search))
	if err := checkText("search", search, MaxEmailLength, false); err != nil {
		return "", err
	}
	return search, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Count returns how many invitations the account has in each status at
// the Service's current time, for the badges of a Users page's tabs. Every
// Status is a key of the map, with 0 where there are none.
func (s *Service) Count(ctx context.Context, accountID string) (map[Status]int, error) {
	if err := checkAccountID(accountID); err != nil {
		return nil, err
	}
	counts, err := s.store.Count(ctx, accountID, s.clock())
	if err != nil {
		return nil, storeError(err)
	}
	out := make(map[Status]int, 5)
	for _, st := range []Status{StatusPending, StatusExpired, StatusAccepted, StatusDeclined, StatusRevoked} {
		out[st] = counts[st]
	}
	return out, nil
}

// Cursors are opaque to callers: base64url of the last row's CreatedAt (Unix
// microseconds) and ID.
func encodeCursor(c Cursor) string {
	var raw [24]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(c.CreatedAt.UnixMicro()))
	copy(raw[8:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func decodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	var raw [24]byte
	if len(s) != base64.RawURLEncoding.EncodedLen(len(raw)) {
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(s)); err != nil || n != len(raw) {
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	c := &Cursor{CreatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(raw[:8]))).UTC()}
	if y := c.CreatedAt.Year(); y < 1970 || y > 9999 {
		// Not a time any invitation was created at, and past what some
		// databases can even compare against.
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	copy(c.ID[:], raw[8:])
	return c, nil
}

// pageLimit is a page's size asked for as limit: 0 means def, more than
// most means most, and a negative one is an *InputError.
func pageLimit(limit, def, most int) (int, error) {
	switch {
	case limit < 0:
		return 0, inputError("limit", "must not be negative")
	case limit == 0:
		return def, nil
	}
	return min(limit, most), nil
}
