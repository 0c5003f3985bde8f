package invitationshttp_test

import (
	"context"
	"html"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/invitationstest"
)

// inviteForPage invites Ada into acme and returns the token of her link.
func (w *world) inviteForPage() (*invitations.Invitation, string) {
	w.t.Helper()
	return w.inviteWith(invitations.InviteInput{
		AccountID: "acme", Email: "ada@example.com", Name: "Ada", Roles: []string{"admin", "billing"}, InvitedBy: "Grace Hopper",
		Metadata: map[string]string{invitations.MetadataAccountName: "Acme Inc.", invitations.MetadataTimeZone: "Europe/Berlin"},
	})
}

// inviteWith invites and returns the invitation and the token of its link.
func (w *world) inviteWith(in invitations.InviteInput) (*invitations.Invitation, string) {
	w.t.Helper()
	inv, err := w.svc.Invite(context.Background(), in)
	require.NoError(w.t, err)
	token, err := invitationstest.TokenFromLink(w.mailer.Last().Link)
	require.NoError(w.t, err)
	return inv, token
}

func (w *world) open(method, token string) *httptest.ResponseRecorder {
	w.t.Helper()
	rec := httptest.NewRecorder()
	w.invitee.ServeHTTP(rec, httptest.NewRequest(method, "/invitations/accept?token="+url.QueryEscape(token), nil))
	return rec
}

func (w *world) press(h http.Handler, action, token string, header map[string]string) *httptest.ResponseRecorder {
	w.t.Helper()
	form := url.Values{"token": {token}, "action": {action}}
	req := httptest.NewRequest("POST", "/invitations/accept", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// requirePageHeaders: every invitee response forbids caching, referrers,
// indexing, framing and any script.
func requirePageHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Contains(t, h.Get("X-Robots-Tag"), "noindex")
	csp := h.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "form-action 'self'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotContains(t, csp, "script-src")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
}

func TestInviteePageShowsTheInvitation(t *testing.T) {
	w := newWorld(t)
	inv, token := w.inviteForPage()
	rec := w.open("GET", token)
	require.Equal(t, http.StatusOK, rec.Code)
	requirePageHeaders(t, rec)
	body := rec.Body.String()
	for _, want := range []string{"Acme Inc.", "Grace Hopper", "admin, billing", "Monday, 9 November 2026 at 10:30 CET",
		">Accept invitation</button>", ">Decline invitation</button>", `method="post"`, `action="./accept"`} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "?token=", "the form posts the token in its body, never in a URL")
	assert.Contains(t, body, `name="token" value="`+token+`"`)
	nonce := between(rec.Header().Get("Content-Security-Policy"), "'nonce-", "'")
	assert.Contains(t, body, `<style nonce="`+nonce+`">`)

	// GET and HEAD change nothing, however often.
	for range 3 {
		assert.Equal(t, http.StatusOK, w.open("GET", token).Code)
		head := w.open("HEAD", token)
		assert.Equal(t, http.StatusOK, head.Code)
		requirePageHeaders(t, head)
	}
	got, err := w.svc.Get(context.Background(), "acme", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, inv.Version, got.Version, "nothing changed")
	assert.Equal(t, invitations.StatusPending, got.State)
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	before, _, _ := strings.Cut(after, to)
	return before
}

