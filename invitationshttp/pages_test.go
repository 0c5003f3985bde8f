package invitationshttp_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
)

var (
	titleTag  = regexp.MustCompile(`<title>([^<]*)</title>`)
	h1Tag     = regexp.MustCompile(`<h1[ >]`)
	mainTag   = regexp.MustCompile(`<main[ >]`)
	langAttr  = regexp.MustCompile(`<html lang="en">`)
	autofocus = regexp.MustCompile(`\bautofocus\b`)
)

// requireReadablePage checks what a screen reader relies on in a page:
// a language, a title, one main landmark and one h1. It returns the title.
func requireReadablePage(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	body := rec.Body.String()
	assert.Regexp(t, langAttr, body)
	assert.Len(t, mainTag.FindAllString(body, -1), 1, "one <main>: %s", body)
	assert.Len(t, h1Tag.FindAllString(body, -1), 1, "one <h1>: %s", body)
	m := titleTag.FindStringSubmatch(body)
	require.NotNil(t, m, "a <title>: %s", body)
	require.NotEmpty(t, strings.TrimSpace(m[1]), "a title that says something")
	return m[1]
}

// TestEveryPageHasATitleOfItsOwn: each of the invitee's pages can be told
// apart by its title alone (a browser tab, the history, the first thing a
// screen reader says), names the account where it has one, and has a main
// landmark and one h1.
func TestEveryPageHasATitleOfItsOwn(t *testing.T) {
	pages := map[string]*httptest.ResponseRecorder{}

	w := newWorld(t)
	_, token := w.inviteForPage()
	pages["invitation"] = w.open("GET", token)
	pages["invalid"] = w.open("GET", "nonsense")
	pages["error"] = w.press(w.invitee, "explode", token, nil)
	pages["forbidden"] = w.press(w.invitee, "accept", token, map[string]string{"Sec-Fetch-Site": "cross-site"})
	pages["joined"] = w.press(w.invitee, "accept", token, nil)
	pages["already_accepted"] = w.open("GET", token)

	_, token = w.inviteWith(invitations.InviteInput{AccountID: "acme", Email: "bob@example.com", Roles: []string{"admin"},
		Metadata: map[string]string{invitations.MetadataAccountName: "Acme Inc."}})
	pages["declined"] = w.press(w.invitee, "decline", token, nil)
	pages["already_declined"] = w.open("GET", token)

	_, token = w.inviteWith(invitations.InviteInput{AccountID: "acme", Email: "carol@example.com", Roles: []string{"admin"},
		Metadata: map[string]string{invitations.MetadataAccountName: "Acme Inc."}})
	w.clock.Advance(8 * 24 * time.Hour)
	pages["expired"] = w.open("GET", token)

	w = newWorld(t)
	inv, token := w.inviteForPage()
	_, err := w.svc.Revoke(context.Background(), "acme", inv.ID)
	require.NoError(t, err)
	pages["withdrawn"] = w.open("GET", token)

	w = newWorld(t)
	consent := consentPage(t, w, map[string]bool{"ada@example.com": true}, nil)
	_, token = w.inviteForPage()
	pages["sign_in"] = openAs(consent, token, "")
	pages["wrong_person"] = openAs(consent, token, "grace@acme.test")

	member := false
	w = newWorld(t, func(c *invitations.Config) {
		c.IsMember = func(context.Context, string, string) (bool, error) { return member, nil }
	})
	_, token = w.inviteForPage()
	member = true
	pages["already_member"] = w.press(w.invitee, "accept", token, nil)

	w = newWorld(t)
	store := &losingStore{Store: w.store}
	store.losing.Store(true)
	svc, err := invitations.New(store, w.mailer, invitations.Config{Secret: secret, AcceptURL: acceptURL, Now: w.clock.Now})
	require.NoError(t, err)
	losing, err := invitationshttp.NewInvitee(svc, invitationshttp.InviteeConfig{})
	require.NoError(t, err)
	_, token = w.inviteForPage()
	pages["conflict"] = w.press(losing, "accept", token, nil)

	want := map[string]string{
		"invitation":       "Invitation to join Acme Inc.",
		"invalid":          "Invitation link not valid",
		"expired":          "Invitation to join Acme Inc. expired",
		"already_accepted": "Invitation to join Acme Inc. already accepted",
		"already_declined": "Invitation to join Acme Inc. already declined",
		"withdrawn":        "Invitation to join Acme Inc. withdrawn",
		"joined":           "You joined Acme Inc.",
		"declined":         "Invitation to join Acme Inc. declined",
		"conflict":         "Answer not saved: please try again",
		"already_member":   "Already a member of Acme Inc.",
		"sign_in":          "Sign in to join Acme Inc.",
		"wrong_person":     "Invitation for someone else",
		"forbidden":        "Request refused",
		"error":            "Something went wrong",
	}
	seen := map[string]string{}
	for name, rec := range pages {
		title := requireReadablePage(t, rec)
		assert.Equal(t, want[name], title, name)
		assert.NotContains(t, seen, title, "%s has the title of %s", name, seen[title])
		seen[title] = name
	}
	assert.Len(t, pages, len(want), "every built-in page")
}

