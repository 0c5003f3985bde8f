package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartTellsTheWholeStory(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	for _, want := range []string{
		"link valid until Mon 9 Nov 09:00",
		"expiry moved to Thu 12 Nov 09:00 (sent 2 times)",
		"resend refused: invitations: invitation expired",
		"the old link is dead: invalid, not expired",
		"accepted: grant [admin]",
		"cy@example.com     revoked",
		"bob@example.com    pending",
		"ada@example.com    accepted",
	} {
		assert.Contains(t, out.String(), want)
	}
}
