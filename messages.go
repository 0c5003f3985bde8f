package invitations

import (
	"context"
	"html"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Metadata keys the messages read. Set them per invitation in
// InviteInput.Metadata; absent keys fall back to the defaults.
const (
	// MetadataAccountName is the account's display name ("Acme Inc."),
	// shown instead of the AccountID.
	MetadataAccountName = "account_name"
	// MetadataLocale is the recipient's language ("de-DE"), for custom
	// templates; the default messages are English.
	MetadataLocale = "locale"
	// MetadataTimeZone is the recipient's IANA time zone ("Europe/Berlin"),
	// in which the expiry is written; default UTC.
	MetadataTimeZone = "time_zone"
)

// expiryLayout writes ExpiresAt for a person: "Monday, 9 November 2026 at 09:00 UTC".
const expiryLayout = "Monday, 2 January 2006 at 15:04 MST"

// MessageData is what a message is made of; custom Templates execute with
// it as their data (".Name", ".Link", ...).
type MessageData struct {
	Kind        MessageKind
	To          string // the recipient's email
	Name        string // the invitee's name; may be empty
	InvitedBy   string // who invited; may be empty
	AccountID   string
	AccountName string // Config.AccountName's answer, else Metadata["account_name"], else AccountID
	Roles       []string
	Link        string
	// ExpiresAt is when the link expires, in the recipient's time zone
	// (Metadata["time_zone"], else UTC); Expires is the same in words.
	ExpiresAt time.Time
	Expires   string
	Locale    string // Metadata["locale"]; may be empty
	Metadata  map[string]string
}

func newMessageData(kind MessageKind, inv *Invitation, link, accountName string) *MessageData {
	d := &MessageData{
		Kind: kind, To: inv.Email, Name: inv.Name, InvitedBy: inv.InvitedBy,
		AccountID: inv.AccountID, AccountName: accountName, Roles: inv.Roles, Link: link,
		Locale: inv.Metadata[MetadataLocale], Metadata: inv.Metadata,
	}
	d.ExpiresAt = inv.ExpiresAt.In(inv.Location())
	d.Expires = d.ExpiresAt.Format(expiryLayout)
	return d
}

// cleanLine reports whether s is already what subjectLine makes of it:
// single spaces between words, no other white space or control character.
func cleanLine(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		return false
	}
	for _, r := range s {
		if r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r)) {
			return false
		}
	}
	return true
}

// MaxSubjectLength is the most characters a Message.Subject has: whatever
// the templates and metadata produce, a subject is one line of at most
// this many characters, cut with an ellipsis.
const MaxSubjectLength = 200

