package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations/internal/servers"
)

func TestSQLiteStoryTwiceOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "example.db")
	require.NoError(t, run(io.Discard, path, ""))
	require.NoError(t, run(io.Discard, path, ""), "a second run on the same file tells the story again")
}

func TestPostgresStory(t *testing.T) {
	require.NoError(t, run(io.Discard, "", servers.PostgresDSN(t)))
}
