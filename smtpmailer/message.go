package smtpmailer

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"mime"
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
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+body.Boundary()+`"`)
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

// messageID is a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = from[at+1:]
	}
	return "<" + strings.ToLower(rand.Text()) + "@" + domain + ">"
}
