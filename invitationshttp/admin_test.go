package invitationshttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/invitationshttp/internal/exchanges"
	"github.com/invitekit/invitations/invitationstest"
	"github.com/invitekit/invitations/memstore"
)

var (
	secret    = []byte("invitationshttp test secret, 32 bytes or more")
	start     = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	acceptURL = "https://app.example.com/invitations/accept"
)

// world is a Service on memstore with a fake clock and a recording mailer,
// its admin API and its invitee page; the admin of "acme" is Grace.
type world struct {
	t       *testing.T
	svc     *invitations.Service
	store   *memstore.Store
	clock   *invitationstest.Clock
	mailer  *invitationstest.Mailer
	admin   http.Handler
	invitee http.Handler
	events  atomic.Value // []invitations.Event
	authz   atomic.Int64 // Authorize calls
}

func newWorld(t *testing.T, adjust ...func(*invitations.Config)) *world {
	t.Helper()
	w := &world{t: t, store: memstore.New(), clock: invitationstest.NewClock(start), mailer: invitationstest.NewMailer()}
	var events []invitations.Event
	cfg := invitations.Config{Secret: secret, AcceptURL: acceptURL, Now: w.clock.Now,
		OnEvent: func(_ context.Context, e invitations.Event) { events = append(events, e); w.events.Store(events) }}
	for _, f := range adjust {
		f(&cfg)
	}
	var err error
	w.svc, err = invitations.New(w.store, w.mailer, cfg)
	require.NoError(t, err)
	w.admin = newAdmin(t, w.svc, invitationshttp.AdminConfig{
		Authorize: func(r *http.Request, account string) error {
			w.authz.Add(1)
			switch r.Header.Get("Authorization") {
			case "":
				return invitationshttp.ErrUnauthenticated
			case "Bearer grace":
				if account != "acme" {
					return errors.New("grace is no admin of " + account)
				}
				*r = *r.WithContext(invitations.WithActor(r.Context(), "grace@acme.test"))
				return nil
			}
			return errors.New("unknown user")
		},
		InvitedBy: func(*http.Request) string { return "Grace Hopper" },
	})
	w.invitee, err = invitationshttp.NewInvitee(w.svc, invitationshttp.InviteeConfig{SignInURL: "https://app.example.com/login"})
	require.NoError(t, err)
	return w
}

// newAdmin is the admin API of svc as every test sends requests to it:
// recorded, when the environment asks, for invitationshttp/apitest to
// check each request and answer against the OpenAPI description.
func newAdmin(t testing.TB, svc *invitations.Service, cfg invitationshttp.AdminConfig) http.Handler {
	t.Helper()
	h, err := invitationshttp.NewAdmin(svc, cfg)
	require.NoError(t, err)
	return exchanges.Record(t, h)
}

// TestAdminTestsRecordTheirHandlers: every admin handler a test of this
// package builds and keeps is recorded (newAdmin, or exchanges.Record
// in the same function), so that invitationshttp/apitest checks every
// request the tests send; a test building its own would go unchecked.
func TestAdminTestsRecordTheirHandlers(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Name.Name == "newAdmin" {
				continue
			}
			records := false
			var built []ast.Node // NewAdmin calls whose handler is kept
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Record" {
						pkg, ok := sel.X.(*ast.Ident)
						records = records || ok && pkg.Name == "exchanges"
					}
				case *ast.AssignStmt:
					if len(n.Rhs) == 1 && isNewAdmin(n.Rhs[0]) {
						if id, ok := n.Lhs[0].(*ast.Ident); !ok || id.Name != "_" {
							built = append(built, n)
						}
					}
				}
				return true
			})
			for _, n := range built {
				assert.True(t, records, "%s: %s builds an admin handler without newAdmin", fset.Position(n.Pos()), fn.Name.Name)
			}
		}
	}
}

func isNewAdmin(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		return fun.Name == "NewAdmin"
	case *ast.SelectorExpr:
		return fun.Sel.Name == "NewAdmin"
	}
	return false
}

