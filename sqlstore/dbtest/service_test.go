package dbtest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/internal/limitsuite"
	"github.com/invitekit/invitations/invitationstest"
)

const goroutines = 50

var secret = []byte("sqlstore test secret of 32 bytes or more")

type rig struct {
	svc    *invitations.Service
	clock  *invitationstest.Clock
	mailer *invitationstest.Mailer
}

func newRig(t *testing.T, b backend) *rig {
	t.Helper()
	store, _ := b.newStore(t)
	r := &rig{
		clock:  invitationstest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)),
		mailer: invitationstest.NewMailer(),
	}
	var err error
	r.svc, err = invitations.New(store, r.mailer, invitations.Config{
		Secret: secret, AcceptURL: "https://app.example.com/accept", Now: r.clock.Now,
	})
	require.NoError(t, err)
	return r
}

func (r *rig) token(t *testing.T) string {
	t.Helper()
	token, err := invitationstest.TokenFromLink(r.mailer.Last().Link)
	require.NoError(t, err)
	return token
}

func together(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	ready.Add(1)
	for i := range n {
		done.Go(func() {
			ready.Wait()
			errs[i] = fn(i)
		})
	}
	ready.Done()
	done.Wait()
	return errs
}

func successes(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

// TestServiceStory runs the product's whole story through the Service on
// each real database, at the exact expiry instant.
func TestServiceStory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t, b)
			inv, err := r.svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "Ada@Example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			first := r.token(t)
			_, err = r.svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"viewer"}})
			var already *invitations.AlreadyInvitedError
			require.ErrorAs(t, err, &already)
			assert.Equal(t, inv.ID, already.ExistingID)

			r.clock.Advance(3 * 24 * time.Hour)
			inv, err = r.svc.Resend(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, first, r.token(t))

			r.clock.Set(inv.ExpiresAt.Add(-time.Microsecond))
			_, err = r.svc.Lookup(ctx, first)
			require.NoError(t, err, "valid one microsecond before ExpiresAt")
			r.clock.Set(inv.ExpiresAt)
			_, err = r.svc.Lookup(ctx, first)
			require.ErrorIs(t, err, invitations.ErrExpired, "expired at exactly ExpiresAt, as on memstore")

			inv, err = r.svc.Regenerate(ctx, "acme", inv.ID)
			require.NoError(t, err)
			_, err = r.svc.Accept(ctx, first)
			require.ErrorIs(t, err, invitations.ErrInvalidToken)
			accepted, err := r.svc.Accept(ctx, r.token(t))
			require.NoError(t, err)
			assert.Equal(t, invitations.StatusAccepted, accepted.State)
			assert.Equal(t, r.clock.Now().Truncate(time.Microsecond), accepted.AcceptedAt)

			got, err := r.svc.Get(ctx, "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, time.UTC, got.AcceptedAt.Location())
			assert.True(t, got.AcceptedAt.Equal(accepted.AcceptedAt))
			_, err = r.svc.Get(ctx, "other", inv.ID)
			require.ErrorIs(t, err, invitations.ErrNotFound)

			page, err := r.svc.List(ctx, invitations.ListQuery{AccountID: "acme", Status: invitations.StatusAccepted})
			require.NoError(t, err)
			require.Len(t, page.Invitations, 1)

			n, err := r.svc.Purge(ctx, r.clock.Now().Add(time.Second))
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		})
	}
}

func TestConcurrentAcceptsOneWinner(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			_, err := r.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			token := r.token(t)
			errs := together(goroutines, func(int) error {
				_, err := r.svc.Accept(context.Background(), token)
				return err
			})
			require.Equal(t, 1, successes(errs), "exactly one of %d concurrent accepts wins", goroutines)
			for _, err := range errs {
				if err != nil {
					require.True(t, errors.Is(err, invitations.ErrNotPending) || errors.Is(err, invitations.ErrConflict),
						"a loser is told it lost: %v", err)
				}
			}
		})
	}
}

