// Package memstore is an in-memory invitations.Store: for tests, demos and
// single-process apps that can lose their invitations on restart.
//
// All methods are safe for concurrent use. Lookups by ID and by token hash
// are O(1); a page of List costs O(log n + page) in the size n of the one
// account listed (plus the rows a status filter skips), whatever the other
// accounts hold.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// Store keeps invitations in maps guarded by one lock. It hands out copies
// and keeps copies, so callers never share memory with the stored state.
type Store struct {
	mu       sync.RWMutex
	byID     map[uuid.UUID]*invitations.Invitation
	byHash   map[hashKey]*invitations.Invitation
	pending  map[pendingKey]*invitations.Invitation // may point to one that ended: see holder
	accounts map[string][]*invitations.Invitation   // oldest first, by (CreatedAt, ID)
	due      map[uuid.UUID]*invitations.Invitation  // those with a message due
	mails    map[string][]invitations.MailRecord    // per account, oldest first
	bounds   map[string]invitations.LinkBound
	locks    *accountLocks
	events   eventLog
}

type pendingKey struct{ accountID, email string }

// holder returns the pending invitation of an account and email, if any.
// The pending index is cleaned lazily: an invitation that ended stays in it
// until the email is invited again or the invitation is purged, so that
// ending one (Accept, the hot path) touches no index but the one it was
// found by.
func (s *Store) holder(key pendingKey) *invitations.Invitation {
	if inv := s.pending[key]; inv != nil && inv.State == invitations.StatusPending {
		return inv
	}
	return nil
}

// hashKey holds a token hash inline in the map, so a lookup touches one
// bucket and no separate key string.
type hashKey [invitations.TokenHashSize]byte

func keyOf(hash []byte) (hashKey, bool) {
	if len(hash) != invitations.TokenHashSize {
		return hashKey{}, false
	}
	return hashKey(hash), true
}

var _ invitations.Store = (*Store)(nil)

// New returns an empty Store. It starts no goroutines.
func New() *Store {
	return &Store{
		byID:     make(map[uuid.UUID]*invitations.Invitation),
		byHash:   make(map[hashKey]*invitations.Invitation),
		pending:  make(map[pendingKey]*invitations.Invitation),
		accounts: make(map[string][]*invitations.Invitation),
		due:      make(map[uuid.UUID]*invitations.Invitation),
		mails:    make(map[string][]invitations.MailRecord),
		bounds:   make(map[string]invitations.LinkBound),
		locks:    &accountLocks{seed: maphash.MakeSeed()},
	}
}

// Len returns how many invitations the Store holds.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// Create implements invitations.Store.
func (s *Store) Create(ctx context.Context, inv *invitations.Invitation, ev *invitations.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.create(inv); err != nil {
		return err
	}
	s.events.add(ev)
	return nil
}

// CreateMany implements invitations.Store under one lock.
func (s *Store) CreateMany(ctx context.Context, invs []*invitations.Invitation, evs []*invitations.Event) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(invs))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, inv := range invs {
		if errs[i] = s.create(inv); errs[i] == nil && i < len(evs) {
			s.events.add(evs[i])
		}
	}
	return errs, nil
}

// create stores a copy of inv; s.mu is held.
func (s *Store) create(inv *invitations.Invitation) error {
	hash, ok := keyOf(inv.Token.Hash)
	if !ok {
		return errHashSize
	}
	stored := inv.Clone()
	key := pendingKey{stored.AccountID, stored.Email}
	if _, dup := s.byID[stored.ID]; dup {
		return errDuplicateID
	}
	if stored.State == invitations.StatusPending {
		if holder := s.holder(key); holder != nil {
			return &invitations.AlreadyInvitedError{ExistingID: holder.ID}
		}
		s.pending[key] = stored
	}
	s.byID[stored.ID] = stored
	s.byHash[hash] = stored
	s.trackDue(stored)
	list := s.accounts[stored.AccountID]
	i, _ := slices.BinarySearchFunc(list, stored, oldestFirst)
	s.accounts[stored.AccountID] = slices.Insert(list, i, stored)
	return nil
}