// call sends a request to the admin API as Grace and decodes the JSON answer.
func (w *world) call(method, path string, body any) (*httptest.ResponseRecorder, map[string]any) {
	w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(w.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer grace")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	assert.Equal(w.t, "no-store", rec.Header().Get("Cache-Control"), "every answer of the API, as the description says")
	var out map[string]any
	if strings.Contains(rec.Header().Get("Content-Type"), "json") && rec.Body.Len() > 0 {
		require.NoError(w.t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	}
	return rec, out
}

func (w *world) invite(email string) map[string]any {
	w.t.Helper()
	rec, out := w.call("POST", "/accounts/acme/invitations", map[string]any{"email": email, "roles": []string{"admin"}})
	require.Equal(w.t, http.StatusCreated, rec.Code, rec.Body.String())
	return out
}

// requireProblem checks an RFC 9457 answer with its stable code.
func requireProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, code, p["code"])
	assert.Equal(t, float64(status), p["status"])
	assert.Equal(t, invitationshttp.ProblemTypePrefix+code, p["type"])
	assert.NotEmpty(t, p["title"])
	assert.NotEmpty(t, p["detail"])
	return p
}

func TestNewAdminRequiresAuthorize(t *testing.T) {
	w := newWorld(t)
	_, err := invitationshttp.NewAdmin(w.svc, invitationshttp.AdminConfig{})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
	_, err = invitationshttp.NewAdmin(nil, invitationshttp.AdminConfig{Authorize: func(*http.Request, string) error { return nil }})
	require.ErrorIs(t, err, invitations.ErrInvalidInput)
}

func TestAdminStory(t *testing.T) {
	w := newWorld(t)
	created := w.invite("Ada@Example.com")
	assert.Equal(t, "ada@example.com", created["email"])
	assert.Equal(t, "pending", created["status"])
	assert.Equal(t, []any{"resend", "copy_link", "update_roles", "revoke"}, created["actions"])
	assert.Equal(t, "Grace Hopper", created["invited_by"], "the inviter comes from the request, not the body")
	assert.NotContains(t, w.mailer.Last().Text, "grace@acme.test", "the actor is not mailed")
	id := created["id"].(string)
	base := "/accounts/acme/invitations/" + id

	rec, got := w.call("GET", base, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, id, got["id"])
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	assert.NotContains(t, got, "link_copied_at", "the link only went by mail")
	before := w.get(id)
	rec = first(w.call("GET", base+"/link", nil))
	requireProblem(t, rec, http.StatusMethodNotAllowed, "method_not_allowed")
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	assert.Equal(t, before, w.get(id), "a GET never copies")

	w.clock.Advance(time.Minute)
	rec, link := w.call("POST", base+"/link", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, w.mailer.Last().Link, link["link"])
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	_, got = w.call("GET", base, nil)
	assert.Equal(t, w.clock.Now().Format(time.RFC3339), got["link_copied_at"], "the copy is recorded")
	assert.Equal(t, float64(before.Version+1), got["version"])

	w.clock.Advance(48 * time.Hour)
	rec, resent := w.call("POST", base+"/resend", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(2), resent["send_count"])

	rec, updated := w.call("PUT", base+"/roles", map[string]any{"roles": []string{"viewer", "billing"}})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, []any{"viewer", "billing"}, updated["roles"])

	w.clock.Advance(8 * 24 * time.Hour)
	rec, got = w.call("GET", base, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "expired", got["status"], "status at the Service's clock")
	assert.Equal(t, []any{"regenerate", "update_roles", "revoke"}, got["actions"])
	requireProblem(t, first(w.call("POST", base+"/resend", nil)), http.StatusConflict, "invitation_expired")
	requireProblem(t, first(w.call("POST", base+"/link", nil)), http.StatusConflict, "invitation_expired")

	rec, regenerated := w.call("POST", base+"/regenerate", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "pending", regenerated["status"])
	assert.NotContains(t, regenerated, "link_copied_at", "the new link was never copied")
	requireProblem(t, first(w.call("POST", base+"/regenerate", nil)), http.StatusConflict, "not_expired")

	rec, revoked := w.call("DELETE", base, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "revoked", revoked["status"])
	assert.Equal(t, []any{}, revoked["actions"], "an empty menu is [], not null")
	requireProblem(t, first(w.call("DELETE", base, nil)), http.StatusConflict, "not_pending")

	var kinds []invitations.EventKind
	for _, e := range w.events.Load().([]invitations.Event) {
		kinds = append(kinds, e.Kind)
		assert.Equal(t, "grace@acme.test", e.Actor, "Authorize named the actor for %s", e.Kind)
	}
	assert.Contains(t, kinds, invitations.EventLinkCopied)
}

