package invitationshttp_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
)

// consentPage is the invitee's page of a host with sign-in: the header
// X-User names who is signed in, and users lists the emails that have an
// account.
func consentPage(t *testing.T, w *world, users map[string]bool, accept func(http.ResponseWriter, *http.Request, *invitationshttp.Acceptance)) http.Handler {
	t.Helper()
	page, err := invitationshttp.NewInvitee(w.svc, invitationshttp.InviteeConfig{
		SignInURL: "/login",
		SignedIn: func(r *http.Request) (string, bool) {
			user := r.Header.Get("X-User")
			return user, user != ""
		},
		UserExists: func(_ context.Context, email string) (bool, error) { return users[email], nil },
		Accept:     accept,
	})
	require.NoError(t, err)
	return page
}

func openAs(page http.Handler, token, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/invitations/accept?token="+url.QueryEscape(token), nil)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, req)
	return rec
}

func (w *world) state(inv *invitations.Invitation) invitations.Status {
	w.t.Helper()
	got, err := w.svc.Get(context.Background(), inv.AccountID, inv.ID)
	require.NoError(w.t, err)
	return got.State
}

// TestInviteeSignedInAsSomeoneElse: an admin who opens a copied link while
// signed in herself gets 403, learns nothing of the invitation's state and
// cannot accept or decline it, not even with a forged POST.
func TestInviteeSignedInAsSomeoneElse(t *testing.T) {
	w := newWorld(t)
	page := consentPage(t, w, map[string]bool{"ada@example.com": true, "grace@acme.test": true}, nil)
	inv, token := w.inviteForPage()

	rec := openAs(page, token, "grace@acme.test")
	require.Equal(t, http.StatusForbidden, rec.Code)
	requirePageHeaders(t, rec)
	body := rec.Body.String()
	assert.Contains(t, body, "a•••@example.com")
	assert.NotContains(t, body, "ada@example.com", "never the whole address")
	assert.NotContains(t, body, "Accept invitation")
	assert.NotContains(t, body, token)
	for _, action := range []string{"accept", "decline"} {
		rec = w.press(page, action, token, map[string]string{"X-User": "grace@acme.test"})
		assert.Equal(t, http.StatusForbidden, rec.Code, action)
		assert.Equal(t, invitations.StatusPending, w.state(inv), "a forged %s changes nothing", action)
	}

	// The same page whatever the state: accepted, or expired.
	other, otherToken := w.inviteWith(invitations.InviteInput{AccountID: "acme", Email: "bob@example.com", Roles: []string{"admin"}})
	_, err := w.svc.Accept(context.Background(), otherToken)
	require.NoError(t, err)
	accepted := openAs(page, otherToken, "grace@acme.test")
	assert.Equal(t, http.StatusForbidden, accepted.Code)
	assert.NotContains(t, accepted.Body.String(), "joined")
	assert.Equal(t, invitations.StatusAccepted, w.state(other))
	w.clock.Advance(8 * 24 * time.Hour)
	expired := openAs(page, token, "grace@acme.test")
	assert.Equal(t, http.StatusForbidden, expired.Code)
	assert.NotContains(t, expired.Body.String(), "expired")
	for _, rec := range []*httptest.ResponseRecorder{accepted, expired} {
		assert.Equal(t, strings.Count(body, "<"), strings.Count(rec.Body.String(), "<"), "the same page")
	}
}

// TestInviteeSignedInAsTheInvitee: the invited person, signed in, accepts
// (with AcceptAs) or declines.
func TestInviteeSignedInAsTheInvitee(t *testing.T) {
	w := newWorld(t)
	page := consentPage(t, w, map[string]bool{"ada@example.com": true}, nil)
	inv, token := w.inviteForPage()
	rec := openAs(page, token, "Ada@Example.com")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "Accept invitation")
	rec = w.press(page, "accept", token, map[string]string{"X-User": "ada@example.com"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "You joined Acme Inc.")
	assert.Equal(t, invitations.StatusAccepted, w.state(inv))
}