func TestConcurrentInvitesOneSucceeds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			errs := together(goroutines, func(i int) error {
				email := "ada@example.com"
				if i%2 == 1 {
					email = "ADA@example.com"
				}
				_, err := r.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: email, Roles: []string{"admin"}})
				return err
			})
			require.Equal(t, 1, successes(errs))
			for _, err := range errs {
				if err != nil {
					require.ErrorIs(t, err, invitations.ErrAlreadyInvited)
				}
			}
			page, err := r.svc.List(context.Background(), invitations.ListQuery{AccountID: "acme"})
			require.NoError(t, err)
			require.Len(t, page.Invitations, 1)
			assert.Len(t, r.mailer.Messages(), 1)
		})
	}
}

// TestResendRacingAccept: whatever the interleaving, the invitation ends
// accepted with nothing left due, and each call either succeeded (and
// mailed once) or was refused with a rule's error.
func TestResendRacingAccept(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for round := range 5 {
				ctx := context.Background()
				r := newRig(t, b)
				inv, err := r.svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: fmt.Sprintf("u%d@example.com", round), Roles: []string{"admin"}})
				require.NoError(t, err)
				token := r.token(t)
				errs := together(20, func(i int) error {
					if i == 0 {
						_, err := r.svc.Accept(ctx, token)
						return err
					}
					_, err := r.svc.Resend(ctx, "acme", inv.ID)
					return err
				})
				if errs[0] != nil {
					require.ErrorIs(t, errs[0], invitations.ErrConflict, "accept loses only by running out of retries")
					continue
				}
				for _, err := range errs[1:] {
					if err != nil {
						require.True(t, errors.Is(err, invitations.ErrNotPending) || errors.Is(err, invitations.ErrConflict), "%v", err)
					}
				}
				got, err := r.svc.Get(ctx, "acme", inv.ID)
				require.NoError(t, err)
				assert.Equal(t, invitations.StatusAccepted, got.State)
				assert.Empty(t, got.Delivery.Due, "nothing is left due on an accepted invitation")
				assert.Len(t, r.mailer.Messages(), 1+successes(errs[1:]), "one mail per successful call")
			}
		})
	}
}

// TestConcurrentDeliverDue: four processes run DeliverDue at once on the
// real database after an outage; each due message goes out exactly once.
func TestConcurrentDeliverDue(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t, b)
			r.mailer.FailNext(40, errors.New("smtp: 421 try later"))
			for i := range 40 {
				_, err := r.svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: fmt.Sprintf("u%d@example.com", i), Roles: []string{"admin"}})
				require.ErrorIs(t, err, invitations.ErrDelivery)
			}
			r.clock.Advance(time.Hour)
			errs := together(4, func(int) error {
				_, err := r.svc.DeliverDue(ctx)
				return err
			})
			for _, err := range errs {
				require.NoError(t, err)
			}
			perInvitation := map[string]int{}
			for _, msg := range r.mailer.Messages() {
				perInvitation[msg.To]++
			}
			require.Len(t, perInvitation, 40, "every message delivered")
			for to, n := range perInvitation {
				require.Equal(t, 1, n, "%s got %d mails", to, n)
			}
		})
	}
}

// TestForgedCursorOnEveryDatabase: a cursor whose time is past what the
// database can compare is an *InputError, never a raw store error.
func TestForgedCursorOnEveryDatabase(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			_, err := r.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
			require.NoError(t, err)
			for _, year := range []int{300000, -4800, 10000} {
				var raw [24]byte
				binary.BigEndian.PutUint64(raw[:8], uint64(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()))
				_, err := r.svc.List(context.Background(), invitations.ListQuery{AccountID: "acme", After: base64.RawURLEncoding.EncodeToString(raw[:])})
				var inputErr *invitations.InputError
				require.ErrorAs(t, err, &inputErr, "year %d", year)
				assert.Equal(t, "after", inputErr.Field)
			}
		})
	}
}

// TestLimits runs the limits' rules through the Service on each real
// database, including 64 invites racing from two Services.
func TestLimits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			limitsuite.Run(t, func(t *testing.T) invitations.LimitStore {
				s, _ := b.newStore(t)
				return s
			})
		})
	}
}
