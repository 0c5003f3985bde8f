package sqlstore

import (
	"time"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/sqlhooks"
)

// The tests that need a database driver live in the module sqlstore/dbtest,
// which sees only exported API; internal/sqlhooks hands them the statement
// texts and purge batches below, without adding them to the public API.
func init() {
	sqlhooks.Of = func(store any) sqlhooks.Store { return hooks{store.(*Store)} }
}

type hooks struct{ s *Store }

func (h hooks) ListQuery(f invitations.ListFilter) (string, []any) {
	return h.s.q.list(h.s.dialect, f)
}
func (h hooks) ByHashQuery() string       { return h.s.q.byHash }
func (h hooks) PendingIDQuery() string    { return h.s.q.pendingID }
func (h hooks) ListDueQuery() string      { return h.s.q.listDue }
func (h hooks) RemindableQuery() string   { return h.s.q.listRemindable }
func (h hooks) CountQuery() string        { return h.s.q.count }
func (h hooks) CountWorkingQuery() string { return h.s.q.limits.countWorking }
func (h hooks) RecentMailsQuery() string  { return h.s.q.limits.recentMails }
func (h hooks) CountMailsQuery() string   { return h.s.q.limits.countMails }
func (h hooks) HistoryQuery() string      { return h.s.q.events.history }
func (h hooks) FeedQuery(oneAccount bool) string {
	if oneAccount {
		return h.s.q.events.accountFeed
	}
	return h.s.q.events.feed
}
func (h hooks) PurgeQueries() (ended, expired string) {
	return h.s.q.deleteEnded, h.s.q.deleteExpired
}
func (h hooks) PurgeBatch() int { return h.s.purgeBatch() }
func (h hooks) ObservePurge(fn func(rows int, took time.Duration)) {
	h.s.onPurgeBatch = fn
}
