package invitationshttp_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdminHistoryAndEvents: an invitation's history and the account's
// feed, with who did what, in pages.
func TestAdminHistoryAndEvents(t *testing.T) {
	w := newWorld(t)
	ada := w.invite("ada@example.com")
	id := ada["id"].(string)
	rec, _ := w.call("POST", "/accounts/acme/invitations/"+id+"/link", nil)
	require.Equal(t, http.StatusOK, rec.Code)

	rec, out := w.call("GET", "/accounts/acme/invitations/"+id+"/history", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	events := out["events"].([]any)
	require.Len(t, events, 3)
	var kinds []string
	for _, e := range events {
		ev := e.(map[string]any)
		kinds = append(kinds, ev["kind"].(string))
		assert.Equal(t, "grace@acme.test", ev["actor"])
		assert.NotEmpty(t, ev["id"])
		assert.NotContains(t, ev["invitation"], "token")
	}
	assert.Equal(t, []string{"invited", "delivered", "link_copied"}, kinds)
	assert.Equal(t, "invite", events[1].(map[string]any)["message"])
	other := id[:35] + "0"
	if other == id {
		other = id[:35] + "1"
	}
	rec, _ = w.call("GET", "/accounts/acme/invitations/"+other+"/history", nil)
	requireProblem(t, rec, http.StatusNotFound, "not_found")

	rec, out = w.call("GET", "/accounts/acme/events?limit=2", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Len(t, out["events"], 2)
	next := out["next"].(string)
	rec, out = w.call("GET", "/accounts/acme/events?after="+next, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Len(t, out["events"], 1)
	for _, q := range []string{"limit=x", "limit=-1", "limit=1001"} {
		rec, _ = w.call("GET", "/accounts/acme/events?"+q, nil)
		p := requireProblem(t, rec, http.StatusUnprocessableEntity, "invalid_input")
		assert.Equal(t, "limit", p["field"], q)
	}
	for _, q := range []string{"limit=0", "limit=1000"} {
		rec, out = w.call("GET", "/accounts/acme/events?"+q, nil)
		require.Equal(t, http.StatusOK, rec.Code, q)
		assert.Len(t, out["events"], 3, q)
	}
}
