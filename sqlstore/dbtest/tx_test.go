package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/sqlstore"
)

// txRig is a host app on one real database: the invitations table, a
// members table of its own, and a Service with a fake clock and a
// recording mailer.
type txRig struct {
	*rig
	store *sqlstore.Store
	db    *sql.DB
}

func newTxRig(t *testing.T, b backend) *txRig {
	t.Helper()
	store, db := b.newStore(t)
	r := &txRig{
		rig: &rig{
			clock:  invitationstest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)),
			mailer: invitationstest.NewMailer(),
		},
		store: store, db: db,
	}
	var err error
	r.svc, err = invitations.New(store, r.mailer, invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept", Now: r.clock.Now,
	})
	require.NoError(t, err)
	_, err = db.ExecContext(context.Background(),
		"CREATE TABLE members (account_id text NOT NULL, email text NOT NULL, PRIMARY KEY (account_id, email))")
	require.NoError(t, err)
	return r
}

// onEachDatabase runs a host-app test on SQLite and on PostgreSQL, in
// parallel, each on a fresh database.
func onEachDatabase(t *testing.T, test func(t *testing.T, ctx context.Context, r *txRig)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, context.Background(), newTxRig(t, b))
		})
	}
}

// begin opens a host transaction and the Service working in it.
func (r *txRig) begin(t *testing.T) (*sql.Tx, *invitations.Service) {
	t.Helper()
	tx, err := r.db.BeginTx(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx, r.svc.InTx(r.store.WithTx(tx))
}

func (r *txRig) invite(t *testing.T, email string) (*invitations.Invitation, string) {
	t.Helper()
	inv, err := r.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: email, Roles: []string{"member"}})
	require.NoError(t, err)
	return inv, r.token(t)
}

const insertMember = "INSERT INTO members (account_id, email) VALUES ($1, $2)"

// grant inserts the membership in tx, as a host does after Accept. Both
// drivers take $N parameters (SQLite reads them as numbered parameters).
func grant(tx *sql.Tx, inv *invitations.Invitation) error {
	_, err := tx.ExecContext(context.Background(), insertMember, inv.AccountID, inv.Email)
	return err
}

func (r *txRig) members(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, r.db.QueryRowContext(context.Background(), "SELECT count(*) FROM members").Scan(&n))
	return n
}

// TestTxAcceptCommitsWithTheMembership: accept and grant membership
// atomically. After commit both are there; the link is used up.
func TestTxAcceptCommitsWithTheMembership(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		_, token := r.invite(t, "ada@example.com")
		tx, svc := r.begin(t)
		inv, err := svc.Accept(ctx, token)
		require.NoError(t, err)
		require.NoError(t, grant(tx, inv))
		require.NoError(t, tx.Commit())

		assert.Equal(t, 1, r.members(t))
		found, err := r.svc.Lookup(ctx, token)
		require.ErrorIs(t, err, invitations.ErrNotPending)
		assert.Equal(t, invitations.StatusAccepted, found.State)
	})
}

// TestTxRollbackLeavesTheLinkWorking: a rolled-back acceptance, whether
// the host chose to roll back or its own statement failed, leaves the
// invitation pending and the link usable.
func TestTxRollbackLeavesTheLinkWorking(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		_, token := r.invite(t, "ada@example.com")

		// The host rolls back.
		tx, svc := r.begin(t)
		_, err := svc.Accept(ctx, token)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		found, err := r.svc.Lookup(ctx, token)
		require.NoError(t, err, "still pending after the rollback")
		assert.Equal(t, invitations.StatusPending, found.State)

		// The host's membership insert fails after Accept (a duplicate
		// key): on PostgreSQL that aborts the transaction, which the
		// host rolls back.
		_, err = r.db.ExecContext(ctx, insertMember, "acme", "ada@example.com")
		require.NoError(t, err)
		tx, svc = r.begin(t)
		inv, err := svc.Accept(ctx, token)
		require.NoError(t, err)
		require.Error(t, grant(tx, inv), "the host's own statement fails")
		require.NoError(t, tx.Rollback())
		found, err = r.svc.Lookup(ctx, token)
		require.NoError(t, err, "the failed grant did not use up the link")
		assert.Equal(t, invitations.StatusPending, found.State)

		accepted, err := r.svc.Accept(ctx, token)
		require.NoError(t, err, "and it still works")
		assert.Equal(t, invitations.StatusAccepted, accepted.State)
	})
}

