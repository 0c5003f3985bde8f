package invitations_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

var errHostDown = errors.New("host database down")

// rolesOf is a Config.Roles: acct-1 has admin and member, acct-2 billing.
func rolesOf(_ context.Context, account string) ([]string, error) {
	switch account {
	case "acct-1":
		return []string{"admin", "member"}, nil
	case "acct-2":
		return []string{"billing"}, nil
	}
	return nil, nil
}

// TestRolesHookRefusesUnknownRoles: with Config.Roles, Invite, each
// InviteMany row and UpdateRoles refuse a role the account does not have,
// storing and sending nothing; the hook's own failure is not bad input.
func TestRolesHookRefusesUnknownRoles(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *invitations.Config) { c.Roles = rolesOf })
	requireRolesError := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, invitations.ErrInvalidInput)
		var in *invitations.InputError
		require.ErrorAs(t, err, &in)
		assert.Equal(t, "roles", in.Field)
		assert.NotContains(t, err.Error(), "owner", "the rejected value is not echoed")
	}

	owner := input("acct-1", "ada@example.com")
	owner.Roles = []string{"member", "owner"}
	_, err := h.svc.Invite(ctx, owner)
	requireRolesError(err)
	assert.Zero(t, h.store.Len())
	assert.Empty(t, h.mailer.Messages())

	billing := input("acct-1", "ada@example.com")
	billing.Roles = []string{"billing"} // a role of another account
	_, err = h.svc.Invite(ctx, billing)
	requireRolesError(err)

	inv, _ := h.invite("ada@example.com") // admin: a role of acct-1
	_, err = h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{"owner"})
	requireRolesError(err)
	assert.Equal(t, []string{"admin"}, h.get(inv.ID).Roles)
	updated, err := h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{"member", " admin "})
	require.NoError(t, err)
	assert.Equal(t, []string{"member", "admin"}, updated.Roles)

	other := input("acct-2", "bob@example.com")
	other.Roles = []string{"billing"}
	results, err := h.svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "cy@example.com"), owner, other})
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	requireRolesError(results[1].Err)
	require.NoError(t, results[2].Err)
	assert.Equal(t, 3, h.store.Len())

	roles, err := h.svc.Roles(ctx, "acct-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"admin", "member"}, roles)
	roles, err = h.svc.Roles(ctx, "acct-3")
	require.NoError(t, err)
	assert.Equal(t, []string{}, roles, "an account with no roles: none is allowed")

	down := newHarness(t, func(c *invitations.Config) {
		c.Roles = func(context.Context, string) ([]string, error) { return nil, errHostDown }
	})
	_, err = down.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, errHostDown)
	assert.NotErrorIs(t, err, invitations.ErrInvalidInput)
	_, err = down.svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "ada@example.com")})
	require.ErrorIs(t, err, errHostDown, "a call error: it would fail every row")
	assert.Zero(t, down.store.Len())

	plain := newHarness(t)
	roles, err = plain.svc.Roles(ctx, "acct-1")
	require.NoError(t, err)
	assert.Nil(t, roles, "without the hook any role goes")
}

