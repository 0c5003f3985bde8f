package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationstest"
)

// TestJoinIsAtomic: when creating the member fails after the acceptance,
// the transaction rolls back both: the invitation stays pending and its
// link still works.
func TestJoinIsAtomic(t *testing.T) {
	a, base := startApp(t)
	ctx := context.Background()
	inv, err := a.svc.Invite(ctx, invitations.InviteInput{AccountID: accountID, Email: "ada@example.com", Name: "Ada Lovelace", Roles: []string{"Member"}})
	require.NoError(t, err)
	token, err := invitationstest.TokenFromLink(a.outbox.last().Link)
	require.NoError(t, err)
	register := func() *http.Response {
		form := url.Values{"token": {token}, "action": {"accept"}, "step": {"register"},
			"first_name": {"Ada"}, "last_name": {"Lovelace"}, "password": {"correct horse"}, "terms": {"on"}}
		res, err := http.Post(base+"/invitations/accept", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	// Someone created Ada's member row meanwhile: the insert fails after Accept.
	require.NoError(t, a.addMember(ctx, a.db, accountID, "ada@example.com", "Ada", []string{"Member"}, "another password"))
	res := register()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	got, err := a.svc.Get(ctx, accountID, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusPending, got.State, "the acceptance rolled back with the failed insert")

	_, err = a.db.Exec("DELETE FROM members WHERE email = 'ada@example.com'")
	require.NoError(t, err)
	res = register()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the link still works")
	got, err = a.svc.Get(ctx, accountID, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusAccepted, got.State)
	var n int
	require.NoError(t, a.db.QueryRow("SELECT count(*) FROM members WHERE email = 'ada@example.com'").Scan(&n))
	assert.Equal(t, 1, n)

	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "the Users page is read-only")
}
