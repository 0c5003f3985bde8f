package dbtest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/invitekit/invitations"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStalledPrepareBlocksNoOtherCall: while another session holds a lock
// on the table, a first-time prepare stalls. A second call with a short
// deadline must end at its own deadline, not wait for the stalled one.
func TestStalledPrepareBlocksNoOtherCall(t *testing.T) {
	postgres := backends[1]
	require.Equal(t, "Postgres", postgres.name)
	store, db := postgres.newStore(t)
	ctx := context.Background()

	locker, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer locker.Rollback()
	_, err = locker.ExecContext(ctx, "LOCK TABLE invitations IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	// The first call prepares the statement and stalls behind the lock.
	stalled := make(chan error, 1)
	go func() {
		_, err := store.Get(ctx, "acme", uuid.New())
		stalled <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&waiting)
		return err == nil && waiting > 0
	}, 10*time.Second, 10*time.Millisecond, "the first prepare waits on the lock")

	// The second call has 200 ms. The lock is released only after it has
	// returned (or, if it hangs, after 15 s, failing the test).
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() {
		_, err := store.Get(short, "acme", uuid.New())
		returned <- err
	}()
	var shortErr error
	releasedFirst := false
	select {
	case shortErr = <-returned:
	case <-time.After(15 * time.Second):
		releasedFirst = true
		require.NoError(t, locker.Rollback())
		shortErr = <-returned
	}
	assert.False(t, releasedFirst, "the short call waited for the stalled prepare")
	assert.ErrorIs(t, shortErr, context.DeadlineExceeded)

	require.NoError(t, locker.Rollback())
	require.ErrorIs(t, <-stalled, invitations.ErrNotFound, "the stalled call completes once the lock is gone")
}
