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
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, string(openAPI), rec.Body.String())
	assert.False(t, called)
}
