// Package sqlhooks lets the sqlstore tests reach what sqlstore keeps
// unexported: the texts of the statements whose query plans they check, and
// the batches of DeleteEnded.
//
// Those tests need database drivers and go-sqlmock, so they live in a module
// of their own, sqlstore/dbtest, where an importer's module graph never sees
// them; from there they see only sqlstore's exported API. Package sqlstore
// sets Of when it is initialised. The package is internal, so nothing
// outside this repository can import it: none of this is public API.
package sqlhooks

import (
	"time"

	"github.com/invitekit/invitations"
)

// Of returns the hooks into store, which must be a *sqlstore.Store. Set by
// package sqlstore; nil until sqlstore is linked in.
var Of func(store any) Store

// Store is what the tests see of a *sqlstore.Store's insides.
type Store interface {
	// ListQuery is the statement List runs for f, with its arguments.
	ListQuery(f invitations.ListFilter) (query string, args []any)
	// The texts of single statements, named after the work they do.
	ByHashQuery() string
	PendingIDQuery() string
	ListDueQuery() string
	RemindableQuery() string
	CountQuery() string
	CountWorkingQuery() string
	RecentMailsQuery() string
	CountMailsQuery() string
	// HistoryQuery is the statement of History; FeedQuery that of a page
	// of ListEvents, of one account or of all.
	HistoryQuery() string
	FeedQuery(oneAccount bool) string
	// PurgeQueries are the two batch statements of DeleteEnded.
	PurgeQueries() (ended, expired string)
	// PurgeBatch is how many rows one statement of DeleteEnded deletes.
	PurgeBatch() int
	// ObservePurge makes fn see each batch statement of DeleteEnded: the
	// rows it deleted and how long it took. Set it before the store is
	// shared between goroutines.
	ObservePurge(fn func(rows int, took time.Duration))
}
