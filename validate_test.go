package invitations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestAccountIDsCannotBeConfused: " acme" and "acme" must not be two
// accounts by accident; IDs with surrounding spaces or control characters
// are refused by every call that takes one.
func TestAccountIDsCannotBeConfused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	for _, bad := range []string{" acme", "acme ", "ac\nme", "acme\x00", "\t", ""} {
		calls := map[string]error{}
		_, calls["Invite"] = h.svc.Invite(ctx, input(bad, "ada@example.com"))
		_, calls["List"] = h.svc.List(ctx, invitations.ListQuery{AccountID: bad})
		_, calls["Count"] = h.svc.Count(ctx, bad)
		_, calls["Get"] = h.svc.Get(ctx, bad, uuid.New())
		_, calls["Revoke"] = h.svc.Revoke(ctx, bad, uuid.New())
		for name, err := range calls {
			var inputErr *invitations.InputError
			require.ErrorAs(t, err, &inputErr, "%s(%q)", name, bad)
			assert.Equal(t, "account_id", inputErr.Field)
		}
	}
	assert.Zero(t, h.store.Len())
}

func TestNormalizeEmailAcceptsRealAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":                      "ada@example.com",
		" Ada@Example.Com\t":                   "ada@example.com",
		"ada+invites@mail.example.co.uk":       "ada+invites@mail.example.co.uk",
		"o'brien@example.ie":                   "o'brien@example.ie",
		"first.last@sub-domain.example.com":    "first.last@sub-domain.example.com",
		"ada@xn--bcher-kva.example":            "ada@xn--bcher-kva.example",
		strings.Repeat("a", 64) + "@ex.com":    strings.Repeat("a", 64) + "@ex.com",
		"x@" + strings.Repeat("d", 63) + ".io": "x@" + strings.Repeat("d", 63) + ".io",
	} {
		got, err := invitations.NormalizeEmail(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	// 254 bytes is the longest accepted address.
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	require.Len(t, long, 254)
	_, err := invitations.NormalizeEmail(long)
	require.NoError(t, err)
}
