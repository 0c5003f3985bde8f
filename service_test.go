package invitations_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

func TestInviteStoresAndMailsTheLink(t *testing.T) {
	h := newHarness(t)
	inv, err := h.svc.Invite(context.Background(), invitations.InviteInput{
		AccountID: "acct-1",
		Email:     "  Ada.Lovelace@Example.COM ",
		Name:      " Ada ",
		Roles:     []string{" admin ", "billing", "admin"},
		InvitedBy: "Grace Hopper",
		Metadata:  map[string]string{"locale": "en-GB"},
	})
	require.NoError(t, err)

	assert.Equal(t, 7, int(inv.ID.Version()), "IDs are UUIDv7")
	assert.Equal(t, "ada.lovelace@example.com", inv.Email)
	assert.Equal(t, "Ada", inv.Name)
	assert.Equal(t, []string{"admin", "billing"}, inv.Roles)
	assert.Equal(t, map[string]string{"locale": "en-GB"}, inv.Metadata)
	assert.Equal(t, invitations.StatusPending, inv.State)
	assert.True(t, inv.CreatedAt.Equal(start))
	assert.True(t, inv.SentAt.Equal(start))
	assert.True(t, inv.ExpiresAt.Equal(start.Add(week)), "seven days by default")
	assert.Equal(t, 1, inv.SendCount)
	assertNoTokenSecrets(t, inv.Token)

	msgs := h.mailer.Messages()
	require.Len(t, msgs, 1)
	msg := msgs[0]
	assert.Equal(t, invitations.MessageInvite, msg.Kind)
	assert.Equal(t, "ada.lovelace@example.com", msg.To)
	assert.True(t, strings.HasPrefix(msg.Link, acceptURL+"?token="), msg.Link)
	assert.Contains(t, msg.Text, msg.Link)
	assert.Contains(t, msg.HTML, `href="`+msg.Link+`"`)
	assert.Contains(t, msg.Subject, "Grace Hopper")
	assert.Equal(t, inv.ID, msg.Invitation.ID)
	assertNoTokenSecrets(t, msg.Invitation.Token)

	stored := h.get(inv.ID)
	assert.Equal(t, inv.Email, stored.Email)
	assert.EqualValues(t, 2, stored.Version, "created, then its delivery recorded")
	assert.Equal(t, invitations.Delivery{DeliveredAt: start}, stored.Delivery)
	assert.Equal(t, stored.Delivery, inv.Delivery, "Invite returns the recorded delivery")

	found, err := h.svc.Lookup(context.Background(), h.lastToken())
	require.NoError(t, err)
	assert.Equal(t, inv.ID, found.ID)
}

func TestInviteRejectsBadInputAndStoresNothing(t *testing.T) {
	valid := input("acct-1", "ada@example.com")
	with := func(f func(*invitations.InviteInput)) invitations.InviteInput {
		in := valid
		in.Roles = append([]string(nil), valid.Roles...)
		f(&in)
		return in
	}
	email := func(e string) invitations.InviteInput {
		return with(func(in *invitations.InviteInput) { in.Email = e })
	}
	tooManyRoles := make([]string, invitations.MaxRoles+1)
	for i := range tooManyRoles {
		tooManyRoles[i] = uuid.NewString()
	}
	cases := map[string]struct {
		in    invitations.InviteInput
		field string
	}{
		"empty email":           {email(""), "email"},
		"blank email":           {email("   "), "email"},
		"no at sign":            {email("ada.example.com"), "email"},
		"two at signs":          {email("ada@lovelace@example.com"), "email"},
		"display name":          {email("Ada <ada@example.com>"), "email"},
		"quoted display name":   {email(`"Ada" <ada@example.com>`), "email"},
		"two addresses":         {email("ada@example.com, bob@example.com"), "email"},
		"255 bytes":             {email(strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61) + ".com"), "email"},
		"local part over 64":    {email(strings.Repeat("a", 65) + "@example.com"), "email"},
		"control character":     {email("ada\x00@example.com"), "email"},
		"newline":               {email("ada@example.com\nbcc@evil.com"), "email"},
		"unicode local part":    {email("adä@example.com"), "email"},
		"unicode domain":        {email("ada@exämple.com"), "email"},
		"space inside":          {email("ada lovelace@example.com"), "email"},
		"no dot in domain":      {email("ada@localhost"), "email"},
		"leading dot":           {email(".ada@example.com"), "email"},
		"double dot":            {email("ada..l@example.com"), "email"},
		"empty domain label":    {email("ada@example..com"), "email"},
		"hyphen edge label":     {email("ada@-example.com"), "email"},
		"numeric tld":           {email("ada@10.0.0.1"), "email"},
		"ip literal":            {email("ada@[127.0.0.1]"), "email"},
		"empty local part":      {email("@example.com"), "email"},
		"no roles":              {with(func(in *invitations.InviteInput) { in.Roles = nil }), "roles"},
		"empty role":            {with(func(in *invitations.InviteInput) { in.Roles = []string{""} }), "roles"},
		"blank role":            {with(func(in *invitations.InviteInput) { in.Roles = []string{"admin", "  "} }), "roles"},
		"control char in role":  {with(func(in *invitations.InviteInput) { in.Roles = []string{"ad\tmin"} }), "roles"},
		"overlong role":         {with(func(in *invitations.InviteInput) { in.Roles = []string{strings.Repeat("r", 101)} }), "roles"},
		"too many roles":        {with(func(in *invitations.InviteInput) { in.Roles = tooManyRoles }), "roles"},
		"no account":            {with(func(in *invitations.InviteInput) { in.AccountID = "" }), "account_id"},
		"blank account":         {with(func(in *invitations.InviteInput) { in.AccountID = " \t" }), "account_id"},
		"invalid utf8 name":     {with(func(in *invitations.InviteInput) { in.Name = "\xff" }), "name"},
		"metadata empty key":    {with(func(in *invitations.InviteInput) { in.Metadata = map[string]string{"": "x"} }), "metadata"},
		"metadata value length": {with(func(in *invitations.InviteInput) { in.Metadata = map[string]string{"k": strings.Repeat("v", 1025)} }), "metadata"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			inv, err := h.svc.Invite(context.Background(), tc.in)
			require.ErrorIs(t, err, invitations.ErrInvalidInput)
			var inputErr *invitations.InputError
			require.ErrorAs(t, err, &inputErr)
			assert.Equal(t, tc.field, inputErr.Field)
			assert.Nil(t, inv)
			assert.Zero(t, h.store.Len(), "nothing stored")
			assert.Empty(t, h.mailer.Messages(), "nothing mailed")
			assert.Empty(t, h.recorded(), "no event")
		})
	}
}

func TestNormalizeEmailAcceptsRealAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":                      "ada@example.com",
		" Ada@Example.Com\t":                   "ada@example.com",
		"ada+invites@mail.example.co.uk":       "ada+invites@mail.example.co.uk",
		"o'brien@example.ie":                   "o'brien@example.ie",
		"first.last@sub-domain.example.com":    "first.last@sub-domain.example.com",
		"ada@xn--bcher-kva.example":            "ada@xn--bcher-kva.example",
		strings.Repeat("a", 64) + "@ex.com":    strings.Repeat("a", 64) + "@ex.com",
		"x@" + strings.Repeat("d", 63) + ".io": "x@" + strings.Repeat("d", 63) + ".io",
	} {
		got, err := invitations.NormalizeEmail(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	// 254 bytes is the longest accepted address.
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	require.Len(t, long, 254)
	_, err := invitations.NormalizeEmail(long)
	require.NoError(t, err)
}

func TestInviteOnePendingPerEmailAndAccount(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	first, _ := h.invite("ada@example.com")

	_, err := h.svc.Invite(ctx, input("acct-1", "ADA@example.com"))
	require.ErrorIs(t, err, invitations.ErrAlreadyInvited)
	var already *invitations.AlreadyInvitedError
	require.ErrorAs(t, err, &already)
	assert.Equal(t, first.ID, already.ExistingID)

	h.clock.Advance(week + day)
	_, err = h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrAlreadyInvited, "an expired invitation is still pending: regenerate it")

	_, err = h.svc.Invite(ctx, input("acct-2", "ada@example.com"))
	require.NoError(t, err, "another account may invite the same person")
	assert.Len(t, h.mailer.Messages(), 2, "the refused invite mailed nothing")
}

func TestInviteAgainAfterTheInvitationEnded(t *testing.T) {
	for _, status := range []invitations.Status{invitations.StatusAccepted, invitations.StatusDeclined, invitations.StatusRevoked} {
		t.Run(string(status), func(t *testing.T) {
			h := newHarness(t)
			old, _ := h.inStatus(status)
			again, err := h.svc.Invite(context.Background(), input("acct-1", old.Email))
			require.NoError(t, err)
			assert.NotEqual(t, old.ID, again.ID)
		})
	}
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

func TestExpiryBoundaryIsExpired(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")

	h.clock.Set(inv.ExpiresAt.Add(-time.Microsecond))
	_, err := h.svc.Lookup(ctx, token)
	require.NoError(t, err, "one microsecond before ExpiresAt the link works")
	_, err = h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)

	h.clock.Set(inv.ExpiresAt)
	assert.Equal(t, invitations.StatusExpired, inv.StatusAt(h.clock.Now()))
	found, err := h.svc.Lookup(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired, "at exactly ExpiresAt the link is expired")
	require.NotNil(t, found, "an expired link still says whose invitation it was")
	assert.Equal(t, inv.ID, found.ID)

	got, err := h.svc.Accept(ctx, token)
	require.ErrorIs(t, err, invitations.ErrExpired)
	require.NotNil(t, got)
	assert.Equal(t, invitations.StatusPending, got.State)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrExpired)
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

