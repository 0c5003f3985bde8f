package main

import (
	"context"
	"encoding/json"
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
	count := func(query string) (n int) {
		require.NoError(t, a.db.QueryRow(query).Scan(&n))
		return n
	}

	// The member insert fails after Accept.
	_, err = a.db.Exec(`CREATE TRIGGER members_full BEFORE INSERT ON members WHEN NEW.email = 'ada@example.com'
		BEGIN SELECT RAISE(ABORT, 'members are full'); END`)
	require.NoError(t, err)
	res := register()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	got, err := a.svc.Get(ctx, accountID, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusPending, got.State, "the acceptance rolled back with the failed insert")
	assert.Zero(t, count("SELECT count(*) FROM users WHERE email = 'ada@example.com'"), "and so did the new user")

	_, err = a.db.Exec("DROP TRIGGER members_full")
	require.NoError(t, err)
	res = register()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the link still works")
	got, err = a.svc.Get(ctx, accountID, inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusAccepted, got.State)
	assert.Equal(t, 1, count("SELECT count(*) FROM members WHERE email = 'ada@example.com'"))

	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "the Users page is read-only")
}

// TestIsMemberReadsTheTransaction: the host carries its transaction in the
// context, so Config.IsMember sees the rows it wrote before the commit.
func TestIsMemberReadsTheTransaction(t *testing.T) {
	a, _ := startApp(t)
	ctx := context.Background()
	_, err := a.svc.Invite(ctx, invitations.InviteInput{AccountID: accountID, Email: "ada@example.com", Roles: []string{"Member"}})
	require.NoError(t, err)
	token, err := invitationstest.TokenFromLink(a.outbox.last().Link)
	require.NoError(t, err)

	tx, err := a.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	_, err = tx.Exec("INSERT INTO members (account_id, email, roles, joined_at) VALUES ('acme', 'ada@example.com', '[]', '')")
	require.NoError(t, err)
	inTx := context.WithValue(ctx, txKey{}, tx)
	inv, err := a.svc.InTx(a.store.WithTx(tx)).Accept(inTx, token)
	require.ErrorIs(t, err, invitations.ErrAlreadyMember, "the member row this transaction wrote")
	assert.Equal(t, invitations.StatusAccepted, inv.State)
}

// TestAdminAPINeedsAnAdmin: the admin API answers only the account's
// admins, by their session.
func TestAdminAPINeedsAnAdmin(t *testing.T) {
	a, _ := startApp(t)
	get := func(account string, u string) int {
		req := httptest.NewRequest("GET", "/api/accounts/"+account+"/invitations", nil)
		if u != "" {
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: u + "." + a.sign(u)})
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusUnauthorized, get(accountID, ""))
	assert.Equal(t, http.StatusOK, get(accountID, adminEmail))
	assert.Equal(t, http.StatusForbidden, get("globex", adminEmail), "not an admin of Globex")
	assert.Equal(t, http.StatusForbidden, get(accountID, otherEmail), "a user of another account")
	assert.Equal(t, http.StatusForbidden, get("ACME", adminEmail), "account IDs are compared as strings")
}

// TestOutboxBeforeTheFirstMail: a fresh server's outbox is an empty list,
// which the page's script can draw, not null.
func TestOutboxBeforeTheFirstMail(t *testing.T) {
	a, _ := startApp(t)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/demo/outbox", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `[]`, rec.Body.String())
}

// TestAdminAPIDescribesTheDemo: the API's OpenAPI document tells a
// generated client where the API is mounted and that it authenticates
// with the demo's session cookie.
func TestAdminAPIDescribesTheDemo(t *testing.T) {
	a, _ := startApp(t)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var doc struct {
		Servers    []struct{ URL string } `json:"servers"`
		Components struct {
			SecuritySchemes map[string]map[string]string `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	require.Len(t, doc.Servers, 1)
	assert.Equal(t, "/api", doc.Servers[0].URL)
	assert.Equal(t, map[string]string{"type": "apiKey", "in": "cookie", "name": sessionCookie},
		doc.Components.SecuritySchemes["admin"])
}