// get reads an invitation of acme from the Service.
func (w *world) get(id string) *invitations.Invitation {
	w.t.Helper()
	inv, err := w.svc.Get(context.Background(), "acme", uuid.MustParse(id))
	require.NoError(w.t, err)
	return inv
}

func first(rec *httptest.ResponseRecorder, _ map[string]any) *httptest.ResponseRecorder { return rec }

func TestAdminListCountsAndSearch(t *testing.T) {
	w := newWorld(t)
	for _, email := range []string{"ada@example.com", "adam@example.com", "bob@example.com"} {
		w.invite(email)
		w.clock.Advance(time.Second)
	}
	rec, page := w.call("GET", "/accounts/acme/invitations?limit=2", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, page["invitations"], 2)
	next := page["next"].(string)
	require.NotEmpty(t, next)
	rec, page = w.call("GET", "/accounts/acme/invitations?limit=2&after="+next, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, page["invitations"], 1)
	assert.Equal(t, "", page["next"], "next is present and empty on the last page")
	assert.Equal(t, "ada@example.com", page["invitations"].([]any)[0].(map[string]any)["email"])

	rec, page = w.call("GET", "/accounts/acme/invitations?search=AD&status=pending", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Len(t, page["invitations"], 2)
	rec, page = w.call("GET", "/accounts/acme/invitations?search=zz", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, []any{}, page["invitations"])

	w.clock.Advance(8 * 24 * time.Hour)
	w.invite("cy@example.com")
	rec, counts := w.call("GET", "/accounts/acme/invitations/counts", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, map[string]any{"pending": 1.0, "expired": 3.0, "accepted": 0.0, "declined": 0.0, "revoked": 0.0}, counts)

	for _, q := range []string{"status=bogus", "status=", "limit=x", "limit=", "limit=-1", "limit=501", "limit=600", "after=not-a-cursor", "search=%00"} {
		p := requireProblem(t, first(w.call("GET", "/accounts/acme/invitations?"+q, nil)), http.StatusUnprocessableEntity, "invalid_input")
		assert.NotEmpty(t, p["field"], q)
	}
	p := requireProblem(t, first(w.call("GET", "/accounts/acme/invitations?limit=501", nil)), http.StatusUnprocessableEntity, "invalid_input")
	assert.Equal(t, "limit", p["field"], "above the documented maximum: refused, not capped")
	for _, q := range []string{"limit=0", "limit=500", "search=&after="} {
		rec, page := w.call("GET", "/accounts/acme/invitations?"+q, nil)
		require.Equal(t, http.StatusOK, rec.Code, q)
		assert.Len(t, page["invitations"], 4, "%s: 0 and absent mean the default page size", q)
	}
}

// TestAdminErrors produces every problem code of the API.
func TestAdminErrors(t *testing.T) {
	w := newWorld(t, func(c *invitations.Config) {
		c.IsMember = func(_ context.Context, _, email string) (bool, error) { return email == "member@example.com", nil }
	})
	inv := w.invite("ada@example.com")
	id := inv["id"].(string)
	list := "/accounts/acme/invitations"

	requireProblem(t, first(w.call("POST", list, `{"email": "x@example.com", "roles": ["a"], "bogus": 1}`)), 400, "bad_request")
	requireProblem(t, first(w.call("POST", list, `{"email": `)), 400, "bad_request")
	requireProblem(t, first(w.call("POST", list, `{"email": "x@example.com", "roles": ["a"]} {}`)), 400, "bad_request")
	requireProblem(t, first(w.call("POST", list, `["not", "an", "object"]`)), 400, "bad_request")
	p := requireProblem(t, first(w.call("POST", list, map[string]any{"email": "<script>@evil", "roles": []string{"a"}})), 422, "invalid_input")
	assert.Equal(t, "email", p["field"])
	assert.NotContains(t, p["detail"], "script", "the rejected value is never echoed")
	p = requireProblem(t, first(w.call("POST", list, map[string]any{"email": "ada@example.com", "roles": []string{"a"}})), 409, "already_invited")
	assert.Equal(t, id, p["existing_id"])
	requireProblem(t, first(w.call("POST", list, map[string]any{"email": "member@example.com", "roles": []string{"a"}})), 409, "already_member")
	requireProblem(t, first(w.call("POST", list, `{"email": "`+strings.Repeat("a", invitationshttp.DefaultMaxBodyBytes)+`"}`)), 413, "too_large")
	requireProblem(t, first(w.call("PUT", list+"/"+id+"/roles", map[string]any{"roles": []string{}})), 422, "invalid_input")

	requireProblem(t, first(w.call("GET", list+"/"+uuid.NewString(), nil)), 404, "not_found")
	requireProblem(t, first(w.call("GET", list+"/not-a-uuid", nil)), 404, "not_found")
	requireProblem(t, first(w.call("GET", list+"/{"+id+"}", nil)), 404, "not_found")
	requireProblem(t, first(w.call("GET", "/nowhere", nil)), 404, "not_found")

	// Another account's invitation is not found, not forbidden, for its own admin.
	other, err := w.svc.Invite(context.Background(), invitations.InviteInput{AccountID: "globex", Email: "x@example.com", Roles: []string{"a"}})
	require.NoError(t, err)
	requireProblem(t, first(w.call("GET", list+"/"+other.ID.String(), nil)), 404, "not_found")
	requireProblem(t, first(w.call("GET", "/accounts/globex/invitations/"+other.ID.String(), nil)), 403, "forbidden")

	req := httptest.NewRequest("GET", list, nil)
	rec := httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	requireProblem(t, rec, 401, "unauthenticated")

	// A link whose secret was dropped: resend and copy are link_retired.
	cfg := invitations.Config{Secret: []byte("a completely different secret, 32 bytes+"), AcceptURL: acceptURL, Now: w.clock.Now}
	rotated, err := invitations.New(w.store, w.mailer, cfg)
	require.NoError(t, err)
	api := newAdmin(t, rotated, invitationshttp.AdminConfig{Authorize: func(*http.Request, string) error { return nil }})
	for _, path := range []string{list + "/" + id + "/resend", list + "/" + id + "/link"} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
		requireProblem(t, rec, 409, "link_retired")
	}
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", list+"/"+id, nil))
	require.Equal(t, 200, rec.Code)
	assert.Contains(t, rec.Body.String(), `"actions":["regenerate","update_roles","revoke"]`)

	// Conflict: a store that always loses the compare-and-set.
	losing, err := invitations.New(conflicting{w.store}, w.mailer, invitations.Config{Secret: secret, AcceptURL: acceptURL, Now: w.clock.Now})
	require.NoError(t, err)
	api = newAdmin(t, losing, invitationshttp.AdminConfig{Authorize: func(*http.Request, string) error { return nil }})
	for _, req := range []*http.Request{httptest.NewRequest("DELETE", list+"/"+id, nil), httptest.NewRequest("POST", list+"/"+id+"/link", nil)} {
		rec = httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		requireProblem(t, rec, 409, "conflict")
	}

	// A broken store is a 500 that says nothing of the cause.
	broken, err := invitations.New(failing{w.store}, w.mailer, invitations.Config{Secret: secret, AcceptURL: acceptURL})
	require.NoError(t, err)
	api = newAdmin(t, broken, invitationshttp.AdminConfig{Authorize: func(*http.Request, string) error { return nil }})
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", list+"/"+id, nil))
	requireProblem(t, rec, 500, "internal")
	assert.NotContains(t, rec.Body.String(), "password authentication failed")
}