func TestInviteeAcceptAndDecline(t *testing.T) {
	w := newWorld(t)
	_, token := w.inviteForPage()
	rec := w.press(w.invitee, "accept", token, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	requirePageHeaders(t, rec)
	assert.Contains(t, rec.Body.String(), "You joined Acme Inc.")
	assert.NotContains(t, rec.Body.String(), token, "no token on the page after the POST")

	rec = w.open("GET", token)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Contains(t, rec.Body.String(), "You already joined Acme Inc.")
	assert.Contains(t, rec.Body.String(), `href="https://app.example.com/login"`, "a sign-in link")
	rec = w.press(w.invitee, "accept", token, nil)
	assert.Equal(t, http.StatusConflict, rec.Code, "a second accept")

	w2 := newWorld(t)
	_, token = w2.inviteForPage()
	rec = w2.press(w2.invitee, "decline", token, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "You declined the invitation to join Acme Inc.")
	rec = w2.open("GET", token)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Contains(t, rec.Body.String(), "You declined this invitation")
}

func TestInviteeErrorPages(t *testing.T) {
	w := newWorld(t)
	inv, token := w.inviteForPage()

	for _, bad := range []string{"", "nonsense", strings.Repeat("A", 48)} {
		rec := w.open("GET", bad)
		assert.Equal(t, http.StatusNotFound, rec.Code, "%q", bad)
		assert.Contains(t, rec.Body.String(), "This invitation link is not valid")
		requirePageHeaders(t, rec)
		assert.Equal(t, http.StatusNotFound, w.press(w.invitee, "accept", bad, nil).Code)
	}

	w.clock.Advance(8 * 24 * time.Hour)
	rec := w.open("GET", token)
	assert.Equal(t, http.StatusGone, rec.Code)
	assert.Contains(t, rec.Body.String(), "This invitation expired on Monday, 9 November 2026 at 10:30 CET. Ask your administrator for a new one.")
	assert.Equal(t, http.StatusGone, w.press(w.invitee, "accept", token, nil).Code)
	assert.Equal(t, http.StatusGone, w.press(w.invitee, "decline", token, nil).Code)

	// Regenerated: the old link is invalid, not expired.
	_, err := w.svc.Regenerate(context.Background(), "acme", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, w.open("GET", token).Code)
	newToken, err := invitationstest.TokenFromLink(w.mailer.Last().Link)
	require.NoError(t, err)
	_, err = w.svc.Revoke(context.Background(), "acme", inv.ID)
	require.NoError(t, err)
	rec = w.open("GET", newToken)
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Contains(t, rec.Body.String(), "This invitation was withdrawn")

	assert.Equal(t, http.StatusBadRequest, w.press(w.invitee, "explode", newToken, nil).Code)
	rec = httptest.NewRecorder()
	w.invitee.ServeHTTP(rec, httptest.NewRequest("DELETE", "/invitations/accept", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD, POST", rec.Header().Get("Allow"))
}

// TestInviteeRefusesCrossSitePosts: a form on another site cannot accept
// or decline for the invitee.
func TestInviteeRefusesCrossSitePosts(t *testing.T) {
	w := newWorld(t)
	inv, token := w.inviteForPage()
	for _, header := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		for _, action := range []string{"accept", "decline"} {
			rec := w.press(w.invitee, action, token, header)
			assert.Equal(t, http.StatusForbidden, rec.Code, "%v %s", header, action)
			requirePageHeaders(t, rec)
		}
	}
	got, err := w.svc.Get(context.Background(), "acme", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, invitations.StatusPending, got.State, "nothing changed")
	assert.Equal(t, http.StatusOK, w.press(w.invitee, "accept", token, map[string]string{"Sec-Fetch-Site": "same-origin"}).Code)
}

// TestInviteeAcceptHook: the host shows its registration form first, then
// accepts; a failing step of the host leaves the invitation pending.
func TestInviteeAcceptHook(t *testing.T) {
	w := newWorld(t)
	registered := map[string]string{}
	page, err := invitationshttp.NewInvitee(w.svc, invitationshttp.InviteeConfig{
		Accept: func(rw http.ResponseWriter, r *http.Request, a *invitationshttp.Acceptance) {
			name := r.PostForm.Get("full_name")
			switch {
			case name == "":
				rw.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = rw.Write([]byte(`<form method="post">` + string(a.Hidden()) + `<input name="full_name"></form>`))
			case name == "fail":
				a.Fail(http.StatusUnprocessableEntity, "That name is taken.")
			default:
				inv, err := w.svc.Accept(r.Context(), a.Token)
				if err == nil {
					registered[inv.Email] = name
				}
				a.Finish(inv, err)
			}
		},
	})
	require.NoError(t, err)
	_, token := w.inviteForPage()

	rec := w.press(page, "accept", token, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `name="full_name"`, "the host's registration step")
	assert.Contains(t, rec.Body.String(), `name="action" value="accept"`)

	post := func(name string) *httptest.ResponseRecorder {
		form := url.Values{"token": {token}, "action": {"accept"}, "full_name": {name}}
		req := httptest.NewRequest("POST", "/invitations/accept", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, req)
		return rec
	}
	rec = post("fail")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	assert.Contains(t, rec.Body.String(), "That name is taken.")
	assert.Equal(t, http.StatusOK, w.open("GET", token).Code, "still pending")

	rec = post("Ada Lovelace")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "You joined Acme Inc.")
	assert.Equal(t, "Ada Lovelace", registered["ada@example.com"])
	assert.Equal(t, http.StatusConflict, post("Again").Code, "already accepted")
}

func TestInviteeCustomPages(t *testing.T) {
	w := newWorld(t)
	pages := template.Must(template.New("").Parse(`{{define "invalid"}}<p>Nope, {{.Name}}.</p>{{end}}`))
	page, err := invitationshttp.NewInvitee(w.svc, invitationshttp.InviteeConfig{Pages: pages})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/invitations/accept?token=x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "<p>Nope, invalid.</p>", rec.Body.String())
	requirePageHeaders(t, rec)
	_, token := w.inviteForPage()
	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/invitations/accept?token="+token, nil))
	assert.Contains(t, rec.Body.String(), "Accept invitation", "pages it does not define stay built in")
}

// losingStore loses every compare-and-set while losing is set, as a store
// does while an admin keeps editing the invitation: longer than the
// Service retries, so the Service gives up with ErrConflict.
type losingStore struct {
	invitations.Store
	losing atomic.Bool
}

func (s *losingStore) Update(ctx context.Context, inv *invitations.Invitation, expected int64, ev *invitations.Event) error {
	if s.losing.Load() {
		return invitations.ErrConflict
	}
	return s.Store.Update(ctx, inv, expected, ev)
}

