package sqlstore

import "github.com/invitekit/invitations"

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
