package invitationshttp

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp/internal/exchanges"
	"github.com/invitekit/invitations/memstore"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	Responses map[string]struct {
		Description string `json:"description"`
	} `json:"responses"`
}

// TestOpenAPIMatchesHandler: every operation of the description is a route
// of the handler and the other way round; every problem code the handler
// can write is in the description's enum, and each is described under
// its status somewhere.
func TestOpenAPIMatchesHandler(t *testing.T) {
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)

	var described, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range routes {
		served = append(served, rt.method+" "+rt.path)
	}
	served = append(served, "GET /openapi.json")
	assert.ElementsMatch(t, served, described)

	var codes []string
	for _, k := range problemKinds {
		codes = append(codes, k.code)
	}
	assert.ElementsMatch(t, codes, doc.Components.Schemas["Problem"].Properties["code"].Enum)
	for _, m := range serviceErrors {
		assert.True(t, slices.Contains(problemKinds, m.kind), "%s is listed", m.kind.code)
	}

	// Each code is named in the description of a response with its status;
	// method_not_allowed, which answers no operation, in the API's own.
	word := regexp.MustCompile(`[a-z_]+`)
	for _, k := range problemKinds {
		if k == problemMethodNotAllowed {
			assert.Contains(t, word.FindAllString(doc.Info.Description, -1), k.code)
			assert.Contains(t, doc.Info.Description, "405 "+k.code)
			continue
		}
		found := false
		for _, ops := range doc.Paths {
			for _, op := range ops {
				r, ok := op.Responses[strconv.Itoa(k.status)]
				if ok && slices.Contains(word.FindAllString(r.Description, -1), k.code) {
					found = true
				}
			}
		}
		assert.True(t, found, "%s is described under %d", k.code, k.status)
	}
}

// TestOpenAPIDescribesEveryField: each schema of an answer names exactly
// the JSON fields of the Go type the API encodes for it, so that a field
// can neither go undescribed nor be described and never sent.
func TestOpenAPIDescribesEveryField(t *testing.T) {
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	for schema, typ := range map[string]reflect.Type{
		"Invitation":       reflect.TypeFor[invitationJSON](),
		"InvitationRecord": reflect.TypeFor[invitations.Invitation](),
		"Delivery":         reflect.TypeFor[invitations.Delivery](),
		"Event":            reflect.TypeFor[invitations.Event](),
		"EventPage":        reflect.TypeFor[invitations.EventPage](),
		"ListPage":         reflect.TypeFor[listJSON](),
		"BulkResult":       reflect.TypeFor[bulkResult](),
		"Problem":          reflect.TypeFor[Problem](),
	} {
		described := slices.Collect(maps.Keys(doc.Components.Schemas[schema].Properties))
		assert.ElementsMatch(t, jsonFields(typ), described, "the %s schema and %s", schema, typ)
	}
	statuses := slices.Collect(maps.Keys(doc.Components.Schemas["Counts"].Properties))
	assert.ElementsMatch(t, []string{"pending", "expired", "accepted", "declined", "revoked"}, statuses)

	kinds := []string{string(invitations.MessageInvite), string(invitations.MessageResend), string(invitations.MessageRegenerate), string(invitations.MessageReminder)}
	assert.Equal(t, kinds, doc.Components.Schemas["Delivery"].Properties["due"].Enum)
	assert.Equal(t, kinds, doc.Components.Schemas["Event"].Properties["message"].Enum)
}

// jsonFields lists the names encoding/json gives typ's fields, those of
// embedded structs included.
func jsonFields(typ reflect.Type) []string {
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var names []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "":
			names = append(names, jsonFields(f.Type)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
}

func TestOpenAPIServedWithoutAuthorize(t *testing.T) {
	svc, err := invitations.New(memstore.New(), invitations.MailerFunc(nil), invitations.Config{
		Secret: []byte("openapi test secret of 32 bytes or more"), AcceptURL: "https://app.example.com/accept",
	})
	require.NoError(t, err)
	called := false
	h, err := NewAdmin(svc, AdminConfig{Authorize: func(*http.Request, string) error { called = true; return ErrUnauthenticated }})
	require.NoError(t, err)
	h = exchanges.Record(t, h)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, string(openAPI), rec.Body.String())
	assert.False(t, called)
}

