package invitationshttp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

// TestAdminRoles: with Config.Roles the API lists an account's roles for
// the form's picker and refuses others with 422 naming the field; without
// it there is no list (404).
func TestAdminRoles(t *testing.T) {
	w := newWorld(t, func(c *invitations.Config) {
		c.Roles = func(context.Context, string) ([]string, error) { return []string{"admin", "member"}, nil }
	})
	rec, out := w.call("GET", "/accounts/acme/roles", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"roles": []any{"admin", "member"}}, out)

	rec, _ = w.call("POST", "/accounts/acme/invitations", map[string]any{"email": "ada@example.com", "roles": []string{"owner"}})
	p := requireProblem(t, rec, http.StatusUnprocessableEntity, "invalid_input")
	assert.Equal(t, "roles", p["field"])
	assert.NotContains(t, rec.Body.String(), "owner", "the rejected value is not echoed")

	ada := w.invite("ada@example.com")
	rec, _ = w.call("PUT", "/accounts/acme/invitations/"+ada["id"].(string)+"/roles", map[string]any{"roles": []string{"billing"}})
	p = requireProblem(t, rec, http.StatusUnprocessableEntity, "invalid_input")
	assert.Equal(t, "roles", p["field"])

	plain := newWorld(t)
	rec, _ = plain.call("GET", "/accounts/acme/roles", nil)
	requireProblem(t, rec, http.StatusNotFound, "not_found")
	rec, _ = plain.call("POST", "/accounts/acme/invitations", map[string]any{"email": "ada@example.com", "roles": []string{"owner"}})
	assert.Equal(t, http.StatusCreated, rec.Code, "without the hook any role goes")
}
