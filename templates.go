package invitations

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"
)

// Templates replace the built-in messages of a Service with the caller's
// own: branding, wording, language. Text must define, for each kind
// (invite, resend, regenerate), the templates KIND_subject and KIND_text;
// HTML must define KIND_html. They execute with a *MessageData.
//
//	text := texttemplate.Must(texttemplate.New("").Parse(`
//	{{define "invite_subject"}}{{.InvitedBy}} invited you to {{.AccountName}}{{end}}
//	{{define "invite_text"}}Hello {{.Name}}, join us: {{.Link}}{{end}}
//	...`))
//
// Reminders (reminder_subject, reminder_text, reminder_html) are optional:
// without them a reminder uses the resend templates.
//
// New checks that every template exists and executes on sample data, so a
// broken template fails at start-up rather than at the first invitation.
// html/template escapes every value; the text part is sent as plain text.
// Executing templates costs some microseconds per message more than the
// built-in messages.
type Templates struct {
	Text *texttemplate.Template
	HTML *htmltemplate.Template
}

// ErrRender reports a message that could not be rendered. Nothing is
// stored or sent for it.
var ErrRender = errors.New("invitations: message could not be rendered")

// messageKinds are the kinds every Templates must cover.
var messageKinds = []MessageKind{MessageInvite, MessageResend, MessageRegenerate}

// check verifies that every template is defined and executes on sample data.
func (t *Templates) check() error {
	if t.Text == nil || t.HTML == nil {
		return configError("Templates needs both Text and HTML")
	}
	sample := &Invitation{
		Email: "ada@example.com", Name: "Ada Lovelace", InvitedBy: "Grace Hopper", AccountID: "acme",
		Roles: []string{"admin", "billing"}, ExpiresAt: time.Date(2026, 1, 8, 9, 0, 0, 0, time.UTC),
		Metadata: map[string]string{MetadataAccountName: "Acme Inc.", MetadataLocale: "en-GB"},
	}
	for _, kind := range messageKinds {
		for _, name := range []string{string(kind) + "_subject", string(kind) + "_text"} {
			if t.Text.Lookup(name) == nil {
				return configError("Templates.Text does not define %q", name)
			}
		}
		if t.HTML.Lookup(string(kind)+"_html") == nil {
			return configError("Templates.HTML does not define %q", string(kind)+"_html")
		}
		if _, _, _, err := t.render(newMessageData(kind, sample, "https://app.example.com/accept?token=sample", sample.AccountName())); err != nil {
			return configError("%w", err)
		}
	}
	return nil
}

func (t *Templates) render(d *MessageData) (subject, text, html string, err error) {
	kind := string(d.Kind)
	if d.Kind == MessageReminder && (t.Text.Lookup(kind+"_subject") == nil || t.Text.Lookup(kind+"_text") == nil || t.HTML.Lookup(kind+"_html") == nil) {
		kind = string(MessageResend)
	}
	var s, x, h bytes.Buffer
	if err := t.Text.ExecuteTemplate(&s, kind+"_subject", d); err != nil {
		return "", "", "", fmt.Errorf("%w: %s subject: %w", ErrRender, d.Kind, err)
	}
	if err := t.Text.ExecuteTemplate(&x, kind+"_text", d); err != nil {
		return "", "", "", fmt.Errorf("%w: %s text: %w", ErrRender, d.Kind, err)
	}
	if err := t.HTML.ExecuteTemplate(&h, kind+"_html", d); err != nil {
		return "", "", "", fmt.Errorf("%w: %s html: %w", ErrRender, d.Kind, err)
	}
	// A subject is one header line: fold any line break a template made.
	subject = subjectLine(s.String())
	if subject == "" {
		return "", "", "", fmt.Errorf("%w: %s subject is empty", ErrRender, d.Kind)
	}
	return subject, x.String(), h.String(), nil
}
