package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/servers"
)

func TestSQLiteTwiceOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "example.db")
	var out strings.Builder
	require.NoError(t, run(&out, path, ""))
	require.NoError(t, run(&out, path, ""), "a second run on the same file works again")
	assert.Equal(t, 2, strings.Count(out.String(), "ada@example.com is accepted and a member of acme-"))
}

func TestPostgres(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out, "", servers.PostgresDSN(t)))
	assert.Contains(t, out.String(), "ada@example.com is accepted and a member of acme-")
}
