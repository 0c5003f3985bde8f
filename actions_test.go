package invitations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestAdminCallsCheckTheAccount: even over a Store that ignores the
// account, no admin call reaches another account's invitation.
func TestAdminCallsCheckTheAccount(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	svc, err := invitations.New(&laxStore{Store: h.store, row: h.getStored(inv.ID)}, h.mailer, h.cfg)
	require.NoError(t, err)
	calls := map[string]error{}
	_, calls["Get"] = svc.Get(ctx, "intruder", inv.ID)
	_, calls["Resend"] = svc.Resend(ctx, "intruder", inv.ID)
	_, calls["CopyLink"] = svc.CopyLink(ctx, "intruder", inv.ID)
	_, calls["Regenerate"] = svc.Regenerate(ctx, "intruder", inv.ID)
	_, calls["UpdateRoles"] = svc.UpdateRoles(ctx, "intruder", inv.ID, []string{"owner"})
	_, calls["Revoke"] = svc.Revoke(ctx, "intruder", inv.ID)
	_, calls["Deliver"] = svc.Deliver(ctx, "intruder", inv.ID)
	for name, err := range calls {
		assert.ErrorIs(t, err, invitations.ErrNotFound, name)
	}
	assert.Equal(t, inv.Version, h.get(inv.ID).Version, "nothing changed")
	assert.Len(t, h.mailer.Messages(), 1)
}

// TestActionsOfferExactlyWhatSucceeds: in every status, and for a link
// whose secret was dropped, each action Actions offers succeeds and each it
// leaves out fails. Every pair gets a world of its own.
func TestActionsOfferExactlyWhatSucceeds(t *testing.T) {
	ctx := context.Background()
	all := []invitations.Action{invitations.ActionResend, invitations.ActionCopyLink,
		invitations.ActionRegenerate, invitations.ActionUpdateRoles, invitations.ActionRevoke}
	for _, status := range []invitations.Status{invitations.StatusPending, invitations.StatusExpired,
		invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked, "retired"} {
		for _, action := range all {
			t.Run(string(status)+"/"+string(action), func(t *testing.T) {
				h := newHarness(t)
				svc := h.svc
				var inv *invitations.Invitation
				if status == "retired" {
					inv, _ = h.invite("ada@example.com")
					cfg := h.cfg
					cfg.Secret = secretB // secret A dropped
					svc = h.service(cfg)
					var err error
					inv, err = svc.Get(ctx, "acct-1", inv.ID)
					require.NoError(t, err)
				} else {
					inv, _ = h.inStatus(status)
				}
				err := try(ctx, svc, inv, action)
				if slices.Contains(svc.Actions(inv), action) {
					assert.NoError(t, err, "offered but fails")
				} else {
					assert.Error(t, err, "not offered but succeeds")
				}
			})
		}
	}

	// The pure rule does not know about secrets; Actions does.
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	cfg := h.cfg
	cfg.Secret = secretB
	rotated := h.service(cfg)
	got, err := rotated.Get(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, []invitations.Action{invitations.ActionRegenerate, invitations.ActionUpdateRoles, invitations.ActionRevoke},
		rotated.Actions(got))
	assert.Contains(t, got.ActionsAt(h.clock.Now()), invitations.ActionResend, "ActionsAt is the rule alone")
	cfg.PreviousSecrets = [][]byte{secretA}
	assert.Equal(t, got.ActionsAt(h.clock.Now()), h.service(cfg).Actions(got), "a secret still held changes nothing")
	page, err := rotated.List(ctx, invitations.ListQuery{AccountID: "acct-1"})
	require.NoError(t, err)
	assert.Equal(t, rotated.Actions(got), rotated.Actions(page.Invitations[0]), "List keeps the key id too")
	assertNoTokenSecrets(t, page.Invitations[0].Token)
}

// try runs one admin action.
func try(ctx context.Context, svc *invitations.Service, inv *invitations.Invitation, a invitations.Action) error {
	var err error
	switch a {
	case invitations.ActionResend:
		_, err = svc.Resend(ctx, inv.AccountID, inv.ID)
	case invitations.ActionCopyLink:
		_, err = svc.CopyLink(ctx, inv.AccountID, inv.ID)
	case invitations.ActionRegenerate:
		_, err = svc.Regenerate(ctx, inv.AccountID, inv.ID)
	case invitations.ActionUpdateRoles:
		_, err = svc.UpdateRoles(ctx, inv.AccountID, inv.ID, []string{"viewer"})
	case invitations.ActionRevoke:
		_, err = svc.Revoke(ctx, inv.AccountID, inv.ID)
	}
	return err
}