type conflicting struct{ invitations.Store }

func (conflicting) Update(context.Context, *invitations.Invitation, int64, *invitations.Event) error {
	return invitations.ErrConflict
}

type failing struct{ invitations.Store }

func (failing) Get(context.Context, string, uuid.UUID) (*invitations.Invitation, error) {
	return nil, errors.New("pq: password authentication failed for user app")
}

// TestAdminAuthorizesBeforeReadingTheBody: a refused request's body is
// never read, whatever it holds.
func TestAdminAuthorizesBeforeReadingTheBody(t *testing.T) {
	w := newWorld(t)
	body := &countingReader{r: strings.NewReader(`{"email": "ada@example.com", "roles": ["admin"]}`)}
	req := httptest.NewRequest("POST", "/accounts/globex/invitations", body)
	req.Header.Set("Authorization", "Bearer grace")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	requireProblem(t, rec, 403, "forbidden")
	assert.Zero(t, body.n.Load(), "the body was not read")
	assert.Zero(t, w.store.Len())
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestAdminWrongMethodIs405: every path of the description, asked with
// a method no route serves there, is 405 with an Allow header naming the
// methods that are (as the description lists them, HEAD with GET), before
// authorization; a method another route serves at that path goes there,
// and an unknown path is 404.
func TestAdminWrongMethodIs405(t *testing.T) {
	w := newWorld(t)
	rec := httptest.NewRecorder()
	w.admin.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
	concrete := strings.NewReplacer("{account}", "acme", "{id}", uuid.NewString())
	served := map[string]map[string]bool{} // concrete path: the methods of every template that matches it
	for template := range doc.Paths {
		path := concrete.Replace(template)
		for other, otherOps := range doc.Paths {
			if matches(other, path) {
				if served[path] == nil {
					served[path] = map[string]bool{}
				}
				for m := range otherOps {
					served[path][strings.ToUpper(m)] = true
					if m == "get" {
						served[path]["HEAD"] = true
					}
				}
			}
		}
	}
	require.Len(t, served, len(doc.Paths))
	authz := w.authz.Load()
	checked := 0
	for path, methods := range served {
		allow := slices.Sorted(maps.Keys(methods))
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if methods[m] {
				continue
			}
			rec, _ := w.call(m, path, nil)
			requireProblem(t, rec, http.StatusMethodNotAllowed, "method_not_allowed")
			assert.Equal(t, strings.Join(allow, ", "), rec.Header().Get("Allow"), "%s %s", m, path)
			checked++
		}
	}
	assert.Greater(t, checked, 50)
	assert.Equal(t, authz, w.authz.Load(), "a 405 needs no authorization")

	id := uuid.NewString()
	rec, _ = w.call("PATCH", "/accounts/acme/invitations/"+id, nil)
	assert.Equal(t, "DELETE, GET, HEAD", rec.Header().Get("Allow"))
	rec, _ = w.call("GET", "/accounts/acme/invitations/"+id+"/link", nil)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	for _, path := range []string{"/nowhere", "/accounts/acme", "/accounts/acme/invitations/" + id + "/nothing", "/accounts/acme/invitations/"} {
		for _, m := range []string{"GET", "PATCH"} {
			rec, _ := w.call(m, path, nil)
			requireProblem(t, rec, http.StatusNotFound, "not_found")
			assert.Empty(t, rec.Header().Get("Allow"))
		}
	}
}

