package invitations

import (
	"html"
	"strings"
	"time"
)

// The default messages are written in Go rather than html/template: the
// template engine's reflective escapers cost about 1 µs per action, which
// alone would put Invite over its 20 µs budget. Every value that comes from
// input is escaped with html.EscapeString in the HTML part; the link is
// built from the validated AcceptURL and a base64url token.

// expiryLayout writes ExpiresAt for a person: "Monday, 9 November 2026 at 09:00 UTC".
const expiryLayout = "Monday, 2 January 2006 at 15:04 MST"

// messageText is the wording of one message kind.
type messageText struct {
	subject func(m *messageFacts) string
	lead    func(m *messageFacts) string
}

// messageFacts are the values a message is made of, already worded.
type messageFacts struct {
	greeting     string // "Hello Ada," or "Hello,"
	inviter      string // at a sentence start: "Grace Hopper" or "An administrator"
	inviterInner string // mid-sentence: "Grace Hopper" or "an administrator"
	account      string
	roles        string // "admin, billing"
	expires      string
}

var wording = map[MessageKind]messageText{
	MessageInvite: {
		subject: func(m *messageFacts) string { return m.inviter + " invited you to join " + m.account },
		lead: func(m *messageFacts) string {
			return m.inviter + " invited you to join " + m.account + " as " + m.roles + "."
		},
	},
	MessageResend: {
		subject: func(m *messageFacts) string {
			return "Reminder: " + m.inviterInner + " invited you to join " + m.account
		},
		lead: func(m *messageFacts) string {
			return "This is a reminder: " + m.inviterInner + " invited you to join " + m.account + " as " + m.roles + "."
		},
	},
	MessageRegenerate: {
		subject: func(m *messageFacts) string { return "Your new invitation link to join " + m.account },
		lead: func(m *messageFacts) string {
			return "Here is a new link to join " + m.account + " as " + m.roles + ", invited by " + m.inviterInner +
				". The old link no longer works."
		},
	},
}

const (
	closingPersonal = "This link is personal. It expires on "
	closingIgnore   = "If you did not expect this invitation, you can ignore this email."
)

// renderMessage builds the subject, text and HTML of a message.
func renderMessage(kind MessageKind, inv *Invitation, link string) Message {
	w, ok := wording[kind]
	if !ok {
		w = wording[MessageInvite]
	}
	facts := &messageFacts{
		greeting:     "Hello,",
		inviter:      "An administrator",
		inviterInner: "an administrator",
		account:      inv.AccountID,
		roles:        strings.Join(inv.Roles, ", "),
		expires:      inv.ExpiresAt.In(time.UTC).Format(expiryLayout),
	}
	if inv.Name != "" {
		facts.greeting = "Hello " + inv.Name + ","
	}
	if inv.InvitedBy != "" {
		facts.inviter, facts.inviterInner = inv.InvitedBy, inv.InvitedBy
	}
	lead := w.lead(facts)

	var text strings.Builder
	text.Grow(512)
	for _, s := range []string{
		facts.greeting, "\n\n", lead, "\n\nAccept the invitation:\n", link, "\n\n",
		closingPersonal, facts.expires, ".\n\n", closingIgnore, "\n",
	} {
		text.WriteString(s)
	}

	var body strings.Builder
	body.Grow(1536)
	esc := html.EscapeString
	for _, s := range []string{
		"<!DOCTYPE html>\n<html>\n<body style=\"font-family: sans-serif; line-height: 1.5; color: #222222;\">\n<p>",
		esc(facts.greeting), "</p>\n<p>", esc(lead), "</p>\n",
		"<p><a href=\"", esc(link), "\" style=\"display: inline-block; padding: 10px 18px; background: #2563eb; color: #ffffff; text-decoration: none; border-radius: 4px;\">Accept the invitation</a></p>\n",
		"<p>Or paste this link into your browser:<br><a href=\"", esc(link), "\">", esc(link), "</a></p>\n",
		"<p style=\"color: #555555;\">", closingPersonal, esc(facts.expires), ".</p>\n",
		"<p style=\"color: #555555;\">", closingIgnore, "</p>\n</body>\n</html>\n",
	} {
		body.WriteString(s)
	}

	return Message{
		Kind:       kind,
		To:         inv.Email,
		Link:       link,
		Subject:    w.subject(facts),
		Text:       text.String(),
		HTML:       body.String(),
		Invitation: inv.public(),
	}
}
