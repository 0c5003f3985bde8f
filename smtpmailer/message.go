package smtpmailer

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/invitekit/invitations"
)

// compose writes the message as RFC 5322 text: multipart/alternative with
// the plain-text part first and the HTML part last (the one clients prefer),
// both quoted-printable UTF-8, with Date, Message-ID and encoded headers.
func compose(from mail.Address, msg invitations.Message, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	body := multipart.NewWriter(&buf)
	header := func(name, value string) { fmt.Fprintf(&buf, "%s: %s\r\n", name, value) }

	header("From", from.String()) // mail.Address encodes a non-ASCII name
	header("To", (&mail.Address{Address: msg.To}).String())
	header("Subject", encodeSubject(msg.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "multipart/alternative;\r\n boundary=\""+body.Boundary()+"\"") // folded: the boundary is 60 characters
	if id := msg.Invitation.ID.String(); msg.Invitation.ID != [16]byte{} {
		header("X-Invitation-ID", id)
	}
	buf.WriteString("\r\n")

	for _, part := range []struct{ contentType, content string }{
		{"text/plain; charset=utf-8", msg.Text},
		{"text/html; charset=utf-8", msg.HTML},
	} {
		w, err := body.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil { // text mode: line breaks become CRLF
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := body.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// oneLine keeps a header value on one line whatever a template produced.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Header lines are folded to stay within 78 characters (RFC 5322 2.1.1).
const (
	maxHeaderLine = 78
	qPrefix       = "=?utf-8?q?"
	qSuffix       = "?="
	// maxQWord keeps "Subject: " plus one encoded word within a line.
	maxQWord = maxHeaderLine - len("Subject: ")
)

// encodeSubject returns the Subject header's value: as it is when it is
// short plain ASCII, else as RFC 2047 Q-encoded words, one per folded line.
// Decoders join adjacent encoded words without the folding white space, so
// the subject reads back exactly, however long it is.
func encodeSubject(subject string) string {
	subject = oneLine(subject)
	if len("Subject: ")+len(subject) <= maxHeaderLine && plainHeaderText(subject) {
		return subject
	}
	var words []string
	var word strings.Builder
	for _, r := range subject {
		enc := qEncodeRune(r)
		if len(qPrefix)+word.Len()+len(enc)+len(qSuffix) > maxQWord {
			words = append(words, qPrefix+word.String()+qSuffix)
			word.Reset()
		}
		word.WriteString(enc)
	}
	if word.Len() > 0 {
		words = append(words, qPrefix+word.String()+qSuffix)
	}
	return strings.Join(words, "\r\n ")
}

// plainHeaderText is printable ASCII that no decoder could take for an
// encoded word.
func plainHeaderText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return !strings.Contains(s, "=?")
}

// qEncodeRune is one character in the Q encoding: letters and digits as
// they are, a space as "_", anything else as =XX per UTF-8 byte. A rune is
// never split across two encoded words.
func qEncodeRune(r rune) string {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return string(r)
	case r == ' ':
		return "_"
	}
	var b strings.Builder
	for _, c := range []byte(string(r)) {
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

// messageID is a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = from[at+1:]
	}
	return "<" + strings.ToLower(rand.Text()) + "@" + domain + ">"
}