// TestOpenAPIServersAndSecurity: the served description tells a generated
// client where the API is mounted and how to authenticate, as the
// AdminConfig says, and is otherwise the embedded file.
func TestOpenAPIServersAndSecurity(t *testing.T) {
	svc, err := invitations.New(memstore.New(), invitations.MailerFunc(nil), invitations.Config{
		Secret: []byte("openapi test secret of 32 bytes or more"), AcceptURL: "https://app.example.com/accept",
	})
	require.NoError(t, err)
	allow := func(*http.Request, string) error { return nil }
	served := func(cfg AdminConfig, mount, path string) map[string]any {
		t.Helper()
		cfg.Authorize = allow
		h, err := NewAdmin(svc, cfg)
		require.NoError(t, err)
		h = exchanges.Record(t, h)
		if mount != "" {
			h = http.StripPrefix(mount, h)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		return doc
	}
	serverURL := func(doc map[string]any) any { return doc["servers"].([]any)[0].(map[string]any)["url"] }
	scheme := func(doc map[string]any) any {
		return doc["components"].(map[string]any)["securitySchemes"].(map[string]any)["admin"]
	}

	doc := served(AdminConfig{}, "", "/openapi.json")
	assert.Equal(t, "/", serverURL(doc))
	assert.Equal(t, map[string]any{"type": "http", "scheme": "bearer"}, scheme(doc), "the zero Auth is a bearer token")
	assert.Equal(t, []any{map[string]any{"admin": []any{}}}, doc["security"], "every operation needs it...")
	assert.Equal(t, []any{}, doc["paths"].(map[string]any)["/openapi.json"].(map[string]any)["get"].(map[string]any)["security"], "...but the description")

	assert.Equal(t, "/api", serverURL(served(AdminConfig{}, "/api", "/api/openapi.json")), "the prefix http.StripPrefix removed")
	assert.Equal(t, "/a%20b/api", serverURL(served(AdminConfig{}, "/a b/api", "/a%20b/api/openapi.json")))
	assert.Equal(t, "https://app.example.com/api", serverURL(served(AdminConfig{ServerURL: "https://app.example.com/api"}, "/v1", "/v1/openapi.json")))
	assert.Equal(t, "/admin-api", serverURL(served(AdminConfig{ServerURL: "/admin-api"}, "", "/openapi.json")))

	doc = served(AdminConfig{Auth: Auth{Scheme: AuthCookie, Name: "session", Description: "sign in first"}}, "", "/openapi.json")
	assert.Equal(t, map[string]any{"type": "apiKey", "in": "cookie", "name": "session", "description": "sign in first"}, scheme(doc))
	doc = served(AdminConfig{Auth: Auth{Scheme: AuthHeader, Name: "X-API-Key"}}, "", "/openapi.json")
	assert.Equal(t, map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key"}, scheme(doc))
	assert.Equal(t, map[string]any{"type": "http", "scheme": "bearer", "description": "a token"}, scheme(served(AdminConfig{Auth: Auth{Scheme: AuthBearer, Description: "a token"}}, "", "/openapi.json")))

	// Apart from the servers and the scheme, the file as it is.
	var file map[string]any
	require.NoError(t, json.Unmarshal(openAPI, &file))
	delete(file, "servers")
	delete(file["components"].(map[string]any), "securitySchemes")
	delete(doc, "servers")
	delete(doc["components"].(map[string]any), "securitySchemes")
	assert.Equal(t, file, doc)

	for _, cfg := range []AdminConfig{
		{Auth: Auth{Scheme: AuthCookie}}, {Auth: Auth{Scheme: AuthHeader}}, {Auth: Auth{Scheme: "basic"}},
		{ServerURL: "/api?x=1"}, {ServerURL: "/api#top"}, {ServerURL: "//app.example.com/api"}, {ServerURL: "app.example.com:443/api"}, {ServerURL: "%zz"},
		// Published without authentication: no credentials; a path from
		// the root, without spaces.
		{ServerURL: "https://user:secret@app.example.com/api"}, {ServerURL: "api"}, {ServerURL: "../x"}, {ServerURL: "/a b"},
		{Auth: Auth{Scheme: AuthHeader, Name: "X-Key\r\nSet-Cookie: a=b"}}, {Auth: Auth{Scheme: AuthCookie, Name: "my session"}},
	} {
		cfg.Authorize = allow
		_, err := NewAdmin(svc, cfg)
		assert.ErrorIs(t, err, invitations.ErrInvalidInput, "%+v", cfg)
	}
}
