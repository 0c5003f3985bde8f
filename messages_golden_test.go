package invitations

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata" // the golden files use Europe/Berlin, whatever the machine has

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestDefaultMessagesGolden pins the built-in messages, word for word.
// After changing the wording on purpose: go test -run Golden -update .
func TestDefaultMessagesGolden(t *testing.T) {
	inv := &Invitation{
		Email: "ada@example.com", Name: "Ada Lovelace", InvitedBy: "Grace Hopper", AccountID: "acct_42",
		Roles: []string{"admin", "billing"}, ExpiresAt: time.Date(2026, 11, 9, 8, 30, 0, 0, time.UTC),
		Metadata: map[string]string{MetadataAccountName: "Acme & Co", MetadataTimeZone: "Europe/Berlin"},
	}
	const link = "https://app.example.com/invitations/accept?ref=mail&token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, kind := range append(messageKinds, MessageReminder) {
		subject, text, html, err := defaultMessages{}.render(newMessageData(kind, inv, link, inv.AccountName()))
		require.NoError(t, err)
		golden(t, string(kind)+".txt", "Subject: "+subject+"\n\n"+text)
		golden(t, string(kind)+".html", html)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test -run Golden -update .")
	require.Equal(t, string(want), got, "%s differs from the golden file; if on purpose, run with -update", name)
}
