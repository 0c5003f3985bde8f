package invitations_test

import (
	"context"
	htmltemplate "html/template"
	"strings"
	"testing"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestMessagesSayWhoWhereAndUntilWhen(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	inv, err := h.svc.Invite(ctx, invitations.InviteInput{
		AccountID: "Acme", Email: "ada@example.com", Name: "Ada", Roles: []string{"admin", "billing"}, InvitedBy: "Grace Hopper",
	})
	require.NoError(t, err)
	msg := h.mailer.Last()
	assert.Equal(t, "Grace Hopper invited you to join Acme", msg.Subject)
	assert.Equal(t, "Hello Ada,\n\nGrace Hopper invited you to join Acme as admin, billing.\n\n"+
		"Accept the invitation:\n"+msg.Link+"\n\n"+
		"This link is personal. It expires on Monday, 9 November 2026 at 09:30 UTC.\n\n"+
		"If you did not expect this invitation, you can ignore this email.\n", msg.Text)
	assert.Contains(t, msg.HTML, `<a href="`+msg.Link+`"`)
	assert.Contains(t, msg.HTML, "Monday, 9 November 2026 at 09:30 UTC")

	h.clock.Advance(day)
	_, err = h.svc.Resend(ctx, "acct-1", inv.ID)
	require.Error(t, err, "wrong account")
	_, err = h.svc.Resend(ctx, "Acme", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, "Reminder: Grace Hopper invited you to join Acme", h.mailer.Last().Subject)
	assert.Contains(t, h.mailer.Last().Text, "Tuesday, 10 November 2026 at 09:30 UTC", "a reminder states the new expiry")

	h.clock.Advance(week)
	_, err = h.svc.Regenerate(ctx, "Acme", inv.ID)
	require.NoError(t, err)
	regen := h.mailer.Last()
	assert.Equal(t, "Your new invitation link to join Acme", regen.Subject)
	assert.Contains(t, regen.Text, "The old link no longer works.")
}

func TestMessagesWithoutNameOrInviter(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"viewer"}})
	require.NoError(t, err)
	msg := h.mailer.Last()
	assert.Equal(t, "An administrator invited you to join acme", msg.Subject)
	assert.True(t, strings.HasPrefix(msg.Text, "Hello,\n\n"))
}

