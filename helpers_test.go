package invitations_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef-secret-A")
	secretB = []byte("fedcba9876543210fedcba9876543210-secret-B")
	start   = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
)

const (
	acceptURL = "https://app.example.com/invitations/accept"
	day       = 24 * time.Hour
	week      = 7 * day
)

// harness is a Service over memstore with a fake clock, a recording mailer
// and a recorded event log.
type harness struct {
	t      *testing.T
	svc    *invitations.Service
	store  *memstore.Store
	clock  *invitationstest.Clock
	mailer *invitationstest.Mailer
	cfg    invitations.Config

	mu     sync.Mutex
	events []invitations.Event
}

func newHarness(t *testing.T, adjust ...func(*invitations.Config)) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		store:  memstore.New(),
		clock:  invitationstest.NewClock(start),
		mailer: invitationstest.NewMailer(),
	}
	h.cfg = invitations.Config{
		Secret:    secretA,
		AcceptURL: acceptURL,
		Now:       h.clock.Now,
		OnEvent: func(_ context.Context, e invitations.Event) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.events = append(h.events, e)
		},
	}
	for _, f := range adjust {
		f(&h.cfg)
	}
	h.svc = h.service(h.cfg)
	return h
}

// service builds another Service on the same store, mailer and clock.
func (h *harness) service(cfg invitations.Config) *invitations.Service {
	h.t.Helper()
	svc, err := invitations.New(h.store, h.mailer, cfg)
	require.NoError(h.t, err)
	return svc
}

func (h *harness) recorded() []invitations.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]invitations.Event(nil), h.events...)
}

func input(account, email string) invitations.InviteInput {
	return invitations.InviteInput{
		AccountID: account,
		Email:     email,
		Name:      "Ada Lovelace",
		Roles:     []string{"admin"},
		InvitedBy: "Grace Hopper",
	}
}

// invite invites email into acct-1 and returns the invitation and its token.
func (h *harness) invite(email string) (*invitations.Invitation, string) {
	h.t.Helper()
	inv, err := h.svc.Invite(context.Background(), input("acct-1", email))
	require.NoError(h.t, err)
	return inv, h.lastToken()
}

func (h *harness) lastToken() string {
	h.t.Helper()
	token, err := invitationstest.TokenFromLink(h.mailer.Last().Link)
	require.NoError(h.t, err)
	return token
}

func (h *harness) get(id uuid.UUID) *invitations.Invitation {
	h.t.Helper()
	inv, err := h.svc.Get(context.Background(), "acct-1", id)
	require.NoError(h.t, err)
	return inv
}

// inStatus returns an invitation of acct-1 in the given status at the
// clock's current time, with its token.
func (h *harness) inStatus(status invitations.Status) (inv *invitations.Invitation, token string) {
	h.t.Helper()
	defer func() { require.Equal(h.t, status, inv.StatusAt(h.clock.Now())) }()
	ctx := context.Background()
	if status == invitations.StatusExpired {
		// Back-date by inviting on an earlier clock.
		h.clock.Advance(-week - time.Hour)
		defer h.clock.Advance(week + time.Hour)
	}
	inv, token = h.invite(uuid.NewString() + "@example.com")
	var err error
	switch status {
	case invitations.StatusPending, invitations.StatusExpired:
	case invitations.StatusAccepted:
		_, err = h.svc.Accept(ctx, token)
	case invitations.StatusDeclined:
		_, err = h.svc.Decline(ctx, token)
	case invitations.StatusRevoked:
		_, err = h.svc.Revoke(ctx, "acct-1", inv.ID)
	}
	require.NoError(h.t, err)
	return h.get(inv.ID), token
}

// assertNoTokenSecrets checks that token material handed out by the
// Service holds nothing but the key ID, which is not secret.
func assertNoTokenSecrets(t *testing.T, m invitations.TokenMaterial) {
	t.Helper()
	assert.Empty(t, m.Nonce, "no nonce leaves the Service")
	assert.Empty(t, m.Hash, "no token hash leaves the Service")
}

// inviteUndelivered invites email into acct-1 while the mailer is down:
// the invitation is stored with its message due for DeliverDue.
func (h *harness) inviteUndelivered(email string) *invitations.Invitation {
	h.t.Helper()
	h.mailer.FailNext(1, errOutage)
	inv, err := h.svc.Invite(context.Background(), input("acct-1", email))
	require.ErrorIs(h.t, err, invitations.ErrDelivery)
	return inv
}

func (h *harness) serviceWith(m invitations.Mailer) *invitations.Service {
	h.t.Helper()
	svc, err := invitations.New(h.store, m, h.cfg)
	require.NoError(h.t, err)
	return svc
}

// recordFailing fails every Update after the first n, as a database that
// goes away between saving an invitation and recording its delivery.
type recordFailing struct {
	invitations.Store
	allowed atomic.Int64
}

func (s *recordFailing) Update(ctx context.Context, inv *invitations.Invitation, expected int64, ev *invitations.Event) error {
	if s.allowed.Add(-1) < 0 {
		return errDatabaseGone
	}
	return s.Store.Update(ctx, inv, expected, ev)
}

