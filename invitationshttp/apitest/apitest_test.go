package apitest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"

	"github.com/invitekit/invitations"
	"github.com/invitekit/invitations/invitationshttp"
	"github.com/invitekit/invitations/invitationshttp/internal/exchanges"
	"github.com/invitekit/invitations/memstore"
)

// served is /openapi.json as an admin handler with cfg serves it.
func served(t *testing.T, cfg invitationshttp.AdminConfig, target string) []byte {
	t.Helper()
	svc, err := invitations.New(memstore.New(), invitations.MailerFunc(nil), invitations.Config{
		Secret: []byte("apitest secret, 32 bytes or more......"), AcceptURL: "https://app.example.com/accept",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Authorize = func(*http.Request, string) error { return nil }
	h, err := invitationshttp.NewAdmin(svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if prefix, ok := strings.CutSuffix(target, "/openapi.json"); ok && prefix != "" {
		h = http.StripPrefix(prefix, h)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", target, rec.Code)
	}
	return rec.Body.Bytes()
}

func newValidator(t *testing.T, spec []byte) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc,
		config.WithFormatAssertions(),
		// Authorize decides who may call; the scheme only tells clients
		// what to send. Tests whose Authorize allows anyone send nothing.
		config.WithoutSecurityValidation(),
	)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return v
}

// TestDescriptionIsValidOpenAPI: what the handler serves is a valid
// OpenAPI 3.1 document, with the default settings and with a host's.
func TestDescriptionIsValidOpenAPI(t *testing.T) {
	for _, c := range []struct {
		cfg    invitationshttp.AdminConfig
		target string
	}{
		{invitationshttp.AdminConfig{}, "/openapi.json"},
		{invitationshttp.AdminConfig{}, "/api/openapi.json"},
		{invitationshttp.AdminConfig{ServerURL: "https://app.example.com/api", Auth: invitationshttp.Auth{Scheme: invitationshttp.AuthCookie, Name: "session", Description: "the app's session"}}, "/openapi.json"},
		{invitationshttp.AdminConfig{Auth: invitationshttp.Auth{Scheme: invitationshttp.AuthHeader, Name: "X-API-Key"}}, "/openapi.json"},
	} {
		ok, errs := newValidator(t, served(t, c.cfg, c.target)).ValidateDocument()
		if !ok {
			for _, e := range errs {
				t.Errorf("%+v at %s: %s", c.cfg, c.target, describe(e))
			}
		}
	}
}

// TestAdminTestsAgreeWithDescription runs the invitationshttp tests,
// recording every request they send to an admin handler and its answer,
// and validates each pair against the description: every answer must be
// one it documents for the operation, with the body and headers it
// describes; a request it describes as invalid must have been refused
// (4xx), and one it describes as valid must not have been refused as
// malformed (400, 415). A request to a path or method it does not list
// must have been 404, or 405 with the methods it lists in Allow.
func TestAdminTestsAgreeWithDescription(t *testing.T) {
	dir := t.TempDir()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command runs the recorded tests: %v", err)
	}
	// -count=1: a cached result would run nothing, and record nothing.
	cmd := exec.Command(goTool, "test", "-count=1", "github.com/invitekit/invitations/invitationshttp")
	cmd.Env = append(os.Environ(), exchanges.Dir+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		// What they recorded is still checked below.
		t.Errorf("the invitationshttp tests failed: %v\n%s", err, out)
	}
	recorded, err := exchanges.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) == 0 {
		t.Fatal("the invitationshttp tests recorded no exchange")
	}

	spec := served(t, invitationshttp.AdminConfig{}, "/openapi.json")
	v := newValidator(t, spec)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}

	answered := map[string]bool{} // "METHOD /template" answered 2xx at least once
	for _, e := range recorded {
		route := e.Test + ": " + e.Method + " " + e.Target + " → " + fmt.Sprint(e.Status)
		req := httptest.NewRequest(e.Method, e.Target, bytes.NewReader(e.RequestBody))
		req.Header = e.RequestHeader.Clone()
		resp := &http.Response{StatusCode: e.Status, Header: e.ResponseHeader.Clone(), Body: io.NopCloser(bytes.NewReader(e.ResponseBody)), Request: req}

		templates, methods := matching(doc.Paths, req.URL.Path)
		if !methods[e.Method] {
			checkUnrouted(t, route, e, templates, methods)
			continue
		}
		// A body the handler did not read to its end was refused before
		// or while reading (401, 403, 413, 415): what the validator sees
		// of it is what the handler saw.
		reqOK, reqErrs := v.ValidateHttpRequestSync(req)
		req = httptest.NewRequest(e.Method, e.Target, bytes.NewReader(e.RequestBody))
		req.Header = e.RequestHeader.Clone()
		respOK, respErrs := v.ValidateHttpResponse(req, resp)
		if !respOK {
			for _, err := range respErrs {
				t.Errorf("%s: the answer is not as described: %s", route, describe(err))
			}
		}
		switch {
		case !reqOK && (e.Status < 400 || e.Status >= 500):
			for _, err := range reqErrs {
				t.Errorf("%s: the description refuses this request, the API did not: %s", route, describe(err))
			}
		case reqOK && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnsupportedMediaType):
			t.Errorf("%s: the description accepts this request, the API refused it as malformed: %s", route, e.ResponseBody)
		case reqOK && e.Status < 300:
			for _, tmpl := range templates {
				answered[e.Method+" "+tmpl] = true
			}
		}
	}

	// Every operation of the description was answered with success by a
	// test, so that none goes unchecked.
	for path, ops := range doc.Paths {
		for m := range ops {
			op := strings.ToUpper(m) + " " + path
			if !answered[op] {
				t.Errorf("no test was answered 2xx by %s: add one, so that its answers are checked", op)
			}
		}
	}
	t.Logf("%d exchanges of %d operations checked", len(recorded), len(answered))
}