// TestTxCopyLinkFollowsTheTransaction: the record of a copy made inside
// the host's transaction rolls back or commits with it.
func TestTxCopyLinkFollowsTheTransaction(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		inv, _ := r.invite(t, "ada@example.com")

		tx, svc := r.begin(t)
		_, err := svc.CopyLink(ctx, "acme", inv.ID)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		got, err := r.svc.Get(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.True(t, got.LinkCopiedAt.IsZero(), "rolled back")
		assert.Equal(t, inv.Version, got.Version)

		r.clock.Advance(time.Minute)
		tx, svc = r.begin(t)
		link, err := svc.CopyLink(ctx, "acme", inv.ID)
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		got, err = r.svc.Get(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.Equal(t, r.clock.Now(), got.LinkCopiedAt, "committed")
		assert.Equal(t, inv.Version+1, got.Version)
		token, err := invitationstest.TokenFromLink(link)
		require.NoError(t, err)
		_, err = r.svc.Lookup(ctx, token)
		require.NoError(t, err, "the copied link is the working one")
	})
}

// TestTxInviteRolledBackLeavesNothing: no row, nothing mailed, now or by
// a later DeliverDue.
func TestTxInviteRolledBackLeavesNothing(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		tx, svc := r.begin(t)
		inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		assert.Equal(t, invitations.MessageInvite, inv.Delivery.Due, "recorded as due")
		assert.Empty(t, r.mailer.Messages(), "nothing is sent inside the transaction")
		require.NoError(t, tx.Rollback())

		r.clock.Advance(time.Hour)
		report, err := r.svc.DeliverDue(ctx)
		require.NoError(t, err)
		assert.Zero(t, report.Attempted)
		assert.Empty(t, r.mailer.Messages(), "nothing is ever mailed")
		_, err = r.svc.Get(ctx, "acme", inv.ID)
		require.ErrorIs(t, err, invitations.ErrNotFound, "no row")
		page, err := r.svc.List(ctx, invitations.ListQuery{AccountID: "acme"})
		require.NoError(t, err)
		assert.Empty(t, page.Invitations)
	})
}

// TestTxInviteCommittedThenDelivered: create the host's user record and the
// invitation together; after commit, Deliver sends the mail exactly once,
// and neither another Deliver nor DeliverDue sends it again.
func TestTxInviteCommittedThenDelivered(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		tx, svc := r.begin(t)
		inv, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, insertMember, "acme", "grace@example.com") // the host's own write
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		assert.Empty(t, r.mailer.Messages())

		delivered, err := r.svc.Deliver(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.Empty(t, delivered.Delivery.Due)
		assert.False(t, delivered.Delivery.DeliveredAt.IsZero())
		require.Len(t, r.mailer.Messages(), 1)
		assert.Equal(t, inv.ID, r.mailer.Last().Invitation.ID)

		again, err := r.svc.Deliver(ctx, "acme", inv.ID)
		require.NoError(t, err, "nothing due is a no-op")
		assert.Equal(t, delivered.Version, again.Version)
		r.clock.Advance(time.Hour)
		report, err := r.svc.DeliverDue(ctx)
		require.NoError(t, err)
		assert.Zero(t, report.Attempted)
		assert.Len(t, r.mailer.Messages(), 1, "sent exactly once")

		token := r.token(t)
		_, err = r.svc.Accept(ctx, token)
		require.NoError(t, err, "the delivered link works")
	})
}

// TestTxCommittedMailGoesOutWithDeliverDue: a host that forgets Deliver
// still gets its mail out with the next DeliverDue.
func TestTxCommittedMailGoesOutWithDeliverDue(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		tx, svc := r.begin(t)
		_, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		require.NoError(t, tx.Commit())
		report, err := r.svc.DeliverDue(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, report.Delivered)
		assert.Len(t, r.mailer.Messages(), 1)
	})
}

