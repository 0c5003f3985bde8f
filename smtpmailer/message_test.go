package smtpmailer

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestComposeIsAWellFormedMultipartMessage(t *testing.T) {
	msg := invitations.Message{
		To: "ada@example.com", Subject: "Zoë invited you\r\nBcc: evil@example.com",
		Text: "Héllo\nline two " + strings.Repeat("x", 100), HTML: "<p>Héllo</p>",
	}
	raw, err := compose(mail.Address{Name: "Ünïcode Sender", Address: "from@example.org"}, msg, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\r\n") {
		assert.LessOrEqual(t, len(line), 998, "RFC 5322 line length")
		assert.NotContains(t, line, "\n", "lines end in CRLF")
	}

	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(parsed.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Zoë invited you Bcc: evil@example.com", subject, "a line break in a subject cannot inject a header")
	assert.Empty(t, parsed.Header.Get("Bcc"))
	from, err := parsed.Header.AddressList("From")
	require.NoError(t, err)
	assert.Equal(t, "Ünïcode Sender", from[0].Name)
	assert.Equal(t, "Mon, 02 Nov 2026 09:00:00 +0000", parsed.Header.Get("Date"))

	_, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	require.NoError(t, err)
	parts := multipart.NewReader(parsed.Body, params["boundary"])
	var bodies []string
	for {
		p, err := parts.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		bodies = append(bodies, p.Header.Get("Content-Type")+"|"+string(b))
	}
	require.Len(t, bodies, 2)
	assert.Equal(t, "text/plain; charset=utf-8|Héllo\r\nline two "+strings.Repeat("x", 100), bodies[0])
	assert.Equal(t, "text/html; charset=utf-8|<p>Héllo</p>", bodies[1])
}

// TestLongSubjectIsFolded: a subject of any length goes out as header lines
// of at most 78 characters and reads back whole, non-ASCII included.
func TestLongSubjectIsFolded(t *testing.T) {
	for name, subject := range map[string]string{
		"long ascii":      strings.Repeat("Acme invited you ", 77),
		"one long word":   strings.Repeat("x", 1309),
		"long non-ascii":  strings.Repeat("Zoë Ångström lädt dich ein · ", 40),
		"looks encoded":   "=?utf-8?q?not_really?=",
		"short and plain": "Ada invited you to join Acme",
	} {
		raw, err := compose(mail.Address{Address: "from@example.org"}, invitations.Message{To: "ada@example.com", Subject: subject}, time.Now())
		require.NoError(t, err, name)
		head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			assert.LessOrEqual(t, len(line), 78, "%s: %q", name, line)
		}
		parsed, err := mail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err)
		got, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		require.NoError(t, err)
		assert.Equal(t, strings.Join(strings.Fields(subject), " "), got, name)
	}
}
