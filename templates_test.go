package invitations_test

import (
	"context"
	htmltemplate "html/template"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

const germanText = `
{{define "invite_subject"}}{{.InvitedBy}} lädt Sie zu {{.AccountName}} ein{{end}}
{{define "invite_text"}}Hallo {{.Name}}, Rollen: {{range $i, $r := .Roles}}{{if $i}}, {{end}}{{$r}}{{end}}. Link: {{.Link}} (gültig bis {{.ExpiresAt.Format "02.01.2006 15:04"}}){{end}}
{{define "resend_subject"}}Erinnerung: {{.AccountName}}{{end}}
{{define "resend_text"}}Erinnerung: {{.Link}}{{end}}
{{define "regenerate_subject"}}Neuer Link für {{.AccountName}}{{end}}
{{define "regenerate_text"}}Neuer Link: {{.Link}}{{end}}`

const germanHTML = `
{{define "invite_html"}}<p>Hallo {{.Name}}, {{.InvitedBy}} lädt Sie ein.</p><a href="{{.Link}}">Annehmen</a>{{end}}
{{define "resend_html"}}<a href="{{.Link}}">Erinnerung</a>{{end}}
{{define "regenerate_html"}}<a href="{{.Link}}">Neuer Link</a>{{end}}`

func templates(t *testing.T, text, html string) *invitations.Templates {
	t.Helper()
	return &invitations.Templates{
		Text: texttemplate.Must(texttemplate.New("mail").Parse(text)),
		HTML: htmltemplate.Must(htmltemplate.New("mail").Parse(html)),
	}
}

func TestCustomTemplatesBrandAndTranslate(t *testing.T) {
	tmpl := templates(t, germanText, germanHTML)
	h := newHarness(t, func(c *invitations.Config) { c.Templates = tmpl })
	_, err := h.svc.Invite(context.Background(), invitations.InviteInput{
		AccountID: "acme", Email: "ada@example.com", Name: "Ada", Roles: []string{"admin", "billing"},
		InvitedBy: "<script>alert(1)</script>",
		Metadata:  map[string]string{"account_name": "Acme GmbH", "locale": "de-DE", "time_zone": "Europe/Berlin"},
	})
	require.NoError(t, err)
	msg := h.mailer.Last()
	assert.Equal(t, "<script>alert(1)</script> lädt Sie zu Acme GmbH ein", msg.Subject)
	assert.Equal(t, "Hallo Ada, Rollen: admin, billing. Link: "+msg.Link+" (gültig bis 09.11.2026 10:30)", strings.TrimSpace(msg.Text),
		"the expiry is in the recipient's time zone")
	assert.NotContains(t, msg.HTML, "<script>", "html/template escapes the inviter")
	assert.Contains(t, msg.HTML, "&lt;script&gt;")
	assert.Contains(t, msg.HTML, `href="`+strings.ReplaceAll(msg.Link, "&", "&amp;")+`"`)
}

func TestBrokenTemplatesFailAtStartUp(t *testing.T) {
	for name, tmpl := range map[string]*invitations.Templates{
		"missing text":         {HTML: htmltemplate.Must(htmltemplate.New("x").Parse(germanHTML))},
		"missing subject":      templates(t, strings.Replace(germanText, `"resend_subject"`, `"resend_subjekt"`, 1), germanHTML),
		"missing html":         templates(t, germanText, strings.Replace(germanHTML, `"regenerate_html"`, `"regen_html"`, 1)),
		"unknown field":        templates(t, strings.Replace(germanText, "{{.Name}}", "{{.Nom}}", 1), germanHTML),
		"empty subject":        templates(t, strings.Replace(germanText, `Neuer Link für {{.AccountName}}`, ``, 1), germanHTML),
		"undefined subroutine": templates(t, germanText, strings.Replace(germanHTML, "Neuer Link</a>", `{{template "footer"}}</a>`, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			svc, err := invitations.New(memstore.New(), invitationstest.NewMailer(), invitations.Config{
				Secret: secretA, AcceptURL: acceptURL, Templates: tmpl,
			})
			require.ErrorIs(t, err, invitations.ErrInvalidInput)
			assert.Nil(t, svc)
		})
	}
}

// TestRenderErrorStoresAndSendsNothing: a template that fails only for some
// invitations gives ErrRender, with nothing stored and nothing sent.
func TestRenderErrorStoresAndSendsNothing(t *testing.T) {
	text := strings.Replace(germanText, `{{define "invite_text"}}`, `{{define "invite_text"}}{{if eq .Name "Boom"}}{{template "nowhere"}}{{end}}`, 1)
	h := newHarness(t, func(c *invitations.Config) { c.Templates = templates(t, text, germanHTML) })
	inv, err := h.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "acme", Email: "boom@example.com", Name: "Boom", Roles: []string{"admin"}})
	require.ErrorIs(t, err, invitations.ErrRender)
	assert.Nil(t, inv)
	assert.Zero(t, h.store.Len(), "nothing stored")
	assert.Empty(t, h.mailer.Messages(), "no half message sent")
}
