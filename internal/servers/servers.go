// Package servers finds the real servers the tests run against: the
// PostgreSQL cluster of .ci/with-postgres and the Mailpit server of
// .ci/with-mailpit. Without one, a test skips locally, saying how to run it,
// and fails in CI (CI=true), where a skipped test would hide a missing
// service.
package servers

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func need(t testing.TB, variable, script, pkg string) string {
	t.Helper()
	value := os.Getenv(variable)
	if value == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run these tests against a real server (see %s)", variable, script)
		}
		t.Skipf("%s is not set; run these tests with: bash %s go test %s", variable, script, pkg)
	}
	return value
}

// PostgresDSN returns the DSN of the test PostgreSQL server.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return need(t, "INVITATIONS_POSTGRES_DSN", ".ci/with-postgres", "./...")
}

// Mailpit is the test SMTP server: it requires User and Password, offers
// STARTTLS with a certificate that TLS trusts, and refuses recipients
// outside example.com and example.org with a 5xx reply.
type Mailpit struct {
	Host     string
	Port     int
	API      string // base URL of its HTTP API
	User     string
	Password string
	TLS      *tls.Config
}

// MailpitServer returns the test Mailpit server.
func MailpitServer(t testing.TB) Mailpit {
	t.Helper()
	addr := need(t, "INVITATIONS_MAILPIT_SMTP", ".ci/with-mailpit", "./...")
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	m := Mailpit{
		Host: host, API: os.Getenv("INVITATIONS_MAILPIT_API"),
		User: os.Getenv("INVITATIONS_MAILPIT_USER"), Password: os.Getenv("INVITATIONS_MAILPIT_PASSWORD"),
	}
	m.Port, err = strconv.Atoi(port)
	require.NoError(t, err)
	pem, err := os.ReadFile(os.Getenv("INVITATIONS_MAILPIT_CA"))
	require.NoError(t, err, "the server's certificate (INVITATIONS_MAILPIT_CA)")
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem))
	m.TLS = &tls.Config{RootCAs: roots}
	return m
}
