package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSQLiteStoryTwiceOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "example.db")
	require.NoError(t, run(io.Discard, path, ""))
	require.NoError(t, run(io.Discard, path, ""), "a second run on the same file tells the story again")
}

func TestPostgresStory(t *testing.T) {
	dsn := os.Getenv("INVITATIONS_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("INVITATIONS_POSTGRES_DSN is not set: CI must run the PostgreSQL tests (see .ci/with-postgres)")
		}
		t.Skip("INVITATIONS_POSTGRES_DSN is not set; run with: bash .ci/with-postgres go test ./examples/sql/")
	}
	require.NoError(t, run(io.Discard, "", dsn))
}