// TestEveryActionInEveryStatus is the rules table of the README.
func TestEveryActionInEveryStatus(t *testing.T) {
	type call func(h *harness, inv *invitations.Invitation, token string) error
	admin := func(f func(*invitations.Service, context.Context, string, uuid.UUID) (*invitations.Invitation, error)) call {
		return func(h *harness, inv *invitations.Invitation, _ string) error {
			_, err := f(h.svc, context.Background(), "acct-1", inv.ID)
			return err
		}
	}
	calls := map[string]call{
		"Resend":     admin((*invitations.Service).Resend),
		"Regenerate": admin((*invitations.Service).Regenerate),
		"Revoke":     admin((*invitations.Service).Revoke),
		"CopyLink": func(h *harness, inv *invitations.Invitation, _ string) error {
			_, err := h.svc.CopyLink(context.Background(), "acct-1", inv.ID)
			return err
		},
		"UpdateRoles": func(h *harness, inv *invitations.Invitation, _ string) error {
			_, err := h.svc.UpdateRoles(context.Background(), "acct-1", inv.ID, []string{"viewer"})
			return err
		},
		"Lookup": func(h *harness, _ *invitations.Invitation, token string) error {
			_, err := h.svc.Lookup(context.Background(), token)
			return err
		},
		"Accept": func(h *harness, _ *invitations.Invitation, token string) error {
			_, err := h.svc.Accept(context.Background(), token)
			return err
		},
		"Decline": func(h *harness, _ *invitations.Invitation, token string) error {
			_, err := h.svc.Decline(context.Background(), token)
			return err
		},
	}
	ok := error(nil)
	want := map[invitations.Status]map[string]error{
		invitations.StatusPending: {
			"Resend": ok, "CopyLink": ok, "Regenerate": invitations.ErrNotExpired, "UpdateRoles": ok,
			"Revoke": ok, "Lookup": ok, "Accept": ok, "Decline": ok,
		},
		invitations.StatusExpired: {
			"Resend": invitations.ErrExpired, "CopyLink": invitations.ErrExpired, "Regenerate": ok, "UpdateRoles": ok,
			"Revoke": ok, "Lookup": invitations.ErrExpired, "Accept": invitations.ErrExpired, "Decline": invitations.ErrExpired,
		},
	}
	for _, ended := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		want[ended] = map[string]error{}
		for name := range calls {
			want[ended][name] = invitations.ErrNotPending
		}
	}
	menu := map[string]invitations.Action{
		"Resend": invitations.ActionResend, "CopyLink": invitations.ActionCopyLink, "Regenerate": invitations.ActionRegenerate,
		"UpdateRoles": invitations.ActionUpdateRoles, "Revoke": invitations.ActionRevoke,
	}
	for status, byCall := range want {
		for name, wantErr := range byCall {
			t.Run(string(status)+"/"+name, func(t *testing.T) {
				h := newHarness(t)
				inv, token := h.inStatus(status)
				before := h.get(inv.ID)
				err := calls[name](h, inv, token)
				if wantErr == nil {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, wantErr)
					after := h.get(inv.ID)
					assert.Equal(t, before.Version, after.Version, "a refused action changes nothing")
				}
				if action, isMenu := menu[name]; isMenu {
					assert.Equal(t, wantErr == nil, slices.Contains(before.ActionsAt(h.clock.Now()), action),
						"ActionsAt must offer %s exactly when it is allowed", action)
				}
			})
		}
	}
}

func TestResendMailsTheSameLinkAndMovesExpiry(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	firstLink := h.mailer.Last().Link

	h.clock.Advance(3 * day)
	resent, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.True(t, resent.ExpiresAt.Equal(start.Add(3*day+week)), "expiry is reset to seven days from now")
	assert.True(t, resent.SentAt.Equal(start.Add(3*day)))
	assert.Equal(t, 2, resent.SendCount)

	msg := h.mailer.Last()
	assert.Equal(t, invitations.MessageResend, msg.Kind)
	assert.Equal(t, firstLink, msg.Link, "a resend mails the same link")

	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, firstLink, link)

	// The old expiry has passed, the new one not: the link still works.
	h.clock.Advance(5 * day)
	accepted, err := h.svc.Accept(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusAccepted, accepted.State)
}

