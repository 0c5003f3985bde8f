package invitations

import (
	"context"
	"time"
)

// Purge deletes the invitations that ended before the given time: those
// accepted, declined or revoked before it, and those whose link expired
// before it without being accepted. A pending invitation whose link still
// works at the Service's clock is never deleted, whatever the time given.
// Run it on a schedule; it returns how many it deleted.
func (s *Service) Purge(ctx context.Context, before time.Time) (int, error) {
	before = before.UTC().Truncate(time.Microsecond)
	expiredBefore := s.clock()
	if before.Before(expiredBefore) {
		expiredBefore = before
	}
	n, err := s.store.DeleteEnded(ctx, before, expiredBefore)
	if err != nil {
		return n, storeError(err)
	}
	return n, nil
}
