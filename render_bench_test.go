package invitations

import (
	htmltemplate "html/template"
	"testing"
	texttemplate "text/template"
	"time"
)

var renderSample = &Invitation{
	Email: "ada@example.com", Name: "Ada Lovelace", InvitedBy: "Grace Hopper", AccountID: "acct_42",
	Roles: []string{"admin", "billing"}, ExpiresAt: time.Date(2026, 11, 9, 8, 30, 0, 0, time.UTC),
	Metadata: map[string]string{MetadataAccountName: "Acme & Co"},
}

const renderLink = "https://app.example.com/invitations/accept?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// BenchmarkRender measures rendering one invite message (subject, text and
// HTML): the built-in messages, and the same wording as custom templates
// for comparison.
func BenchmarkRender(b *testing.B) {
	b.Run("default", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := (defaultMessages{}).render(newMessageData(MessageInvite, renderSample, renderLink, renderSample.AccountName())); err != nil {
				b.Fatal(err)
			}
		}
	})
	custom := &Templates{
		Text: texttemplate.Must(texttemplate.New("").Parse(`{{define "invite_subject"}}{{.InvitedBy}} invited you to join {{.AccountName}}{{end}}` +
			`{{define "invite_text"}}Hello {{.Name}},

{{.InvitedBy}} invited you to join {{.AccountName}} as {{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}.

Accept the invitation:
{{.Link}}

This link is personal. It expires on {{.Expires}}.

If you did not expect this invitation, you can ignore this email.
{{end}}`)),
		HTML: htmltemplate.Must(htmltemplate.New("").Parse(`{{define "invite_html"}}<p>Hello {{.Name}},</p>
<p>{{.InvitedBy}} invited you to join {{.AccountName}} as {{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}.</p>
<p><a href="{{.Link}}">Accept the invitation</a></p>
<p>Or paste this link into your browser:<br><a href="{{.Link}}">{{.Link}}</a></p>
<p>This link is personal. It expires on {{.Expires}}.</p>
<p>If you did not expect this invitation, you can ignore this email.</p>{{end}}`)),
	}
	b.Run("templates", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := custom.render(newMessageData(MessageInvite, renderSample, renderLink, renderSample.AccountName())); err != nil {
				b.Fatal(err)
			}
		}
	})
}