func TestDeclineEndsTheInvitation(t *testing.T) {
	h := newHarness(t)
	_, token := h.invite("ada@example.com")
	declined, err := h.svc.Decline(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusDeclined, declined.State)
	assert.True(t, declined.DeclinedAt.Equal(start))
	_, err = h.svc.Accept(context.Background(), token)
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

func TestDeliveryFailureKeepsTheInvitation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	smtpDown := errors.New("smtp: connection refused")
	h.mailer.FailNext(1, smtpDown)

	inv, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.ErrorIs(t, err, smtpDown, "the mailer's cause is kept")
	require.NotNil(t, inv, "the stored invitation is returned with the delivery error")
	assert.Empty(t, h.mailer.Messages())

	stored := h.get(inv.ID)
	assert.Equal(t, invitations.StatusPending, stored.State)
	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err, "the admin can share the link by hand")

	h.clock.Advance(day)
	h.mailer.FailNext(1, smtpDown)
	resent, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrDelivery)
	require.NotNil(t, resent)
	assert.True(t, h.get(inv.ID).ExpiresAt.Equal(start.Add(day+week)), "the resend is stored before the send")

	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, h.mailer.Last().Link)
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	link := h.mailer.Last().Link

	rotated := h.cfg
	rotated.Secret, rotated.PreviousSecrets = secretB, [][]byte{secretA}
	svcB := h.service(rotated)

	found, err := svcB.Lookup(ctx, token)
	require.NoError(t, err, "links of a previous secret keep working")
	assert.Equal(t, inv.ID, found.ID)
	copied, err := svcB.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, copied, "copy gives back the link issued under the old secret")
	_, err = svcB.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, link, h.mailer.Last().Link)

	// New invitations use the new secret; the old service can't open them.
	_, err = svcB.Invite(ctx, input("acct-1", "bob@example.com"))
	require.NoError(t, err)
	_, err = h.svc.Lookup(ctx, h.lastToken())
	require.ErrorIs(t, err, invitations.ErrInvalidToken)

	// Dropping the old secret kills its links; Regenerate works even before expiry.
	dropped := h.cfg
	dropped.Secret, dropped.PreviousSecrets = secretB, nil
	svcOnlyB := h.service(dropped)
	_, err = svcOnlyB.Lookup(ctx, token)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.CopyLink(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.Resend(ctx, "acct-1", inv.ID)
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	_, err = svcOnlyB.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = svcOnlyB.Accept(ctx, h.lastToken())
	require.NoError(t, err)
}

func TestMalformedTokensNeverReachTheStore(t *testing.T) {
	h := newHarness(t)
	_, valid := h.invite("ada@example.com")
	counting := &countingStore{Store: h.store}
	svc, err := invitations.New(counting, h.mailer, h.cfg)
	require.NoError(t, err)

	flip := []byte(valid)
	flip[0] ^= 1 // another key id: unknown to the Service
	for name, token := range map[string]string{
		"empty":          "",
		"short":          "abc",
		"truncated":      valid[:len(valid)-1],
		"too long":       valid + "A",
		"over 200 bytes": strings.Repeat("A", 201),
		"wrong alphabet": "+" + valid[1:],
		"padding":        valid[:len(valid)-1] + "=",
		"newline":        valid[:len(valid)-1] + "\n",
		"unknown key":    string(flip),
		"unicode":        "é" + valid[2:],
	} {
		for op, call := range map[string]func(context.Context, string) (*invitations.Invitation, error){
			"Lookup": svc.Lookup, "Accept": svc.Accept, "Decline": svc.Decline,
		} {
			inv, err := call(context.Background(), token)
			require.ErrorIs(t, err, invitations.ErrInvalidToken, "%s %s", op, name)
			assert.Nil(t, inv)
		}
	}
	assert.Zero(t, counting.calls.Load(), "malformed tokens are rejected before any store call")

	// A well-formed token of a held key that matches nothing is looked up once.
	body := []byte(valid)
	body[len(body)-2] = 'A' + (body[len(body)-2]-'A'+1)%26
	_, err = svc.Lookup(context.Background(), string(body))
	require.ErrorIs(t, err, invitations.ErrInvalidToken)
	assert.EqualValues(t, 1, counting.calls.Load())
}

