package invitations_test

import (
	"context"
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

// TestSkipMail: the invitation is stored with nothing due; the admin's
// copied link works.
func TestSkipMail(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	in := input("acct-1", "ada@example.com")
	in.SkipMail = true
	inv, err := h.svc.Invite(ctx, in)
	require.NoError(t, err)
	assert.Empty(t, h.mailer.Messages(), "nothing mailed")
	assert.Equal(t, invitations.Delivery{}, inv.Delivery, "nothing due")
	assert.Zero(t, inv.SendCount)
	assert.Equal(t, inv.Delivery, h.get(inv.ID).Delivery)
	r, err := h.svc.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, r.Attempted)

	link, err := h.svc.CopyLink(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	token, err := invitationstest.TokenFromLink(link)
	require.NoError(t, err)
	accepted, err := h.svc.Accept(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusAccepted, accepted.State)
	assert.Empty(t, h.mailer.Messages())
}

// TestInviteTTL: an invitation's own validity, kept by Resend and
// Regenerate; out-of-range values are refused.
func TestInviteTTL(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, bad := range []time.Duration{time.Minute, time.Hour - time.Nanosecond, 30*day + time.Second, -time.Hour} {
		in := input("acct-1", "bad@example.com")
		in.TTL = bad
		_, err := h.svc.Invite(ctx, in)
		var inputErr *invitations.InputError
		require.ErrorAs(t, err, &inputErr, "%s", bad)
		assert.Equal(t, "ttl", inputErr.Field)
	}
	assert.Zero(t, h.store.Len(), "nothing stored")

	in := input("acct-1", "ada@example.com")
	in.TTL = 48 * time.Hour
	inv, err := h.svc.Invite(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, start.Add(48*time.Hour), inv.ExpiresAt)

	h.clock.Advance(24 * time.Hour)
	inv, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, h.clock.Now().Add(48*time.Hour), inv.ExpiresAt, "Resend keeps the invitation's TTL")

	h.clock.Advance(48 * time.Hour)
	assert.Equal(t, invitations.StatusExpired, inv.StatusAt(h.clock.Now()))
	inv, err = h.svc.Regenerate(ctx, "acct-1", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, h.clock.Now().Add(48*time.Hour), inv.ExpiresAt, "so does Regenerate")

	for _, edge := range []time.Duration{invitations.MinInviteTTL, invitations.MaxInviteTTL} {
		in := input("acct-1", edge.String()+"@example.com")
		in.TTL = edge
		inv, err := h.svc.Invite(ctx, in)
		require.NoError(t, err, "%s is allowed", edge)
		assert.Equal(t, h.clock.Now().Add(edge), inv.ExpiresAt)
	}
	other, _ := h.invite("bob@example.com")
	assert.Equal(t, h.clock.Now().Add(week), other.ExpiresAt, "TTL 0 is the Service's")
}