// subjectLine makes a subject one header line: line breaks and other white
// space folded into single spaces, control characters dropped, at most
// MaxSubjectLength characters.
func subjectLine(s string) string {
	if cleanLine(s) && utf8.RuneCountInString(s) <= MaxSubjectLength {
		return s // the common case, as the built-in messages make it: no copy
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) <= MaxSubjectLength {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxSubjectLength-1 {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		n++
	}
	return s
}

// renderer turns message data into a subject and bodies.
type renderer interface {
	render(d *MessageData) (subject, text, html string, err error)
}

// defaultMessages is the built-in renderer. It is written in Go rather
// than html/template: the template engine escapes by reflection at every
// action, and the built-in messages are rendered on every Invite, Resend
// and delivery, where that cost would be most of the call's own. Every
// value from input is escaped with html.EscapeString in the HTML part; the
// link is built from the validated AcceptURL and a base64url token.
type defaultMessages struct{}

// wording is the English text of one message kind.
type wording struct {
	subject func(w *words) string
	lead    func(w *words) string
}

// words are the message's values, worded for a sentence.
type words struct {
	inviter      string // at a sentence start: "Grace Hopper" or "An administrator"
	inviterInner string // mid-sentence: "Grace Hopper" or "an administrator"
	account      string
	roles        string // "admin, billing"
}

var defaultWording = map[MessageKind]wording{
	MessageInvite: {
		subject: func(w *words) string { return w.inviter + " invited you to join " + w.account },
		lead: func(w *words) string {
			return w.inviter + " invited you to join " + w.account + " as " + w.roles + "."
		},
	},
	MessageResend: {
		subject: func(w *words) string { return "Reminder: " + w.inviterInner + " invited you to join " + w.account },
		lead: func(w *words) string {
			return "This is a reminder: " + w.inviterInner + " invited you to join " + w.account + " as " + w.roles + "."
		},
	},
	MessageReminder: {
		subject: func(w *words) string { return "Your invitation to join " + w.account + " expires soon" },
		lead: func(w *words) string {
			return w.inviter + " invited you to join " + w.account + " as " + w.roles +
				". The invitation expires soon: accept it before the date below."
		},
	},
	MessageRegenerate: {
		subject: func(w *words) string { return "Your new invitation link to join " + w.account },
		lead: func(w *words) string {
			return "Here is a new link to join " + w.account + " as " + w.roles + ", invited by " + w.inviterInner +
				". The old link no longer works."
		},
	},
}

const (
	closingPersonal = "This link is personal. It expires on "
	closingIgnore   = "If you did not expect this invitation, you can ignore this email."
)

func (defaultMessages) render(d *MessageData) (subject, text, body string, err error) {
	wd, ok := defaultWording[d.Kind]
	if !ok {
		wd = defaultWording[MessageInvite]
	}
	w := &words{
		inviter:      "An administrator",
		inviterInner: "an administrator",
		account:      d.AccountName,
		roles:        strings.Join(d.Roles, ", "),
	}
	if d.InvitedBy != "" {
		w.inviter, w.inviterInner = d.InvitedBy, d.InvitedBy
	}
	greeting := "Hello,"
	if d.Name != "" {
		greeting = "Hello " + d.Name + ","
	}
	lead := wd.lead(w)

	var t strings.Builder
	t.Grow(512)
	for _, s := range []string{
		greeting, "\n\n", lead, "\n\nAccept the invitation:\n", d.Link, "\n\n",
		closingPersonal, d.Expires, ".\n\n", closingIgnore, "\n",
	} {
		t.WriteString(s)
	}

	var h strings.Builder
	h.Grow(1536)
	esc := html.EscapeString
	for _, s := range []string{
		"<!DOCTYPE html>\n<html>\n<body style=\"font-family: sans-serif; line-height: 1.5; color: #222222;\">\n<p>",
		esc(greeting), "</p>\n<p>", esc(lead), "</p>\n",
		"<p><a href=\"", esc(d.Link), "\" style=\"display: inline-block; padding: 10px 18px; background: #2563eb; color: #ffffff; text-decoration: none; border-radius: 4px;\">Accept the invitation</a></p>\n",
		"<p>Or paste this link into your browser:<br><a href=\"", esc(d.Link), "\">", esc(d.Link), "</a></p>\n",
		"<p style=\"color: #555555;\">", closingPersonal, esc(d.Expires), ".</p>\n",
		"<p style=\"color: #555555;\">", closingIgnore, "</p>\n</body>\n</html>\n",
	} {
		h.WriteString(s)
	}
	return wd.subject(w), t.String(), h.String(), nil
}

// message renders the message of kind for inv with its link, naming the
// account as host says.
func (s *Service) message(ctx context.Context, host *hostAnswers, kind MessageKind, inv *Invitation, link string) (Message, error) {
	name, err := host.accountName(ctx, inv)
	if err != nil {
		return Message{}, err
	}
	subject, text, html, err := s.render.render(newMessageData(kind, inv, link, name))
	if err != nil {
		return Message{}, err
	}
	return Message{
		Kind: kind, To: inv.Email, Link: link, Subject: subjectLine(subject), Text: text, HTML: html,
		Invitation: inv.public(),
	}, nil
}
