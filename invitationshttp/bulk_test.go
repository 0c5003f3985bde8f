package invitationshttp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
)

func TestAdminBulk(t *testing.T) {
	w := newWorld(t)
	held := w.invite("held@example.com")
	rec, out := w.call("POST", "/accounts/acme/invitations/bulk", map[string]any{"invitations": []map[string]any{
		{"email": "ada@example.com", "roles": []string{"admin"}},
		{"email": "broken", "roles": []string{"admin"}},
		{"email": "held@example.com", "roles": []string{"admin"}},
		{"email": "ADA@example.com", "roles": []string{"viewer"}},
	}})
	require.Equal(t, http.StatusMultiStatus, rec.Code, rec.Body.String())
	results := out["results"].([]any)
	require.Len(t, results, 4)
	row := func(i int) map[string]any { return results[i].(map[string]any) }
	assert.Equal(t, 201.0, row(0)["status"])
	inv := row(0)["invitation"].(map[string]any)
	assert.Equal(t, "ada@example.com", inv["email"])
	assert.Equal(t, "pending", inv["status"])
	assert.Equal(t, "Grace Hopper", inv["invited_by"])
	assert.Equal(t, 422.0, row(1)["status"])
	assert.Equal(t, "invalid_input", row(1)["problem"].(map[string]any)["code"])
	assert.Equal(t, 409.0, row(2)["status"])
	assert.Equal(t, held["id"], row(2)["problem"].(map[string]any)["existing_id"])
	assert.Equal(t, "already_invited", row(3)["problem"].(map[string]any)["code"])
	assert.Nil(t, row(1)["invitation"])

	sent := len(w.mailer.Messages())
	report, err := w.svc.DeliverDue(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, report.Delivered, "mail goes out with the next DeliverDue")
	assert.Len(t, w.mailer.Messages(), sent+1)

	var many []map[string]any
	for i := range invitations.MaxInviteMany + 1 {
		many = append(many, map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "roles": []string{"a"}})
	}
	p := requireProblem(t, first(w.call("POST", "/accounts/acme/invitations/bulk", map[string]any{"invitations": many})), 422, "invalid_input")
	assert.Equal(t, "invitations", p["field"])
	rec, _ = w.call("POST", "/accounts/acme/invitations/bulk", map[string]any{"invitations": many[:invitations.MaxInviteMany]})
	assert.Equal(t, http.StatusMultiStatus, rec.Code, "1,000 rows fit in the bulk body limit")
	requireProblem(t, first(w.call("POST", "/accounts/acme/invitations/bulk", `{"invitations": [{"email": "a@b.co", "bogus": 1}]}`)), 400, "bad_request")
	requireProblem(t, first(w.call("POST", "/accounts/acme/invitations/bulk", `{"invitations": ["`+strings.Repeat("x", 17*64<<10)+`"]}`)), 413, "too_large")
}