// TestAccountNameHookNamesTheAccountInEveryMail: with Config.AccountName,
// the invite, resend, regenerate and reminder name the account as the
// hook says at that time, and a request cannot name it.
func TestAccountNameHookNamesTheAccountInEveryMail(t *testing.T) {
	ctx := context.Background()
	var name atomic.Value
	name.Store("Acme Inc.")
	var calls atomic.Int64
	h := newHarness(t, func(c *invitations.Config) {
		c.AccountName = func(_ context.Context, account string) (string, error) {
			calls.Add(1)
			if account != "acct-1" {
				return "", fmt.Errorf("no account %s", account)
			}
			return name.Load().(string), nil
		}
		c.Delivery.RemindBefore = day
	})
	phish := input("acct-1", "ada@example.com")
	phish.Metadata = map[string]string{invitations.MetadataAccountName: "PayPal Security"}
	_, err := h.svc.Invite(ctx, phish)
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
	var in *invitations.InputError
	require.ErrorAs(t, err, &in)
	assert.Equal(t, "metadata", in.Field)
	assert.Zero(t, h.store.Len())
	assert.Empty(t, h.mailer.Messages())

	inv, _ := h.invite("ada@example.com")
	assert.Contains(t, h.mailer.Last().Subject, "Acme Inc.")
	assert.Contains(t, h.mailer.Last().Text, "Acme Inc.")

	name.Store("Acme Corporation") // renamed: the next mail says so
	h.clock.Advance(time.Hour)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Contains(t, h.mailer.Last().Text, "Acme Corporation")

	h.clock.Advance(week - 2*time.Hour)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, r.Delivered)
	assert.Equal(t, invitations.MessageReminder, h.mailer.Last().Kind)
	assert.Contains(t, h.mailer.Last().Text, "Acme Corporation")

	h.clock.Advance(2 * day)
	name.Store("Acme Group")
	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Contains(t, h.mailer.Last().Text, "Acme Group")
	got, err := h.svc.AccountName(ctx, inv)
	require.NoError(t, err)
	assert.Equal(t, "Acme Group", got, "what the invitee's page shows")

	_, err = h.svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "a@example.com"), input("acct-1", "b@example.com")})
	require.NoError(t, err)
	name.Store("Acme Holding")
	before := calls.Load()
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, r.Delivered)
	for _, m := range h.mailer.Messages()[len(h.mailer.Messages())-2:] {
		assert.Contains(t, m.Text, "Acme Holding", "named at the send, %s", m.To)
	}
	assert.Equal(t, before+2, calls.Load(), "asked at each send")

	// The hook failing: Invite stores nothing; a due message is retried.
	_, err = h.svc.Invite(ctx, input("acct-2", "cy@example.com"))
	require.ErrorContains(t, err, "AccountName")
	assert.NotErrorIs(t, err, invitations.ErrInvalidInput)
}

// TestAcceptAsOnlyTheInvitedPerson: a signed-in person whose email is not
// the invitation's changes nothing and learns nothing of its state.
func TestAcceptAsOnlyTheInvitedPerson(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, status := range []invitations.Status{invitations.StatusPending, invitations.StatusExpired, invitations.StatusAccepted, invitations.StatusRevoked} {
		inv, token := h.inStatus(status)
		got, err := h.svc.AcceptAs(ctx, token, "mallory@example.com")
		require.ErrorIs(t, err, invitations.ErrEmailMismatch, status)
		assert.Nil(t, got, "%s: nothing to learn", status)
		got, err = h.svc.DeclineAs(ctx, token, "mallory@example.com")
		require.ErrorIs(t, err, invitations.ErrEmailMismatch, status)
		assert.Nil(t, got)
		assert.Equal(t, inv.Version, h.get(inv.ID).Version, "%s: nothing changed", status)
	}
	_, err := h.svc.AcceptAs(ctx, "not-a-token", "mallory@example.com")
	require.ErrorIs(t, err, invitations.ErrInvalidToken)

	inv, token := h.invite("ada@example.com")
	accepted, err := h.svc.AcceptAs(ctx, token, "  Ada@Example.COM ")
	require.NoError(t, err, "the email is compared normalized")
	assert.Equal(t, invitations.StatusAccepted, accepted.State)
	assert.Equal(t, inv.ID, accepted.ID)
	_, err = h.svc.AcceptAs(ctx, token, "ada@example.com")
	require.ErrorIs(t, err, invitations.ErrNotPending, "the invitee learns the state of their own invitation")

	_, token = h.invite("bob@example.com")
	declined, err := h.svc.DeclineAs(ctx, token, "bob@example.com")
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusDeclined, declined.State)
}

