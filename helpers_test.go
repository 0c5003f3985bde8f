package invitations_test

import (
	"context"
	"sync"
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
