package sqlstore

import (
	"time"

	"github.com/invitekit/invitations"
)

// Query texts, for the EXPLAIN tests of the external test package.

func (s *Store) ListQueryForTest(f invitations.ListFilter) (string, []any) {
	return s.q.list(s.dialect, f)
}
func (s *Store) ByHashQueryForTest() string       { return s.q.byHash }
func (s *Store) PendingIDQueryForTest() string    { return s.q.pendingID }
func (s *Store) ListDueQueryForTest() string      { return s.q.listDue }
func (s *Store) RemindableQueryForTest() string   { return s.q.listRemindable }
func (s *Store) CountQueryForTest() string        { return s.q.count }
func (s *Store) CountWorkingQueryForTest() string { return s.q.limits.countWorking }
func (s *Store) RecentMailsQueryForTest() string  { return s.q.limits.recentMails }

// ObservePurgeForTest calls fn after each batch statement of DeleteEnded.
func (s *Store) ObservePurgeForTest(fn func(rows int, took time.Duration)) { s.onPurgeBatch = fn }

func (s *Store) PurgeBatchForTest() int { return s.purgeBatch() }

func (s *Store) PurgeQueriesForTest() (ended, expired string) {
	return s.q.deleteEnded, s.q.deleteExpired
}

func (s *Store) CountMailsQueryForTest() string { return s.q.limits.countMails }
