package invitations

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store persists invitations, every field of them, Delivery included. It
// decides nothing: expiry, status rules,
// tokens and mail belong to the Service, which is the only caller a Store
// needs to serve. Every method must be safe for concurrent use and atomic:
// a concurrent reader sees an invitation either before or after a call,
// never half-written.
//
// Stores keep times exactly as given (the Service truncates them to
// microseconds) and return copies: the caller may modify what it gets
// without changing the stored invitation.
//
// The storetest package checks this contract; run it against any Store.
type Store interface {
	// Create stores a new invitation. When another invitation of the same
	// AccountID and Email has State StatusPending, it stores nothing and
	// returns an *AlreadyInvitedError naming that invitation (it matches
	// ErrAlreadyInvited). Two concurrent Creates for one (AccountID, Email)
	// must not both succeed. When it cannot tell which invitation holds
	// the email (it kept ending and coming back under concurrent changes)
	// it may return ErrConflict. ev, the event that records the change, is
	// stored in the same atomic operation: both or neither (see History).
	Create(ctx context.Context, inv *Invitation, ev *Event) error

	// CreateMany stores new invitations as Create does, each on its own:
	// it returns one error per invitation, in order (nil where it was
	// stored, an *AlreadyInvitedError where another pending invitation
	// holds the email), and a call error only when it could store none
	// for a reason that is not the rows' own (a database that is down, a
	// context that ended). A call error means none of the rows is stored,
	// wherever the failure lands: a Store that writes in several
	// statements makes them one transaction. It should cost a few
	// statements, not one per invitation. evs[i] is the event of invs[i],
	// stored exactly when invs[i] is.
	CreateMany(ctx context.Context, invs []*Invitation, evs []*Event) ([]error, error)

	// Get returns the invitation with this ID in this account, or
	// ErrNotFound, also when the ID exists in another account.
	Get(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error)

	// GetByTokenHash returns the invitation whose Token.Hash equals hash
	// (TokenHashSize bytes), or ErrNotFound. The hash must be indexed (unique): this call's cost
	// must not grow with the number of invitations.
	GetByTokenHash(ctx context.Context, hash []byte) (*Invitation, error)

	// Update replaces the stored invitation with the same ID and AccountID
	// by inv (the Service never changes ID, AccountID, Email or CreatedAt), if and only if the stored Version equals expectedVersion
	// (compare-and-set); inv.Version holds the new version. It returns
	// ErrConflict when the stored version differs and ErrNotFound when the
	// invitation does not exist (or was purged). An update that would make
	// a second pending invitation of one AccountID and Email stores nothing
	// and returns an error matching ErrAlreadyInvited.
	//
	// ev, when not nil, is the event that records the change: it is stored
	// in the same atomic operation, so that a stored change always has its
	// event and a failed one none. Writes that record nothing the admin
	// asked for (a delivery claim, a reminder's mark) pass nil.
	Update(ctx context.Context, inv *Invitation, expectedVersion int64, ev *Event) error

	// List returns up to f.Limit invitations of f.AccountID matching
	// f.Status at f.Now and f.Search, ordered newest first by (CreatedAt,
	// ID) descending, starting strictly after f.After when it is not nil.
	// Its cost must not grow with other accounts' invitations nor with the
	// page's position.
	List(ctx context.Context, f ListFilter) ([]*Invitation, error)

	// Count returns how many invitations of the account are in each status
	// at now (StatusExpired for pending ones whose ExpiresAt is at or
	// before now, as in ListFilter). Statuses with none may be left out.
	Count(ctx context.Context, accountID string, now time.Time) (map[Status]int, error)

	// ListDue returns up to limit invitations, of any account, whose
	// Delivery.Due is set and Delivery.NextAttempt is at or before now,
	// earliest NextAttempt first (ties by ID). It must be served by an
	// index on the due invitations, not a scan of all of them.
	ListDue(ctx context.Context, now time.Time, limit int) ([]*Invitation, error)

	// ListRemindable returns up to limit pending invitations, of any
	// account, whose ExpiresAt is after now and at or before until, that
	// have no message due, whose last message did not fail (Delivery.FailedAt
	// zero: an address that bounced gets no reminder) and that were not
	// reminded since their link was last sent (Delivery.RemindedAt zero or
	// before SentAt), soonest expiry first (ties by ID). It must be served
	// by an index, not a scan.
	ListRemindable(ctx context.Context, now, until time.Time, limit int) ([]*Invitation, error)

	// History returns the events stored for the invitation with this ID
	// in this account, oldest first (the order they were stored in); none
	// for an unknown one or one of another account.
	History(ctx context.Context, accountID string, id uuid.UUID) ([]Event, error)

	// ListEvents returns up to f.Limit events after the position f.After
	// ("" for the first), of f.AccountID or of every account when it is
	// "", in the order of its feed, and the position after the last one
	// (f.After when there is none). The feed's promise: a reader that
	// pages from a position it was given sees every event committed after
	// it exactly once, however many writers commit at once. So a store
	// must not hand out an event that a writer still in progress could
	// commit before: on PostgreSQL, positions ordered by transaction ID
	// and only those below the oldest transaction still running; on
	// SQLite, whose writers take turns, a row ID that is never reused.
	// Positions are the store's own strings; the Service wraps them. The
	// cost of a page must not grow with its position.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, string, error)

	// DeleteEnded deletes the invitations accepted, declined or revoked
	// strictly before endedBefore (see EndedAt), and the pending ones whose
	// ExpiresAt is strictly before expiredBefore, with their events. It
	// returns how many invitations it deleted.
	DeleteEnded(ctx context.Context, endedBefore, expiredBefore time.Time) (int, error)
}

