package invitations

import (
	"context"
	"fmt"
	"log/slog"
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
	// MessageReminder: the same link, shortly before it expires (see
	// DeliveryPolicy.RemindBefore); the expiry does not move.
	MessageReminder MessageKind = "reminder"
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