// TestTxEveryCall runs each Service call inside a host transaction, then
// commits and delivers what became due.
func TestTxEveryCall(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		expired, _ := r.invite(t, "old@example.com")
		r.clock.Advance(8 * 24 * time.Hour)
		sent := len(r.mailer.Messages())

		tx, svc := r.begin(t)
		ada, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		bob, err := svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "bob@example.com", Roles: []string{"member"}})
		require.NoError(t, err)
		_, err = svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}})
		require.ErrorIs(t, err, invitations.ErrAlreadyInvited, "a duplicate inside the transaction")

		got, err := svc.Get(ctx, "acme", ada.ID)
		require.NoError(t, err)
		assert.Equal(t, ada.ID, got.ID, "the transaction sees its own invite")
		page, err := svc.List(ctx, invitations.ListQuery{AccountID: "acme", Search: "ad"})
		require.NoError(t, err)
		require.Len(t, page.Invitations, 1)
		counts, err := svc.Count(ctx, "acme")
		require.NoError(t, err)
		assert.Equal(t, 2, counts[invitations.StatusPending])
		assert.Equal(t, 1, counts[invitations.StatusExpired])

		_, err = svc.UpdateRoles(ctx, "acme", ada.ID, []string{"admin"})
		require.NoError(t, err)
		_, err = svc.Resend(ctx, "acme", ada.ID)
		require.NoError(t, err)
		link, err := svc.CopyLink(ctx, "acme", ada.ID)
		require.NoError(t, err)
		token, err := invitationstest.TokenFromLink(link)
		require.NoError(t, err)
		_, err = svc.Lookup(ctx, token)
		require.NoError(t, err)
		_, err = svc.Regenerate(ctx, "acme", expired.ID)
		require.NoError(t, err)
		_, err = svc.Revoke(ctx, "acme", bob.ID)
		require.NoError(t, err)
		_, err = svc.Decline(ctx, token)
		require.NoError(t, err)
		_, err = svc.Deliver(ctx, "acme", ada.ID)
		require.ErrorIs(t, err, invitations.ErrInTx, "no mail inside the transaction")
		_, err = svc.DeliverDue(ctx)
		require.ErrorIs(t, err, invitations.ErrInTx)
		assert.Len(t, r.mailer.Messages(), sent, "nothing was sent")
		_, err = svc.Events(ctx, invitations.EventQuery{AccountID: "acme"})
		require.ErrorIs(t, err, invitations.ErrInTx, "no cursor past events that may roll back")
		history, err := svc.History(ctx, "acme", ada.ID)
		require.NoError(t, err)
		assert.NotEmpty(t, history, "the transaction reads its own history")

		// Nothing is visible outside before the commit.
		_, err = r.svc.Get(ctx, "acme", ada.ID)
		require.ErrorIs(t, err, invitations.ErrNotFound)
		require.NoError(t, tx.Commit())

		declined, err := r.svc.Get(ctx, "acme", ada.ID)
		require.NoError(t, err)
		assert.Equal(t, invitations.StatusDeclined, declined.State)
		assert.Equal(t, []string{"admin"}, declined.Roles)
		assert.False(t, declined.LinkCopiedAt.IsZero(), "the copy was stored in the transaction")
		report, err := r.svc.DeliverDue(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, report.Delivered, "only the regenerated link is still wanted")
		assert.Equal(t, expired.ID, r.mailer.Last().Invitation.ID)
		assert.Equal(t, invitations.MessageRegenerate, r.mailer.Last().Kind)
	})
}

// TestTxConcurrentAccepts: 16 host transactions accept one link at once.
// Exactly one commits an acceptance; every loser learns ErrNotPending and
// its transaction is still usable (no failed statement in it).
func TestTxConcurrentAccepts(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		_, token := r.invite(t, "ada@example.com")
		committed := make([]bool, 16)
		errs := together(16, func(i int) error {
			tx, err := r.db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			inv, err := r.svc.InTx(r.store.WithTx(tx)).Accept(ctx, token)
			if err != nil {
				var one int
				if qerr := tx.QueryRowContext(ctx, "SELECT 1").Scan(&one); qerr != nil {
					return errors.Join(err, errors.New("the loser's transaction is unusable: "+qerr.Error()))
				}
				return err
			}
			if err := grant(tx, inv); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			committed[i] = true
			return nil
		})
		assert.Equal(t, 1, successes(errs), "%v", errs)
		for i, err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, invitations.ErrNotPending, "loser %d", i)
				assert.False(t, committed[i])
			}
		}
		assert.Equal(t, 1, r.members(t))
	})
}