// ListFilter is one page request from the Service to a Store.
type ListFilter struct {
	AccountID string
	// Status filters by status at Now; "" means all. StatusPending means
	// State pending and ExpiresAt after Now; StatusExpired means State
	// pending and ExpiresAt at or before Now.
	Status Status
	// Now is the instant the pending and expired filters are judged at.
	Now time.Time
	// Search, when not empty, keeps the invitations whose Email starts
	// with it. The Service passes it lower-cased, as emails are stored.
	Search string
	// Limit is the most invitations to return; always at least 1.
	Limit int
	// After is the position of the last invitation of the previous page,
	// or nil for the first page.
	After *Cursor
}

// Cursor is a position in an account's list, newest first.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// Matches reports whether inv belongs in the filter's result, position
// aside. Stores that filter in Go (memstore, test doubles) use it so that
// they read the pending/expired split exactly as the Service does.
func (f *ListFilter) Matches(inv *Invitation) bool {
	return inv.AccountID == f.AccountID && (f.Status == "" || inv.StatusAt(f.Now) == f.Status) &&
		strings.HasPrefix(inv.Email, f.Search)
}

// CompareNewestFirst orders invitations as List returns them: by CreatedAt
// descending, then by ID descending. It suits slices.SortFunc.
func CompareNewestFirst(a, b *Invitation) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return bytes.Compare(b.ID[:], a.ID[:])
}

// LimitStore is a Store that can count for Config.Limits: New requires it
// when MailsPerAccountPerDay or MaxPendingPerAccount is set. The Service
// checks and writes within LockAccount, so that of several processes
// racing for an account's last mail exactly one gets it.
//
// The storetest package checks this contract too.
type LimitStore interface {
	Store

	// LockAccount runs fn while no other LockAccount of the same account
	// runs, in any process sharing the store, with a LimitStore on which
	// fn's calls are one atomic unit: they take effect together if fn
	// returns nil and not at all if it returns an error (a Store that
	// cannot undo writes must say so; the Service makes its last write
	// one that cannot fail). A LimitStore bound to a caller's transaction
	// takes the lock within that transaction and passes itself. fn's
	// error is returned as is.
	LockAccount(ctx context.Context, accountID string, fn func(ctx context.Context, st LimitStore) error) error

	// CountMails returns how many mails the account's records made
	// strictly after since add up to (the sum of their Counts). It must be
	// served by an index on (account, time).
	CountMails(ctx context.Context, accountID string, since time.Time) (int, error)

	// RecentMails returns up to limit of the account's mail records made
	// strictly after since, newest first. The Service reads them only
	// when the quota is used up, to tell when it frees up.
	RecentMails(ctx context.Context, accountID string, since time.Time, limit int) ([]MailRecord, error)

	// RecordMails records that n mails of the account were made due at
	// at, and deletes the account's records made at or before
	// forgetBefore, which will never be read again.
	RecordMails(ctx context.Context, accountID string, at time.Time, n int, forgetBefore time.Time) error

	// CountValidLinks returns how many of the account's invitations have a
	// valid link (State StatusPending and ExpiresAt after now), or limit if
	// there are at least that many: it need not count further. It must be
	// served by an index.
	CountValidLinks(ctx context.Context, accountID string, now time.Time, limit int) (int, error)

	// ValidLinksBound returns what SetValidLinksBound last stored for the
	// account, or the zero LinkBound if nothing was.
	ValidLinksBound(ctx context.Context, accountID string) (LinkBound, error)

	// SetValidLinksBound stores b for the account, replacing what was
	// there.
	SetValidLinksBound(ctx context.Context, accountID string, b LinkBound) error
}

// LinkBound is what the Service keeps per account so that the pending cap
// (Limits.MaxPendingPerAccount) need not count the account's valid links
// on every call: Links is never below their number, counted exactly at
// CountedAt and raised by every link made valid since. A Store keeps it
// as given.
type LinkBound struct {
	Links     int
	CountedAt time.Time
}

// MailRecord is one entry of an account's mail ledger: Count mails made
// due at At.
type MailRecord struct {
	At    time.Time
	Count int
}
