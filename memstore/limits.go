package memstore

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/invitekit/invitations"
)

var _ invitations.LimitStore = (*Store)(nil)

// accountLocks stripes the accounts over a fixed set of mutexes: bounded
// memory whatever the number of accounts, at the price of two accounts
// now and then waiting for each other.
type accountLocks struct {
	seed    maphash.Seed
	stripes [64]sync.Mutex
}

func (l *accountLocks) of(accountID string) *sync.Mutex {
	return &l.stripes[maphash.String(l.seed, accountID)%uint64(len(l.stripes))]
}

// LockAccount implements invitations.LimitStore. fn gets the Store itself:
// its calls are atomic one by one, and the lock keeps every other
// LockAccount of the account out, but memstore cannot undo a write when
// fn fails later. So once the lock is held, fn runs to its end: its
// context no longer carries the caller's cancellation (memstore's calls
// never block), and a cancellation cannot land between an invitation's
// write and the mail ledger's record of it. A context that has ended
// before the lock is taken stores nothing.
func (s *Store) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mu := s.locks.of(accountID)
	mu.Lock()
	defer mu.Unlock()
	return fn(context.WithoutCancel(ctx), s)
}

// CountMails implements invitations.LimitStore.
func (s *Store) CountMails(ctx context.Context, accountID string, since time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ledger := s.mails[accountID] // oldest first
	n := 0
	for i := len(ledger) - 1; i >= 0 && ledger[i].At.After(since); i-- {
		n += ledger[i].Count
	}
	return n, nil
}

// RecentMails implements invitations.LimitStore.
func (s *Store) RecentMails(ctx context.Context, accountID string, since time.Time, limit int) ([]invitations.MailRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ledger := s.mails[accountID] // oldest first
	var out []invitations.MailRecord
	for i := len(ledger) - 1; i >= 0 && len(out) < limit && ledger[i].At.After(since); i-- {
		out = append(out, ledger[i])
	}
	return out, nil
}

// RecordMails implements invitations.LimitStore.
func (s *Store) RecordMails(ctx context.Context, accountID string, at time.Time, n int, forgetBefore time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ledger := s.mails[accountID]
	// Forget what left the window: a prefix, as the ledger is in time order.
	kept := 0
	for kept < len(ledger) && !ledger[kept].At.After(forgetBefore) {
		kept++
	}
	ledger = ledger[kept:]
	if n > 0 {
		i, _ := slices.BinarySearchFunc(ledger, at, func(r invitations.MailRecord, t time.Time) int {
			if r.At.After(t) {
				return 1
			}
			return -1
		})
		ledger = slices.Insert(ledger, i, invitations.MailRecord{At: at, Count: n})
	}
	if len(ledger) == 0 {
		delete(s.mails, accountID)
	} else {
		s.mails[accountID] = slices.Clip(ledger)
	}
	return nil
}

// CountValidLinks implements invitations.LimitStore by reading the account's
// invitations, newest first, up to the limit's worth of valid ones.
func (s *Store) CountValidLinks(ctx context.Context, accountID string, now time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	list := s.accounts[accountID]
	for i := len(list) - 1; i >= 0 && n < limit; i-- {
		if list[i].StatusAt(now) == invitations.StatusPending {
			n++
		}
	}
	return n, nil
}

// ValidLinksBound implements invitations.LimitStore.
func (s *Store) ValidLinksBound(ctx context.Context, accountID string) (invitations.LinkBound, error) {
	if err := ctx.Err(); err != nil {
		return invitations.LinkBound{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bounds[accountID], nil
}

// SetValidLinksBound implements invitations.LimitStore.
func (s *Store) SetValidLinksBound(ctx context.Context, accountID string, b invitations.LinkBound) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bounds[accountID] = b
	return nil
}