// matches reports whether path fits the description's path template,
// each {name} standing for one non-empty segment.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if ts[i] != ps[i] && !(strings.HasPrefix(ts[i], "{") && ps[i] != "") {
			return false
		}
	}
	return true
}

// TestAdminReadsOnlyJSONBodies: a body is read only when its
// Content-Type says application/json (a charset, if any, UTF-8); any
// other, or none, is 415 and nothing is stored.
func TestAdminReadsOnlyJSONBodies(t *testing.T) {
	w := newWorld(t)
	id := w.invite("held@example.com")["id"].(string)
	bodies := []struct{ method, path, body string }{
		{"POST", "/accounts/acme/invitations", `{"email":"ada@example.com","roles":["a"]}`},
		{"POST", "/accounts/acme/invitations/bulk", `{"invitations":[{"email":"ada@example.com","roles":["a"]}]}`},
		{"PUT", "/accounts/acme/invitations/" + id + "/roles", `{"roles":["viewer"]}`},
	}
	send := func(method, path, body, contentType string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer grace")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		w.admin.ServeHTTP(rec, req)
		return rec
	}
	for _, b := range bodies {
		for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x", "application/jsonp", "text/json", "application/json; charset=iso-8859-1", "application/json;;"} {
			requireProblem(t, send(b.method, b.path, b.body, ct), http.StatusUnsupportedMediaType, "unsupported_media_type")
		}
	}
	assert.Equal(t, 1, w.store.Len(), "nothing stored")
	assert.Equal(t, []string{"admin"}, w.get(id).Roles, "nothing changed")

	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"} {
		body := fmt.Sprintf(`{"email":"u%d@example.com","roles":["a"]}`, i)
		assert.Equal(t, http.StatusCreated, send("POST", "/accounts/acme/invitations", body, ct).Code, ct)
	}
	// A route that reads no body does not look at its Content-Type.
	assert.Equal(t, http.StatusOK, send("POST", "/accounts/acme/invitations/"+id+"/link", "", "text/plain").Code)
}