// TestTxConflictsDoNotAbortTheTransaction: on the Store bound to a
// transaction, a lost compare-and-set and a duplicate pending invitation
// are reported without a failing statement, so the transaction goes on.
func TestTxConflictsDoNotAbortTheTransaction(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		inv, _ := r.invite(t, "ada@example.com")
		tx, _ := r.begin(t)
		st := r.store.WithTx(tx)

		stale, err := st.Get(ctx, "acme", inv.ID)
		require.NoError(t, err)
		stale.Version += 5
		require.ErrorIs(t, st.Update(ctx, stale, stale.Version-1, nil), invitations.ErrConflict)

		dup := stale.Clone()
		dup.ID[0] ^= 0xff
		dup.Token.Hash = append([]byte(nil), dup.Token.Hash...)
		dup.Token.Hash[0] ^= 0xff
		require.ErrorIs(t, st.Create(ctx, dup, nil), invitations.ErrAlreadyInvited)

		_, err = tx.ExecContext(ctx, insertMember, "acme", "grace@example.com")
		require.NoError(t, err, "the transaction is still usable")
		require.NoError(t, tx.Commit())
		assert.Equal(t, 1, r.members(t))
	})
}

// TestTxLimits: inside a host transaction the limits are counted in that
// transaction: a rolled-back invite uses none of the quota, a committed
// one does.
func TestTxLimits(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		var err error
		r.svc, err = invitations.New(r.store, r.mailer, invitations.Config{
			Secret: secret, AcceptURL: "https://app.example.com/accept", Now: r.clock.Now,
			Limits: invitations.Limits{MailsPerAccountPerDay: 1, MaxPendingPerAccount: 5},
		})
		require.NoError(t, err)
		in := invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"member"}}

		tx, svc := r.begin(t)
		_, err = svc.Invite(ctx, in)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())

		tx, svc = r.begin(t)
		inv, err := svc.Invite(ctx, in)
		require.NoError(t, err, "the rolled-back invite used none of the quota")
		in.Email = "bob@example.com"
		_, err = svc.Invite(ctx, in)
		require.ErrorIs(t, err, invitations.ErrRateLimited, "the first one, in this transaction, did")
		require.NoError(t, tx.Commit())

		_, err = r.svc.Invite(ctx, in)
		require.ErrorIs(t, err, invitations.ErrRateLimited, "and it stays used after commit")
		_, err = r.svc.Deliver(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.Len(t, r.mailer.Messages(), 1)
	})
}

// txOf is where a host carries its transaction for its hooks.
type txOf struct{}

// TestTxIsMemberReadsTheHostTransaction: inside InTx the hooks get the
// call's context, so a host that carries its transaction there has
// Config.IsMember read the rows the transaction wrote. Accepting as
// someone who is a member already ends the invitation with
// ErrAlreadyMember; committed, it stays ended. AcceptAs by another email
// changes nothing in the transaction.
func TestTxIsMemberReadsTheHostTransaction(t *testing.T) {
	onEachDatabase(t, func(t *testing.T, ctx context.Context, r *txRig) {
		svc, err := invitations.New(r.store, r.mailer, invitations.Config{
			Secret: secret, AcceptURL: "https://app.example.com/accept", Now: r.clock.Now,
			IsMember: func(ctx context.Context, account, email string) (bool, error) {
				tx, _ := ctx.Value(txOf{}).(*sql.Tx)
				if tx == nil {
					return false, nil // outside a transaction: nobody in this test
				}
				var n int
				err := tx.QueryRowContext(ctx, "SELECT count(*) FROM members WHERE account_id = $1 AND email = $2", account, email).Scan(&n)
				return n > 0, err
			},
		})
		require.NoError(t, err)
		r.svc = svc
		inv, token := r.invite(t, "ada@example.com")

		tx, inTx := r.begin(t)
		hostCtx := context.WithValue(ctx, txOf{}, tx)
		_, err = inTx.AcceptAs(hostCtx, token, "mallory@example.com")
		require.ErrorIs(t, err, invitations.ErrEmailMismatch)
		require.NoError(t, grant(tx, inv)) // joined another way, in this very transaction
		got, err := inTx.AcceptAs(hostCtx, token, "ada@example.com")
		require.ErrorIs(t, err, invitations.ErrAlreadyMember)
		assert.Equal(t, invitations.StatusAccepted, got.State)
		require.NoError(t, tx.Commit())
		stored, err := r.svc.Get(ctx, "acme", inv.ID)
		require.NoError(t, err)
		assert.Equal(t, invitations.StatusAccepted, stored.State, "committed: the invitation ended")
	})
}