// vanishing lists due invitations that are then purged before the claim.
type vanishing struct {
	invitations.Store
	ghost *invitations.Invitation
}

func (s *vanishing) ListDue(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	due, err := s.Store.ListDue(ctx, now, limit)
	return append([]*invitations.Invitation{s.ghost.Clone()}, due...), err
}

// stuckDue lists the same full page of due invitations for ever, none of
// which can be claimed (another process keeps winning them).
type stuckDue struct {
	invitations.Store
	page  []*invitations.Invitation
	lists atomic.Int64
}

func (s *stuckDue) ListDue(context.Context, time.Time, int) ([]*invitations.Invitation, error) {
	s.lists.Add(1)
	out := make([]*invitations.Invitation, len(s.page))
	for i, inv := range s.page {
		out[i] = inv.Clone()
	}
	return out, nil
}

func (s *stuckDue) Update(context.Context, *invitations.Invitation, int64, *invitations.Event) error {
	return invitations.ErrConflict
}

// laxStore answers Get with the invitation whatever account is asked, as
// a Store that forgot the account condition would.
type laxStore struct {
	invitations.Store
	row *invitations.Invitation
}

func (s *laxStore) Get(context.Context, string, uuid.UUID) (*invitations.Invitation, error) {
	return s.row.Clone(), nil
}

func (h *harness) getStored(id uuid.UUID) *invitations.Invitation {
	h.t.Helper()
	inv, err := h.store.Get(context.Background(), "acct-1", id)
	require.NoError(h.t, err)
	return inv
}

func (h *harness) mustFind(email string) *invitations.Invitation {
	h.t.Helper()
	page, err := h.svc.List(context.Background(), invitations.ListQuery{AccountID: "acct-1", Search: email})
	require.NoError(h.t, err)
	require.Len(h.t, page.Invitations, 1)
	return page.Invitations[0]
}

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

func (s *countingStore) Update(ctx context.Context, inv *invitations.Invitation, expected int64, ev *invitations.Event) error {
	s.calls.Add(1)
	return s.Store.Update(ctx, inv, expected, ev)
}

// alwaysConflicting loses every compare-and-set, as if another process kept
// changing the invitation.
type alwaysConflicting struct {
	invitations.Store
	updates atomic.Int64
}

func (s *alwaysConflicting) Update(context.Context, *invitations.Invitation, int64, *invitations.Event) error {
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

type createFailing struct {
	invitations.Store
	err error
}

func (s createFailing) CreateMany(context.Context, []*invitations.Invitation, []*invitations.Event) ([]error, error) {
	return nil, s.err
}

// plainStore hides memstore's LimitStore methods: a Store of before Limits.
type plainStore struct{ invitations.Store }

// lostReply is a LimitStore whose LockAccount commits and then reports
// failure, as a database does whose reply to COMMIT never arrived (the
// context ended while it was on its way); for the accounts in lose only.
type lostReply struct {
	*memstore.Store
	lose, down map[string]bool
	cancel     *context.CancelFunc // ends the call's context, as a deadline during COMMIT does
}

var errReplyLost = errors.New("commit: context deadline exceeded")

func (s lostReply) LockAccount(ctx context.Context, accountID string, fn func(context.Context, invitations.LimitStore) error) error {
	if s.down[accountID] {
		(*s.cancel)()
		return errReplyLost // nothing committed
	}
	if err := s.Store.LockAccount(ctx, accountID, fn); err != nil || !s.lose[accountID] {
		return err
	}
	(*s.cancel)()
	return errReplyLost
}

// workStore is a memstore that records when ListDue and DeleteEnded are
// called (and with what cutoff), and fails them on demand: a non-nil
// listDue or deleteEnded error is returned instead of the memstore's
// answer.
type workStore struct {
	*memstore.Store
	listDue     func(ctx context.Context) error
	deleteEnded func(ctx context.Context) error

	mu      sync.Mutex
	listed  []time.Time // time.Now at each ListDue
	purged  []time.Time // time.Now at each DeleteEnded
	cutoffs []time.Time // endedBefore of each DeleteEnded
}

func (s *workStore) ListDue(ctx context.Context, now time.Time, limit int) ([]*invitations.Invitation, error) {
	s.mu.Lock()
	s.listed = append(s.listed, time.Now())
	s.mu.Unlock()
	if s.listDue != nil {
		if err := s.listDue(ctx); err != nil {
			return nil, err
		}
	}
	return s.Store.ListDue(ctx, now, limit)
}

func (s *workStore) DeleteEnded(ctx context.Context, endedBefore, expiredBefore time.Time) (int, error) {
	s.mu.Lock()
	s.purged = append(s.purged, time.Now())
	s.cutoffs = append(s.cutoffs, endedBefore)
	s.mu.Unlock()
	if s.deleteEnded != nil {
		if err := s.deleteEnded(ctx); err != nil {
			return 0, err
		}
	}
	return s.Store.DeleteEnded(ctx, endedBefore, expiredBefore)
}

func (s *workStore) calls() (listed, purged, cutoffs []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.listed...), append([]time.Time(nil), s.purged...), append([]time.Time(nil), s.cutoffs...)
}

var errDatabaseGone = errors.New("database connection lost")