// TestCopyLinkRecordsTheCopy: a copy is a stored change of the current
// link, reported with who made it; a refused copy records nothing. Resend
// (the same link) keeps the record, Regenerate (a new link) clears it.
func TestCopyLinkRecordsTheCopy(t *testing.T) {
	ctx := invitations.WithActor(context.Background(), "grace@acme.test")
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	assert.True(t, h.get(inv.ID).LinkCopiedAt.IsZero(), "a link that only went by mail")

	h.clock.Advance(time.Hour)
	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, h.mailer.Last().Link, link, "the link mailed last")
	stored := h.get(inv.ID)
	assert.Equal(t, inv.Version+1, stored.Version, "one stored change")
	assert.Equal(t, h.clock.Now(), stored.LinkCopiedAt)
	events := h.recorded()
	copied := events[len(events)-1]
	assert.Equal(t, invitations.EventLinkCopied, copied.Kind)
	assert.Equal(t, "grace@acme.test", copied.Actor)
	assert.Equal(t, h.clock.Now(), copied.At)
	assert.Equal(t, stored.Version, copied.Invitation.Version, "the event shows the stored invitation")
	assert.Equal(t, stored.LinkCopiedAt, copied.Invitation.LinkCopiedAt)
	assertNoTokenSecrets(t, copied.Invitation.Token)

	h.clock.Advance(time.Minute)
	again, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, again, "the same link")
	assert.Equal(t, h.clock.Now(), h.get(inv.ID).LinkCopiedAt, "the last copy")
	assert.Equal(t, inv.Version+2, h.get(inv.ID).Version)
	assert.Len(t, h.mailer.Messages(), 1, "a copy mails nothing")

	copiedAt := h.clock.Now()
	h.clock.Advance(time.Hour)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, copiedAt, h.get(inv.ID).LinkCopiedAt, "a resend mails the same link, copied or not")

	h.clock.Advance(week)
	before := h.get(inv.ID)
	events = h.recorded()
	_, err = h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrExpired)
	assert.Equal(t, before, h.get(inv.ID), "a refused copy stores nothing")
	assert.Equal(t, events, h.recorded(), "and reports nothing")

	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.True(t, h.get(inv.ID).LinkCopiedAt.IsZero(), "the new link was never copied")
}

func TestRegenerateKillsTheOldLink(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, oldToken := h.invite("ada@example.com")
	oldLink := h.mailer.Last().Link

	h.clock.Advance(week + time.Hour)
	now := h.clock.Now()
	regenerated, err := h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.True(t, regenerated.ExpiresAt.Equal(now.Add(week)))
	assert.Equal(t, invitations.StatusPending, regenerated.StatusAt(now))
	assert.Equal(t, 2, regenerated.SendCount)

	msg := h.mailer.Last()
	assert.Equal(t, invitations.MessageRegenerate, msg.Kind)
	assert.NotEqual(t, oldLink, msg.Link)
	newToken := h.lastToken()

	_, err = h.svc.Lookup(ctx, oldToken)
	require.ErrorIs(t, err, invitations.ErrInvalidToken, "the old link is dead, not expired")
	_, err = h.svc.Accept(ctx, oldToken)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)

	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, msg.Link, link)
	accepted, err := h.svc.Accept(ctx, newToken)
	require.NoError(t, err)
	assert.True(t, accepted.AcceptedAt.Equal(now))
}

func TestRevokeKillsTheLinkAtOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	h.clock.Advance(time.Minute)
	revoked, err := h.svc.Revoke(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusRevoked, revoked.State)
	assert.True(t, revoked.RevokedAt.Equal(start.Add(time.Minute)))
	assert.True(t, revoked.EndedAt().Equal(revoked.RevokedAt))

	found, err := h.svc.Lookup(ctx, token)
	require.ErrorIs(t, err, invitations.ErrNotPending)
	require.NotNil(t, found, "the page can say the invitation was withdrawn")
	assert.Equal(t, invitations.StatusRevoked, found.State)
	_, err = h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrNotPending)
}

func TestUpdateRoles(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")

	updated, err := h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{" viewer ", "billing", "viewer"})
	require.NoError(t, err)
	assert.Equal(t, []string{"viewer", "billing"}, updated.Roles)
	assert.Equal(t, []string{"viewer", "billing"}, h.get(inv.ID).Roles)

	for _, bad := range [][]string{nil, {}, {""}, {"  "}} {
		_, err := h.svc.UpdateRoles(ctx, "acct-1", inv.ID, bad)
		require.ErrorIs(t, err, invitations.ErrInvalidInput, "roles %q", bad)
	}
	assert.Equal(t, []string{"viewer", "billing"}, h.get(inv.ID).Roles, "a refused update keeps the roles")

	h.clock.Advance(week)
	_, err = h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{"owner"})
	require.NoError(t, err, "an expired invitation can still be edited")
}

func TestAccountsNeverSeeEachOther(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	other := "acct-2"

	_, err := h.svc.Get(ctx, other, inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = h.svc.Resend(ctx, other, inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = h.svc.CopyLink(ctx, other, inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = h.svc.UpdateRoles(ctx, other, inv.ID, []string{"owner"})
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = h.svc.Revoke(ctx, other, inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)
	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, other, inv.ID)
	require.ErrorIs(t, err, invitations.ErrNotFound)

	page, err := h.svc.List(ctx, invitations.ListQuery{AccountID: other})
	require.NoError(t, err)
	assert.Empty(t, page.Invitations)

	after := h.get(inv.ID)
	assert.Equal(t, inv.Version, after.Version)
	assert.Equal(t, []string{"admin"}, after.Roles)
	assert.Len(t, h.mailer.Messages(), 1)
}

func TestUnknownIDIsNotFound(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.Get(context.Background(), "acct-1", uuid.New())
	require.ErrorIs(t, err, invitations.ErrNotFound)
	_, err = h.svc.Revoke(context.Background(), "acct-1", uuid.Nil)
	require.ErrorIs(t, err, invitations.ErrNotFound)
}