func TestMessageHTMLEscapesInput(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.Invite(context.Background(), invitations.InviteInput{
		AccountID: `Acme <img src=x onerror=alert(1)>`,
		Email:     "ada@example.com",
		Name:      `Ada "the first" & co`,
		Roles:     []string{"<b>admin</b>"},
		InvitedBy: "<script>alert('x')</script>",
	})
	require.NoError(t, err)
	msg := h.mailer.Last()
	for _, injected := range []string{"<script>", "<img", "<b>admin", `"the first"`} {
		assert.NotContains(t, msg.HTML, injected)
	}
	assert.Contains(t, msg.HTML, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
	assert.Contains(t, msg.HTML, "Ada &#34;the first&#34; &amp; co")
	assert.Contains(t, msg.Text, "<script>alert('x')</script> invited you", "the text part is plain text")
	assert.Equal(t, 6, strings.Count(msg.HTML, "<"+"p"), "no paragraphs beyond the layout's six")
}

// TestUnknownTimeZone: Invite refuses a zone that does not load; one that
// is already stored (written before the rule, or by another tool) is
// written in UTC rather than failing the mail.
func TestUnknownTimeZone(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	_, err := h.svc.Invite(ctx, invitations.InviteInput{
		AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"},
		Metadata: map[string]string{"time_zone": "Not/AZone"},
	})
	var inputErr *invitations.InputError
	require.ErrorAs(t, err, &inputErr)
	assert.Equal(t, "metadata", inputErr.Field)
	assert.Empty(t, h.mailer.Messages(), "nothing sent")
	assert.Zero(t, h.store.Len(), "nothing stored")

	inv, err := h.svc.Invite(ctx, invitations.InviteInput{AccountID: "acme", Email: "ada@example.com", Roles: []string{"admin"}})
	require.NoError(t, err)
	stored, err := h.store.Get(ctx, "acme", inv.ID)
	require.NoError(t, err)
	stored.Metadata = map[string]string{"time_zone": "Not/AZone"}
	stored.Version++
	require.NoError(t, h.store.Update(ctx, stored, stored.Version-1, nil))
	_, err = h.svc.Resend(ctx, "acme", inv.ID)
	require.NoError(t, err)
	assert.Contains(t, h.mailer.Last().Text, "Monday, 9 November 2026 at 09:30 UTC.")
}

// TestControlCharactersNeverReachAHeader: line breaks and other control
// characters in the fields that messages print are refused, naming the
// field, and nothing is stored.
func TestControlCharactersNeverReachAHeader(t *testing.T) {
	ctx := context.Background()
	for field, adjust := range map[string]func(*invitations.InviteInput){
		"name":       func(in *invitations.InviteInput) { in.Name = "Ada\r\nBcc: evil@example.com" },
		"invited_by": func(in *invitations.InviteInput) { in.InvitedBy = "Grace\nHopper" },
		"metadata": func(in *invitations.InviteInput) {
			in.Metadata = map[string]string{invitations.MetadataAccountName: "Acme\r\nBcc: evil@example.com"}
		},
		"metadata ": func(in *invitations.InviteInput) { in.Metadata = map[string]string{"note": "tab\x01bell\x07"} },
	} {
		h := newHarness(t)
		in := input("acct-1", "ada@example.com")
		adjust(&in)
		_, err := h.svc.Invite(ctx, in)
		var inputErr *invitations.InputError
		require.ErrorAs(t, err, &inputErr, field)
		assert.Equal(t, strings.TrimSpace(field), inputErr.Field)
		assert.NotContains(t, err.Error(), "evil", "the rejected value is not echoed")
		assert.Zero(t, h.store.Len())
		assert.Empty(t, h.mailer.Messages())
	}
}

// TestSubjectIsOneShortLine: whatever the templates and metadata produce,
// a subject is one line of at most MaxSubjectLength characters.
func TestSubjectIsOneShortLine(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("Ünïcode Äccount ", 40) // 640 characters, under 1 KiB
	text := texttemplate.Must(texttemplate.New("").Parse(`
{{define "invite_subject"}}Join
{{.AccountName}}	now{{"\r"}}!{{end}}{{define "invite_text"}}{{.Link}}{{end}}
{{define "resend_subject"}}x{{end}}{{define "resend_text"}}{{.Link}}{{end}}
{{define "regenerate_subject"}}x{{end}}{{define "regenerate_text"}}{{.Link}}{{end}}`))
	html := htmltemplate.Must(htmltemplate.New("").Parse(`{{define "invite_html"}}{{.Link}}{{end}}{{define "resend_html"}}x{{end}}{{define "regenerate_html"}}x{{end}}`))
	for name, adjust := range map[string]func(*invitations.Config){
		"default messages": func(*invitations.Config) {},
		"templates":        func(c *invitations.Config) { c.Templates = &invitations.Templates{Text: text, HTML: html} },
	} {
		h := newHarness(t, adjust)
		in := input("acct-1", "ada@example.com")
		in.Metadata = map[string]string{invitations.MetadataAccountName: long}
		_, err := h.svc.Invite(ctx, in)
		require.NoError(t, err, name)
		subject := h.mailer.Last().Subject
		assert.LessOrEqual(t, utf8.RuneCountInString(subject), invitations.MaxSubjectLength, name)
		assert.True(t, utf8.ValidString(subject), name)
		assert.NotContains(t, subject, "\n", name)
		assert.NotContains(t, subject, "\r", name)
		assert.NotContains(t, subject, "\t", name)
		assert.True(t, strings.HasSuffix(subject, "…"), "%s: cut with an ellipsis: %q", name, subject)
	}
	h := newHarness(t, func(c *invitations.Config) { c.Templates = &invitations.Templates{Text: text, HTML: html} })
	_, err := h.svc.Invite(ctx, input("acct-1", "ada@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "Join acct-1 now !", h.mailer.Last().Subject, "line breaks folded into spaces")
}