func TestLookupChangesNothing(t *testing.T) {
	h := newHarness(t)
	inv, token := h.invite("ada@example.com")
	events := len(h.recorded())
	for range 3 {
		_, err := h.svc.Lookup(context.Background(), token)
		require.NoError(t, err)
	}
	assert.Equal(t, inv.Version, h.get(inv.ID).Version)
	assert.Len(t, h.recorded(), events, "a lookup is no event")
}

func TestEventsFollowEveryStoredChange(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	_, err := h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.UpdateRoles(ctx, "acct-1", inv.ID, []string{"viewer"})
	require.NoError(t, err)
	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	_, err = h.svc.Accept(ctx, h.lastToken())
	require.NoError(t, err)
	other, token := h.invite("bob@example.com")
	_, err = h.svc.Decline(ctx, token)
	require.NoError(t, err)
	third, _ := h.invite("cy@example.com")
	_, err = h.svc.Revoke(ctx, "acct-1", third.ID)
	require.NoError(t, err)
	_, err = h.svc.Revoke(ctx, "acct-1", third.ID)
	require.ErrorIs(t, err, invitations.ErrNotPending)

	var kinds []invitations.EventKind
	for _, e := range h.recorded() {
		kinds = append(kinds, e.Kind)
		assertNoTokenSecrets(t, e.Invitation.Token)
		assert.True(t, e.At.Equal(h.clock.Now()) || e.At.Equal(start))
	}
	delivered := invitations.EventDelivered
	assert.Equal(t, []invitations.EventKind{
		invitations.EventInvited, delivered, invitations.EventResent, delivered, invitations.EventLinkCopied,
		invitations.EventRolesUpdated,
		invitations.EventRegenerated, delivered, invitations.EventAccepted,
		invitations.EventInvited, delivered, invitations.EventDeclined,
		invitations.EventInvited, delivered, invitations.EventRevoked,
	}, kinds, "one event per stored change, none for a refused one")
	events := h.recorded()
	assert.Equal(t, other.ID, events[11].Invitation.ID)
	assert.Equal(t, invitations.StatusDeclined, events[11].Invitation.State, "the event shows the stored state")
	assert.EqualValues(t, 3, events[11].Invitation.Version)
}

func TestTimesAreStoredInUTCMicroseconds(t *testing.T) {
	h := newHarness(t)
	h.clock.Set(time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.FixedZone("CEST", 2*3600)))
	inv, _ := h.invite("ada@example.com")
	stored := h.get(inv.ID)
	for _, ts := range []time.Time{stored.CreatedAt, stored.SentAt, stored.ExpiresAt} {
		assert.Equal(t, time.UTC, ts.Location())
		assert.Zero(t, ts.Nanosecond()%1000, "truncated to microseconds")
	}
	assert.Equal(t, 123456000, stored.CreatedAt.Nanosecond())
	assert.Equal(t, time.Date(2026, 5, 8, 8, 0, 0, 123456000, time.UTC), stored.ExpiresAt)
}

func TestInvitationJSONHasNoTokenMaterial(t *testing.T) {
	h := newHarness(t)
	inv, _ := h.invite("ada@example.com")
	raw, err := h.store.Get(context.Background(), "acct-1", inv.ID) // with token material
	require.NoError(t, err)
	require.NotEmpty(t, raw.Token.Hash)
	data, err := json.Marshal(raw)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	for _, key := range []string{"id", "account_id", "email", "roles", "state", "created_at", "sent_at", "expires_at", "send_count", "version"} {
		assert.Contains(t, fields, key)
	}
	assert.NotContains(t, fields, "accepted_at", "zero end times are omitted")
	assert.NotContains(t, fields, "link_copied_at", "a link never copied says nothing")
	_, err = h.svc.CopyLink(context.Background(), "acct-1", inv.ID)
	require.NoError(t, err)
	data, err = json.Marshal(h.get(inv.ID))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"link_copied_at":"`+start.Format(time.RFC3339)+`"`)
	for key := range fields {
		assert.NotContains(t, strings.ToLower(key), "token")
		assert.NotContains(t, strings.ToLower(key), "hash")
		assert.NotContains(t, strings.ToLower(key), "nonce")
	}
}

func TestTokenFromLink(t *testing.T) {
	h := newHarness(t)
	_, token := h.invite("ada@example.com")
	assert.Len(t, token, 48)
	_, err := invitationstest.TokenFromLink("https://app.example.com/accept")
	require.ErrorIs(t, err, invitationstest.ErrNoToken)
	_, err = invitationstest.TokenFromLink("://bad")
	require.ErrorIs(t, err, invitationstest.ErrNoToken)
}
