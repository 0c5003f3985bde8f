package invitations

import (
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"strings"
	"text/template"
	"time"
)

// Mailer delivers one invitation message. Send must honour ctx and return
// an error when the message was not accepted for delivery; the Service
// then reports ErrDelivery to its caller, with the invitation already
// stored.
type Mailer interface {
	Send(ctx context.Context, msg Message) error
}

// MailerFunc makes an ordinary function a Mailer, as http.HandlerFunc does
// for handlers.
type MailerFunc func(context.Context, Message) error

// Send calls f(ctx, msg).
func (f MailerFunc) Send(ctx context.Context, msg Message) error { return f(ctx, msg) }

// MessageKind says why a message is sent.
type MessageKind string

// The kinds of invitation message.
const (
	MessageInvite     MessageKind = "invite"     // the first mail of an invitation
	MessageResend     MessageKind = "resend"     // a reminder with the same link
	MessageRegenerate MessageKind = "regenerate" // a new link; the old one no longer works
)

// Message is a rendered invitation mail. Link, Text and HTML carry the
// secret link: Message prints them redacted under fmt and slog, so a
// Mailer can log a Message safely; it must not log the fields themselves.
type Message struct {
	Kind    MessageKind
	To      string
	Link    string
	Subject string
	Text    string
	HTML    string
	// Invitation is a copy of the invitation without token material.
	Invitation Invitation
}

// Format implements fmt.Formatter: every verb prints the message with the
// link and both bodies redacted.
func (m Message) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "{Kind:%s To:%s Subject:%q Link:%s Text:%s HTML:%s Invitation:%s}",
		m.Kind, m.To, m.Subject, redacted, redacted, redacted, m.Invitation.ID)
}

// LogValue implements slog.LogValuer without the link or the bodies.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(m.Kind)),
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("invitation_id", m.Invitation.ID.String()),
	)
}

//go:embed templates/*.tmpl
var templateFiles embed.FS

// templates holds the parsed message templates; every template set defines
// "subject" and "body" per kind.
type templates struct {
	text *template.Template
	html *htmltemplate.Template
}

var defaultTemplates = mustParseTemplates()

func mustParseTemplates() *templates {
	// The built-in templates ship with the package; failing to parse them is
	// a bug caught by every test run, never a runtime condition.
	return &templates{
		text: template.Must(template.ParseFS(templateFiles, "templates/*.txt.tmpl")),
		html: htmltemplate.Must(htmltemplate.ParseFS(templateFiles, "templates/*.html.tmpl")),
	}
}

// messageData is what the templates see.
type messageData struct {
	Kind      MessageKind
	Email     string
	Name      string
	InvitedBy string
	AccountID string
	Roles     []string
	Link      string
	ExpiresAt time.Time
	// Expires is ExpiresAt in words, in UTC: "Thursday, 3 December 2026 at 09:00 UTC".
	Expires string
}

func (t *templates) render(kind MessageKind, inv *Invitation, link string) (Message, error) {
	data := messageData{
		Kind:      kind,
		Email:     inv.Email,
		Name:      inv.Name,
		InvitedBy: inv.InvitedBy,
		AccountID: inv.AccountID,
		Roles:     inv.Roles,
		Link:      link,
		ExpiresAt: inv.ExpiresAt,
		Expires:   inv.ExpiresAt.UTC().Format("Monday, 2 January 2006 at 15:04 MST"),
	}
	var subject, text, html strings.Builder
	if err := t.text.ExecuteTemplate(&subject, string(kind)+"_subject", data); err != nil {
		return Message{}, fmt.Errorf("invitations: rendering %s subject: %w", kind, err)
	}
	if err := t.text.ExecuteTemplate(&text, string(kind)+"_text", data); err != nil {
		return Message{}, fmt.Errorf("invitations: rendering %s text: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, string(kind)+"_html", data); err != nil {
		return Message{}, fmt.Errorf("invitations: rendering %s html: %w", kind, err)
	}
	return Message{
		Kind:       kind,
		To:         inv.Email,
		Link:       link,
		Subject:    strings.TrimSpace(subject.String()),
		Text:       text.String(),
		HTML:       html.String(),
		Invitation: inv.public(),
	}, nil
}
