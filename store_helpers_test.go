package invitations_test

import (
	"context"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// countingStore counts the calls that reach the wrapped Store.
type countingStore struct {
	invitations.Store
	calls atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, accountID string, id uuid.UUID) (*invitations.Invitation, error) {
	s.calls.Add(1)
	return s.Store.Get(ctx, accountID, id)
}

func (s *countingStore) GetByTokenHash(ctx context.Context, hash []byte) (*invitations.Invitation, error) {
	s.calls.Add(1)
	return s.Store.GetByTokenHash(ctx, hash)
}

func (s *countingStore) Update(ctx context.Context, inv *invitations.Invitation, expected int64) error {
	s.calls.Add(1)
	return s.Store.Update(ctx, inv, expected)
}

// alwaysConflicting loses every compare-and-set, as if another process kept
// changing the invitation.
type alwaysConflicting struct {
	invitations.Store
	updates atomic.Int64
}

func (s *alwaysConflicting) Update(context.Context, *invitations.Invitation, int64) error {
	s.updates.Add(1)
	return invitations.ErrConflict
}

// wrongRow answers every token hash with one fixed invitation, as a store
// with a broken index or collation might.
type wrongRow struct {
	invitations.Store
	row *invitations.Invitation
}

func (s *wrongRow) GetByTokenHash(context.Context, []byte) (*invitations.Invitation, error) {
	return s.row.Clone(), nil
}