// matching returns the description's path templates that path fits, and
// the methods they list (HEAD wherever GET is), as ServeMux routes them.
func matching(paths map[string]map[string]json.RawMessage, path string) ([]string, map[string]bool) {
	var templates []string
	methods := map[string]bool{}
	for tmpl, ops := range paths {
		ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
		if len(ts) != len(ps) {
			continue
		}
		fits := true
		for i := range ts {
			if ts[i] != ps[i] && !(strings.HasPrefix(ts[i], "{") && ps[i] != "") {
				fits = false
			}
		}
		if !fits {
			continue
		}
		templates = append(templates, tmpl)
		for m := range ops {
			methods[strings.ToUpper(m)] = true
			if m == "get" {
				methods["HEAD"] = true
			}
		}
	}
	return templates, methods
}

// checkUnrouted checks the answer to a request the description has no
// operation for: 405 with Allow listing the methods of its path, or 404
// when it has none, as a problem either way.
func checkUnrouted(t *testing.T, route string, e exchanges.Exchange, templates []string, methods map[string]bool) {
	t.Helper()
	want, code := http.StatusNotFound, "not_found"
	if len(templates) > 0 {
		want, code = http.StatusMethodNotAllowed, "method_not_allowed"
		allow := strings.Join(slices.Sorted(maps.Keys(methods)), ", ")
		if got := e.ResponseHeader.Get("Allow"); got != allow {
			t.Errorf("%s: Allow is %q; the description lists %q", route, got, allow)
		}
	}
	if e.Status != want {
		t.Errorf("%s: the description has no such operation, so %d is due", route, want)
	}
	var p struct {
		Code string `json:"code"`
	}
	if e.ResponseHeader.Get("Content-Type") != "application/problem+json" || json.Unmarshal(e.ResponseBody, &p) != nil || p.Code != code {
		t.Errorf("%s: want a %s problem, got %s %s", route, code, e.ResponseHeader.Get("Content-Type"), e.ResponseBody)
	}
	if e.ResponseHeader.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control is %q", route, e.ResponseHeader.Get("Cache-Control"))
	}
}

// describe is a validation error in one line, with its schema failures.
func describe(e *errors.ValidationError) string {
	s := e.Message
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	for _, f := range e.SchemaValidationErrors {
		s += fmt.Sprintf(" [%s at %s]", f.Reason, f.FieldPath)
	}
	return s
}