var (
	formTag     = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// pageForm reads the form of a page as a browser would send it: its
// action, and its hidden fields.
func pageForm(t *testing.T, body string) (action string, fields url.Values) {
	t.Helper()
	m := formTag.FindStringSubmatch(body)
	require.NotNil(t, m, "a form that posts back: %s", body)
	fields = url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(body, -1) {
		fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// submit posts fields to action as a browser does from the page at
// pageURL: action resolved against the page's URL, the fields in the body.
// It returns the response and the URL posted to.
func submit(t *testing.T, h http.Handler, pageURL, action string, fields url.Values) (*httptest.ResponseRecorder, *url.URL) {
	t.Helper()
	base, err := url.Parse(pageURL)
	require.NoError(t, err)
	ref, err := url.Parse(action)
	require.NoError(t, err)
	target := base.ResolveReference(ref)
	req := httptest.NewRequest("POST", target.RequestURI(), strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, target
}

// TestInviteeConflictCanBeRetried: an answer that keeps losing the
// compare-and-set (an admin editing the invitation meanwhile) is a 409
// page that says to try again and carries the same answer back; sent
// again once the edits stop, it succeeds. For Accept, Decline and an
// Accept hook that hands the conflict to Finish.
func TestInviteeConflictCanBeRetried(t *testing.T) {
	for _, tc := range []struct {
		action, done string
		hook         bool
	}{
		{"accept", "You joined Acme Inc.", false},
		{"decline", "You declined the invitation to join Acme Inc.", false},
		{"accept", "You joined Acme Inc.", true},
	} {
		name := tc.action
		if tc.hook {
			name += " through the hook"
		}
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			store := &losingStore{Store: w.store}
			svc, err := invitations.New(store, w.mailer, invitations.Config{Secret: secret, AcceptURL: acceptURL, Now: w.clock.Now})
			require.NoError(t, err)
			var cfg invitationshttp.InviteeConfig
			if tc.hook {
				cfg.Accept = func(_ http.ResponseWriter, r *http.Request, a *invitationshttp.Acceptance) {
					a.Finish(svc.Accept(r.Context(), a.Token))
				}
			}
			page, err := invitationshttp.NewInvitee(svc, cfg)
			require.NoError(t, err)
			inv, token := w.inviteForPage()

			store.losing.Store(true)
			rec := w.press(page, tc.action, token, nil)
			require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
			requirePageHeaders(t, rec)
			assert.Contains(t, rec.Body.String(), "try again")
			action, fields := pageForm(t, rec.Body.String())
			assert.Equal(t, url.Values{"token": {token}, "action": {tc.action}}, fields, "the same answer, in the body")
			assert.NotContains(t, action, token)
			got, err := w.svc.Get(context.Background(), "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, invitations.StatusPending, got.State, "nothing was stored")

			store.losing.Store(false)
			rec, _ = submit(t, page, "/invitations/accept", action, fields)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), tc.done)
			assert.NotContains(t, rec.Body.String(), token)
		})
	}
}

// TestInviteeFormPostsToThePageWhereverMounted: the page's form posts
// back to the page itself, with the token in the body and not in the URL,
// whether the page is mounted at its full path, below a trailing slash,
// or behind http.StripPrefix (which hides the prefix from the handler).
func TestInviteeFormPostsToThePageWhereverMounted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pattern string // where the host mounts it
		strip   string // the http.StripPrefix prefix, if any
		path    string // the page's path in the browser
	}{
		{"at its path", "/invitations/accept", "", "/invitations/accept"},
		{"below a trailing slash", "/join/", "", "/join/"},
		{"behind StripPrefix", "/join/", "/join", "/join/"},
		{"behind StripPrefix with a slash", "/join/", "/join/", "/join/"},
		{"behind StripPrefix of its whole path", "/welcome", "/welcome", "/welcome"},
		{"behind StripPrefix, deeper", "/teams/", "/teams", "/teams/invitations/accept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var h http.Handler = w.invitee
			if tc.strip != "" {
				h = http.StripPrefix(tc.strip, h)
			}
			mux := http.NewServeMux()
			mux.Handle(tc.pattern, h)
			inv, token := w.inviteForPage()

			pageURL := tc.path + "?token=" + url.QueryEscape(token)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", pageURL, nil))
			require.Equal(t, http.StatusOK, rec.Code)
			action, fields := pageForm(t, rec.Body.String())
			assert.NotContains(t, action, token)
			fields.Set("action", "accept") // the button pressed

			rec, target := submit(t, mux, pageURL, action, fields)
			assert.Equal(t, tc.path, target.Path, "the form posts to the page")
			assert.Empty(t, target.RawQuery, "the token goes in the body, not the URL")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), "You joined Acme Inc.")
			got, err := w.svc.Get(context.Background(), "acme", inv.ID)
			require.NoError(t, err)
			assert.Equal(t, invitations.StatusAccepted, got.State)
		})
	}
}
