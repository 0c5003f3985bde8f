package invitations

import (
	"context"
	"crypto/sha256"
	"encoding/base64"

	"github.com/google/uuid"
)

// Paging limits of Events.
const (
	DefaultEventPageSize = 100
	MaxEventPageSize     = 1000
)

// History returns every stored event of an invitation of the account,
// oldest first: who invited, copied the link, resent, changed the roles,
// and whether the mail arrived. It is ErrNotFound for another account's
// invitation and for one that was purged (Purge deletes the history of
// what it deletes).
func (s *Service) History(ctx context.Context, accountID string, id uuid.UUID) ([]Event, error) {
	if _, err := s.byID(accountID, id)(ctx); err != nil {
		return nil, err
	}
	events, err := s.store.History(ctx, accountID, id)
	if err != nil {
		return nil, storeError(err)
	}
	if events == nil {
		events = []Event{}
	}
	return events, nil
}

// EventQuery asks for one page of the event feed.
type EventQuery struct {
	// AccountID is the account whose events are listed; "" means every
	// account, for the host's own relay process.
	AccountID string
	// After is EventPage.Next of the previous page; "" for the first.
	After string
	// Limit is the most events a page holds: 0 means
	// DefaultEventPageSize, and it is capped at MaxEventPageSize.
	Limit int
}

// EventPage is one page of the event feed; its JSON form is what an API
// can return as is.
type EventPage struct {
	// Events is never nil: an empty page encodes as [].
	Events []Event `json:"events"`
	// Next is the cursor to continue from, also when the page is empty:
	// store it, and ask again with it later.
	Next string `json:"next"`
}

// Events returns the next page of the event feed: the stored events of
// the account (of every account when q.AccountID is ""). A consumer that
// pages from a cursor it saved sees every event committed after it
// exactly once, however many processes commit changes at once, so a relay
// that saves the cursor after handling a page delivers each event at
// least once (use Event.ID to deduplicate). A cursor of one account's feed
// is an *InputError on another's. Events of invitations purged before a
// consumer reached them are gone.
//
// The feed keeps the events of one transaction together, in the order
// they were made, and each Store orders transactions its own way: on
// PostgreSQL by transaction ID, which is not always the order of their
// commits. Two overlapping transactions that both change one invitation
// may therefore appear in the feed in the opposite order to that of the
// changes: a consumer that keeps an invitation's latest state keeps the
// event with the highest Invitation.Version (History is always in the
// order of the changes).
//
// On PostgreSQL a page that comes back short while events already
// committed wait behind a transaction still running waits for it, up to
// a second (see sqlstore.Store.ListEvents); if ctx ends during that wait,
// the page read so far is returned, which misses nothing. A Service from
// InTx refuses with ErrInTx: its cursors could step past the
// transaction's own events, which may yet roll back.
func (s *Service) Events(ctx context.Context, q EventQuery) (*EventPage, error) {
	if s.inTx {
		return nil, ErrInTx
	}
	if q.AccountID != "" {
		if err := checkAccountID(q.AccountID); err != nil {
			return nil, err
		}
	}
	limit, err := pageLimit(q.Limit, DefaultEventPageSize, MaxEventPageSize)
	if err != nil {
		return nil, err
	}
	after, err := decodeEventCursor(q.After, q.AccountID)
	if err != nil {
		return nil, err
	}
	events, next, err := s.store.ListEvents(ctx, EventFilter{AccountID: q.AccountID, After: after, Limit: limit})
	if err != nil {
		return nil, storeError(err)
	}
	if events == nil {
		events = []Event{}
	}
	return &EventPage{Events: events, Next: encodeEventCursor(q.AccountID, next)}, nil
}

// An event cursor is base64url of the feed it belongs to (the first 8
// bytes of a hash of the account ID, "" for every account) and the store's
// position: opaque to callers, and refused on another feed.
func feedOf(accountID string) []byte {
	sum := sha256.Sum256([]byte("invitations event feed\x00" + accountID))
	return sum[:8]
}

func encodeEventCursor(accountID, position string) string {
	return base64.RawURLEncoding.EncodeToString(append(feedOf(accountID), position...))
}

func decodeEventCursor(cursor, accountID string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	feed := feedOf(accountID)
	if err != nil || len(raw) < len(feed) || string(raw[:len(feed)]) != string(feed) {
		return "", inputError("after", "is not a cursor of this event feed")
	}
	return string(raw[len(feed):]), nil
}