// TestAcceptByAMemberEndsTheInvitation: someone who joined the account
// another way after being invited ends the invitation as accepted, and
// gets it with ErrAlreadyMember.
func TestAcceptByAMemberEndsTheInvitation(t *testing.T) {
	ctx := context.Background()
	members := map[string]bool{}
	failing := false
	h := newHarness(t, func(c *invitations.Config) {
		c.IsMember = func(_ context.Context, account, email string) (bool, error) {
			if failing {
				return false, errHostDown
			}
			return members[account+"/"+email], nil
		}
	})
	inv, token := h.invite("ada@example.com")
	members["acct-1/ada@example.com"] = true // joined another way meanwhile
	got, err := h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	require.NotNil(t, got)
	assert.Equal(t, invitations.StatusAccepted, got.State, "the person is in")
	assert.Equal(t, invitations.StatusAccepted, h.get(inv.ID).State)
	events := h.recorded()
	assert.Equal(t, invitations.EventAccepted, events[len(events)-1].Kind)

	_, token = h.invite("bob@example.com")
	members["acct-1/bob@example.com"] = true
	got, err = h.svc.AcceptAs(ctx, token, "bob@example.com")
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Equal(t, invitations.StatusAccepted, got.State)

	down, token := h.invite("down@example.com")
	failing = true
	_, err = h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, errHostDown)
	assert.Equal(t, invitations.StatusPending, h.get(down.ID).State, "the hook failed: nothing changed")
}

// TestAccountNameFailureIsRetried: a due message whose account name cannot
// be had now is retried, not given up.
func TestAccountNameFailureIsRetried(t *testing.T) {
	ctx := context.Background()
	var down atomic.Bool
	h := newHarness(t, func(c *invitations.Config) {
		c.AccountName = func(context.Context, string) (string, error) {
			if down.Load() {
				return "", errHostDown
			}
			return "Acme Inc.", nil
		}
	})
	_, err := h.svc.InviteMany(ctx, []invitations.InviteInput{input("acct-1", "ada@example.com")})
	require.NoError(t, err)
	down.Store(true)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, invitations.DeliveryReport{Attempted: 1, Retrying: 1}, r)
	down.Store(false)
	h.clock.Advance(time.Hour)
	r, err = h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Delivered)
	assert.Contains(t, h.mailer.Last().Text, "Acme Inc.")
}

// members is a host's membership table for Config.IsMember.
type members struct {
	mu     sync.Mutex
	emails map[string]bool // "account/email"
	asked  []string
	err    error
}

func (m *members) isMember(_ context.Context, accountID, email string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, email)
	return m.emails[accountID+"/"+email], m.err
}

func (m *members) add(accountID, email string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.emails[accountID+"/"+email] = true
}

func TestIsMemberRefusesAMembersEmail(t *testing.T) {
	ctx := context.Background()
	m := &members{emails: map[string]bool{"acct-1/ada@example.com": true}}
	h := newHarness(t, func(c *invitations.Config) { c.IsMember = m.isMember })

	_, err := h.svc.Invite(ctx, input("acct-1", "  Ada@Example.COM "))
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Equal(t, []string{"ada@example.com"}, m.asked, "IsMember sees the normalized email")
	assert.Zero(t, h.store.Len(), "nothing stored")
	assert.Empty(t, h.mailer.Messages(), "nothing sent")

	_, err = h.svc.Invite(ctx, input("acct-2", "ada@example.com"))
	require.NoError(t, err, "a member of another account can be invited")

	// Became a member after the invitation was sent: Resend and Regenerate
	// refuse, and change nothing.
	inv, _ := h.invite("bob@example.com")
	m.add("acct-1", "bob@example.com")
	sent := len(h.mailer.Messages())
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Len(t, h.mailer.Messages(), sent)
	assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing stored")
}

func TestIsMemberErrorIsReturnedWrapped(t *testing.T) {
	ctx := context.Background()
	down := errors.New("members table unreachable")
	m := &members{emails: map[string]bool{}, err: down}
	h := newHarness(t, func(c *invitations.Config) { c.IsMember = m.isMember })
	_, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, invitations.ErrAlreadyMember)
	assert.Zero(t, h.store.Len())
	assert.Empty(t, h.mailer.Messages())
}