// Get implements invitations.Store.
func (s *Store) Get(ctx context.Context, accountID string, id uuid.UUID) (*invitations.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	inv, ok := s.byID[id]
	if !ok || inv.AccountID != accountID {
		return nil, invitations.ErrNotFound
	}
	return inv.Clone(), nil
}

// GetByTokenHash implements invitations.Store.
func (s *Store) GetByTokenHash(ctx context.Context, hash []byte) (*invitations.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, ok := keyOf(hash)
	if !ok {
		return nil, invitations.ErrNotFound
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	inv, ok := s.byHash[key]
	if !ok {
		return nil, invitations.ErrNotFound
	}
	return inv.Clone(), nil
}

// Update implements invitations.Store. The stored invitation is changed in
// place, so that the per-account order (by the immutable CreatedAt and ID)
// stays valid, and it keeps its roles, metadata and token buffers when they
// did not change: a state change such as Accept allocates nothing here.
func (s *Store) Update(ctx context.Context, inv *invitations.Invitation, expectedVersion int64, ev *invitations.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hash, ok := keyOf(inv.Token.Hash)
	if !ok {
		return errHashSize
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Most updates keep the token, and the caller has just read the
	// invitation by its hash or ID: try the hash first, the ID second.
	cur := s.byHash[hash]
	if cur == nil || cur.ID != inv.ID {
		cur = s.byID[inv.ID]
	}
	if cur == nil || cur.AccountID != inv.AccountID {
		return invitations.ErrNotFound
	}
	if cur.Version != expectedVersion {
		return invitations.ErrConflict
	}
	if cur.State != invitations.StatusPending && inv.State == invitations.StatusPending {
		// Not a Service transition, but a store must keep its promise.
		key := pendingKey{cur.AccountID, cur.Email}
		if holder := s.holder(key); holder != nil {
			return &invitations.AlreadyInvitedError{ExistingID: holder.ID}
		}
		s.pending[key] = cur
	}
	if old, _ := keyOf(cur.Token.Hash); old != hash {
		delete(s.byHash, old)
		s.byHash[hash] = cur
	}
	next := *inv
	next.CreatedAt = cur.CreatedAt // the order key never moves
	next.Roles = reuse(cur.Roles, inv.Roles, slices.Equal, slices.Clone)
	next.Metadata = reuse(cur.Metadata, inv.Metadata, maps.Equal, maps.Clone)
	if !bytes.Equal(cur.Token.Nonce, inv.Token.Nonce) || !bytes.Equal(cur.Token.Hash, inv.Token.Hash) || cur.Token.KeyID != inv.Token.KeyID {
		next.Token = inv.Token.Clone()
	} else {
		next.Token = cur.Token
	}
	wasDue := cur.Delivery.Due != ""
	*cur = next
	if wasDue || cur.Delivery.Due != "" {
		s.trackDue(cur)
	}
	s.events.add(ev)
	return nil
}

// trackDue keeps the due index in step with an invitation's Delivery.
func (s *Store) trackDue(inv *invitations.Invitation) {
	if inv.Delivery.Due != "" {
		s.due[inv.ID] = inv
	} else {
		delete(s.due, inv.ID)
	}
}

// ListDue implements invitations.Store. Its cost grows with the number of
// due messages, not with the number of invitations.
func (s *Store) ListDue(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ready []*invitations.Invitation
	for _, inv := range s.due {
		if !inv.Delivery.NextAttempt.After(now) {
			ready = append(ready, inv)
		}
	}
	return firstCopies(ready, func(inv *invitations.Invitation) time.Time { return inv.Delivery.NextAttempt }, limit), nil
}

// ListRemindable implements invitations.Store. Its cost grows with the
// number of pending invitations, not with the ended ones.
func (s *Store) ListRemindable(ctx context.Context, now, until time.Time, limit int) ([]*invitations.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ready []*invitations.Invitation
	for _, inv := range s.pending {
		d := inv.Delivery
		if inv.State == invitations.StatusPending && inv.ExpiresAt.After(now) && !inv.ExpiresAt.After(until) &&
			d.Due == "" && d.FailedAt.IsZero() && (d.RemindedAt.IsZero() || d.RemindedAt.Before(inv.SentAt)) {
			ready = append(ready, inv)
		}
	}
	return firstCopies(ready, func(inv *invitations.Invitation) time.Time { return inv.ExpiresAt }, limit), nil
}

// firstCopies sorts invitations by a time, then by ID, and returns copies
// of the first limit.
func firstCopies(invs []*invitations.Invitation, at func(*invitations.Invitation) time.Time, limit int) []*invitations.Invitation {
	slices.SortFunc(invs, func(a, b *invitations.Invitation) int {
		if c := at(a).Compare(at(b)); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	out := make([]*invitations.Invitation, 0, min(limit, len(invs)))
	for _, inv := range invs[:min(limit, len(invs))] {
		out = append(out, inv.Clone())
	}
	return out
}

// reuse keeps the stored value when the new one is equal, else stores a copy.
func reuse[T any](stored, given T, equal func(T, T) bool, clone func(T) T) T {
	if equal(stored, given) {
		return stored
	}
	return clone(given)
}

// List implements invitations.Store.
func (s *Store) List(ctx context.Context, f invitations.ListFilter) ([]*invitations.Invitation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.accounts[f.AccountID]
	end := len(list) // list[:end] sorts after the cursor in newest first order
	if f.After != nil {
		end, _ = slices.BinarySearchFunc(list, &invitations.Invitation{CreatedAt: f.After.CreatedAt, ID: f.After.ID}, oldestFirst)
	}
	out := make([]*invitations.Invitation, 0, min(f.Limit, end))
	for i := end - 1; i >= 0 && len(out) < f.Limit; i-- {
		if f.Matches(list[i]) {
			out = append(out, list[i].Clone())
		}
	}
	return out, nil
}

// Count implements invitations.Store. It reads the account's invitations
// once, so it costs O(n) in the size of that account only.
func (s *Store) Count(ctx context.Context, accountID string, now time.Time) (map[invitations.Status]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	counts := make(map[invitations.Status]int, 5)
	for _, inv := range s.accounts[accountID] {
		counts[inv.StatusAt(now)]++
	}
	return counts, nil
}

// DeleteEnded implements invitations.Store.
func (s *Store) DeleteEnded(ctx context.Context, endedBefore, expiredBefore time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	touched := make(map[string]bool)
	purged := make(map[uuid.UUID]bool)
	n := 0
	for id, inv := range s.byID {
		if !ended(inv, endedBefore, expiredBefore) {
			continue
		}
		delete(s.byID, id)
		delete(s.due, id)
		old, _ := keyOf(inv.Token.Hash)
		delete(s.byHash, old)
		if key := (pendingKey{inv.AccountID, inv.Email}); s.pending[key] == inv {
			delete(s.pending, key)
		}
		touched[inv.AccountID] = true
		purged[id] = true
		n++
	}
	s.events.forget(purged)
	for account := range touched {
		kept := slices.DeleteFunc(s.accounts[account], func(inv *invitations.Invitation) bool {
			_, ok := s.byID[inv.ID]
			return !ok
		})
		if len(kept) == 0 {
			delete(s.accounts, account)
		} else {
			s.accounts[account] = kept
		}
	}
	return n, nil
}

func ended(inv *invitations.Invitation, endedBefore, expiredBefore time.Time) bool {
	if inv.State == invitations.StatusPending {
		return inv.ExpiresAt.Before(expiredBefore)
	}
	return inv.EndedAt().Before(endedBefore)
}

// oldestFirst is the reverse of the List order, so that new invitations,
// the common case, are appended.
func oldestFirst(a, b *invitations.Invitation) int { return invitations.CompareNewestFirst(b, a) }

// errDuplicateID reports a Create whose ID is taken; with UUIDv7 IDs it is a
// caller bug, not a condition to handle.
var errHashSize = fmt.Errorf("memstore: %w: token hash must be %d bytes", invitations.ErrInvalidInput, invitations.TokenHashSize)

var errDuplicateID = fmt.Errorf("memstore: %w: invitation id already exists", invitations.ErrInvalidInput)

var errBadPosition = fmt.Errorf("memstore: %w: not a position of this store's event feed", invitations.ErrInvalidInput)