// TestAdminDeliveryFailureIsStillCreated: the invitation was stored; the
// failed mail shows in its delivery state.
func TestAdminDeliveryFailureIsStillCreated(t *testing.T) {
	w := newWorld(t)
	w.mailer.FailNext(1, errors.New("smtp: 421 try later"))
	rec, out := w.call("POST", "/accounts/acme/invitations", map[string]any{"email": "ada@example.com", "roles": []string{"admin"}})
	require.Equal(t, http.StatusCreated, rec.Code)
	delivery := out["delivery"].(map[string]any)
	assert.Equal(t, "invite", delivery["due"])
	assert.Contains(t, delivery["last_error"], "421")
}

// TestAdminRefusesCrossOriginWrites: a browser's cross-site POST is 403
// and changes nothing; reads are allowed.
func TestAdminRefusesCrossOriginWrites(t *testing.T) {
	w := newWorld(t)
	req := httptest.NewRequest("POST", "/accounts/acme/invitations", strings.NewReader(`{"email":"ada@example.com","roles":["a"]}`))
	req.Header.Set("Authorization", "Bearer grace")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	requireProblem(t, rec, 403, "forbidden")
	assert.Zero(t, w.store.Len())
	assert.Zero(t, w.authz.Load(), "refused before anything else")

	// Copying a link is a write too: another site cannot make it.
	id := w.invite("ada@example.com")["id"].(string)
	req = httptest.NewRequest("POST", "/accounts/acme/invitations/"+id+"/link", nil)
	req.Header.Set("Authorization", "Bearer grace")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	requireProblem(t, rec, 403, "forbidden")
	assert.NotContains(t, rec.Body.String(), "token=")
	assert.True(t, w.get(id).LinkCopiedAt.IsZero(), "nothing recorded")

	req = httptest.NewRequest("GET", "/accounts/acme/invitations", nil)
	req.Header.Set("Authorization", "Bearer grace")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	w.admin.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code)
}

func TestAdminJSONNeverCarriesTokenMaterial(t *testing.T) {
	w := newWorld(t)
	w.invite("ada@example.com")
	rec, _ := w.call("GET", "/accounts/acme/invitations", nil)
	body := rec.Body.String()
	token, err := invitationstest.TokenFromLink(w.mailer.Last().Link)
	require.NoError(t, err)
	assert.NotContains(t, body, token)
	for _, field := range []string{"nonce", "hash", "token", "key_id"} {
		assert.NotContains(t, strings.ToLower(body), `"`+field+`"`)
	}
}

// FuzzAdminBodies: whatever the body, the API answers with a status it
// documents, never a 500.
func FuzzAdminBodies(f *testing.F) {
	for _, seed := range []string{`{"email":"ada@example.com","roles":["a"]}`, `{}`, `[]`, `null`, `{"roles":null}`,
		`{"email":1}`, `{"metadata":{"time_zone":"Mars/Base"},"email":"a@b.co","roles":["x"]}`, "\x00", `{"roles":["` + strings.Repeat("x", 200) + `"]}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		w := newWorld(t)
		for _, path := range []string{"/accounts/acme/invitations", "/accounts/acme/invitations/" + uuid.NewString() + "/roles"} {
			method := "POST"
			if strings.HasSuffix(path, "/roles") {
				method = "PUT"
			}
			rec, _ := w.call(method, path, body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", method, path, body, rec.Code, rec.Body.String())
			}
		}
	})
}

// TestAdminUncleanPathIsNotFound: a path written with "//", "." or ".."
// is 404 like any path no route serves, not ServeMux's HTML redirect to
// a Location without the mount prefix.
func TestAdminUncleanPathIsNotFound(t *testing.T) {
	w := newWorld(t)
	for _, target := range []string{"http://app.test//accounts/acme/invitations", "http://app.test/accounts/acme/./invitations",
		"http://app.test/accounts/globex/../acme/invitations", "http://app.test/openapi.json/."} {
		rec := httptest.NewRecorder()
		w.admin.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		requireProblem(t, rec, http.StatusNotFound, "not_found")
		assert.Empty(t, rec.Header().Get("Location"), target)
	}
}