// TestInviteeExistingUserMustSignIn: nobody signed in while a user with the
// invited email exists: the page asks to sign in, coming back to the
// invitation, and offers no Accept; a forged POST changes nothing. A new
// user is offered Accept.
func TestInviteeExistingUserMustSignIn(t *testing.T) {
	w := newWorld(t)
	page := consentPage(t, w, map[string]bool{"ada@example.com": true}, nil)
	inv, token := w.inviteForPage()
	rec := openAs(page, token, "")
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, "Sign in to join Acme Inc.")
	assert.NotContains(t, body, "Accept invitation")
	next := "/invitations/accept?token=" + url.QueryEscape(token)
	assert.Contains(t, body, `href="/login?next=`+url.QueryEscape(next)+`"`, "back to the invitation after signing in")
	for _, action := range []string{"accept", "decline"} {
		rec = w.press(page, action, token, nil)
		assert.Contains(t, rec.Body.String(), "Sign in to join", action)
		assert.Equal(t, invitations.StatusPending, w.state(inv), "a forged %s changes nothing", action)
	}

	w2 := newWorld(t)
	page = consentPage(t, w2, map[string]bool{}, nil)
	inv, token = w2.inviteForPage()
	rec = openAs(page, token, "")
	assert.Contains(t, rec.Body.String(), "Accept invitation", "no such user: a new one registers")
	rec = w2.press(page, "accept", token, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, invitations.StatusAccepted, w2.state(inv))
}

// TestInviteeAlreadyMember: someone who joined another way meanwhile gets
// "you're already a member" (409), and the invitation ends as accepted.
func TestInviteeAlreadyMember(t *testing.T) {
	member := false
	w := newWorld(t, func(c *invitations.Config) {
		c.IsMember = func(context.Context, string, string) (bool, error) { return member, nil }
	})
	inv, token := w.inviteForPage()
	member = true
	rec := w.press(w.invitee, "accept", token, nil)
	require.Equal(t, http.StatusConflict, rec.Code)
	assert.Contains(t, rec.Body.String(), "You're already a member of Acme Inc.")
	assert.Contains(t, rec.Body.String(), `href="https://app.example.com/login"`)
	assert.Equal(t, invitations.StatusAccepted, w.state(inv))
}

// TestAcceptanceRenderAndAccept: the host's step renders like the
// library's pages (headers, CSP nonce, hidden fields), and
// Acceptance.Accept accepts as the signed-in invitee.
func TestAcceptanceRenderAndAccept(t *testing.T) {
	w := newWorld(t)
	form := template.Must(template.New("host").Parse(`<style nonce="{{.Nonce}}">p{}</style>` +
		`<form method="post" action="{{.Action}}">{{.Hidden}}<p>{{.Message}} {{.Data}} for {{.AccountName}}</p></form>`))
	var signedIn string
	page := consentPage(t, w, map[string]bool{"ada@example.com": true}, func(rw http.ResponseWriter, r *http.Request, a *invitationshttp.Acceptance) {
		signedIn = a.Email
		if r.PostForm.Get("confirm") == "" {
			a.Render(http.StatusOK, form, "Please confirm", "Ada")
			return
		}
		a.Finish(a.Accept(r.Context(), w.svc))
	})
	inv, token := w.inviteForPage()
	rec := w.press(page, "accept", token, map[string]string{"X-User": "ada@example.com"})
	require.Equal(t, http.StatusOK, rec.Code)
	requirePageHeaders(t, rec)
	body := rec.Body.String()
	nonce := between(rec.Header().Get("Content-Security-Policy"), "'nonce-", "'")
	require.NotEmpty(t, nonce)
	assert.Contains(t, body, `<style nonce="`+nonce+`">`)
	assert.Contains(t, body, `action="./accept"`)
	assert.Contains(t, body, `name="action" value="accept"`)
	assert.Contains(t, body, "Please confirm Ada for Acme Inc.")
	assert.Equal(t, "ada@example.com", signedIn)

	req := httptest.NewRequest("POST", "/invitations/accept", strings.NewReader(url.Values{
		"token": {token}, "action": {"accept"}, "confirm": {"yes"},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-User", "ada@example.com")
	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, invitations.StatusAccepted, w.state(inv))
}