// registration is a host's form as Acceptance.RenderErrors renders it.
var registration = template.Must(template.New("host").Parse(`<!DOCTYPE html><html lang="en"><head><title>` +
	`{{if .Errors}}Error: {{end}}Create your account · {{.AccountName}}</title></head><body><main><h1>Create your account</h1>
<form method="post" action="{{.Action}}">{{.Hidden}}
<label for="name">Name</label><input id="name" name="name" value="{{.Data}}"{{.Errors.Attrs "name"}}>
{{with .Errors.Message "name"}}<p id="{{$.Errors.ID "name"}}">{{.}}</p>{{end}}
<label for="password">Password</label><input id="password" name="password" type="password"{{.Errors.Attrs "password"}}>
{{with .Errors.Message "password"}}<p id="{{$.Errors.ID "password"}}">{{.}}</p>{{end}}
<label><input name="terms[]" type="checkbox"{{.Errors.Attrs "terms[]"}}> I accept the terms</label>
{{with .Errors.Message "terms[]"}}<p id="{{$.Errors.ID "terms[]"}}">{{.}}</p>{{end}}
</form></main></body></html>`))

// TestAcceptanceRenderErrors: a host's form rendered again with its field
// errors ties each error to its field (aria-invalid, aria-describedby to
// the element that shows it) and opens with focus on the first invalid
// field; fields without an error are left alone.
func TestAcceptanceRenderErrors(t *testing.T) {
	w := newWorld(t)
	page, err := invitationshttp.NewInvitee(w.svc, invitationshttp.InviteeConfig{
		Accept: func(_ http.ResponseWriter, r *http.Request, a *invitationshttp.Acceptance) {
			a.RenderErrors(http.StatusUnprocessableEntity, registration, invitationshttp.FieldErrors{
				{Field: "password", Message: "Use at least 8 characters."},
				{Field: "terms[]", Message: "Accept the terms to join."},
			}, r.PostForm.Get("name"))
		},
	})
	require.NoError(t, err)
	_, token := w.inviteForPage()
	form := url.Values{"token": {token}, "action": {"accept"}, "name": {"Ada <Lovelace>"}}
	req := httptest.NewRequest("POST", "/invitations/accept", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, req)

	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	requirePageHeaders(t, rec)
	assert.Equal(t, "Error: Create your account · Acme Inc.", requireReadablePage(t, rec))
	body := rec.Body.String()
	assert.Contains(t, body, `<input id="name" name="name" value="Ada &lt;Lovelace&gt;">`, "a valid field: no error attributes")
	assert.Contains(t, body, `<input id="password" name="password" type="password" aria-invalid="true" aria-describedby="error-password" autofocus>`)
	assert.Contains(t, body, `<p id="error-password">Use at least 8 characters.</p>`)
	assert.Contains(t, body, `<input name="terms[]" type="checkbox" aria-invalid="true" aria-describedby="error-terms--">`)
	assert.Contains(t, body, `<p id="error-terms--">Accept the terms to join.</p>`)
	assert.Len(t, autofocus.FindAllString(body, -1), 1, "focus starts at the first invalid field only")
	assert.Contains(t, body, `name="action" value="accept"`, "the form still posts back")
}

func TestFieldErrors(t *testing.T) {
	errs := invitationshttp.FieldErrors{{Field: "email", Message: "Enter an email."}, {Field: "a b\"c", Message: "No."}}
	assert.Equal(t, "Enter an email.", errs.Message("email"))
	assert.Empty(t, errs.Message("name"))
	assert.Empty(t, errs.Attrs("name"))
	assert.Equal(t, "error-a-b-c", errs.ID(`a b"c`), "an id attribute's value, whatever the field's name")
	assert.Equal(t, template.HTMLAttr(` aria-invalid="true" aria-describedby="error-a-b-c"`), errs.Attrs(`a b"c`))
	assert.Empty(t, invitationshttp.FieldErrors(nil).Attrs("email"))
}
