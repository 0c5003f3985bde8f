package invitationshttp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/invitekit/invitations"
)

// openAPI describes exactly the admin API: TestOpenAPIMatchesHandler keeps
// its paths and problem codes in step with the route and error tables.
// It is what a zero AdminConfig serves at /openapi.json; NewAdmin serves
// it with the servers and the security scheme of its AdminConfig.
//
//go:embed openapi.json
var openAPI []byte

// AuthScheme is how a client's credential travels to the admin API, as
// the OpenAPI description tells generated clients.
type AuthScheme string

// The schemes Auth can describe.
const (
	// AuthBearer is a token in the Authorization header:
	// "Authorization: Bearer <token>".
	AuthBearer AuthScheme = "bearer"
	// AuthCookie is a session cookie, named by Auth.Name, as a browser
	// sends it.
	AuthCookie AuthScheme = "cookie"
	// AuthHeader is a key in the request header named by Auth.Name.
	AuthHeader AuthScheme = "header"
)

// Auth describes how clients authenticate, for the description's
// components.securitySchemes and security. It describes only:
// AdminConfig.Authorize decides. The zero value is a bearer token.
type Auth struct {
	// Scheme is how the credential travels; "" means AuthBearer.
	Scheme AuthScheme
	// Name is the cookie's name for AuthCookie, the header's for
	// AuthHeader; required for them, unused for AuthBearer.
	Name string
	// Description tells a client's developer what to send and where to
	// get it ("a personal API token from Settings > Tokens"); optional.
	Description string
}

// securityScheme is the OpenAPI Security Scheme Object that describes a,
// or an error for a scheme it cannot describe.
func (a Auth) securityScheme() (map[string]string, error) {
	s := map[string]string{}
	switch a.Scheme {
	case "", AuthBearer:
		s["type"], s["scheme"] = "http", "bearer"
	case AuthCookie, AuthHeader:
		if !isToken(a.Name) {
			return nil, fmt.Errorf("invitationshttp: %w: AdminConfig.Auth.Name must name the %s (letters, digits and !#$%%&'*+-.^_`|~)", invitations.ErrInvalidInput, a.Scheme)
		}
		s["type"], s["in"], s["name"] = "apiKey", string(a.Scheme), a.Name
	default:
		return nil, fmt.Errorf("invitationshttp: %w: AdminConfig.Auth.Scheme must be AuthBearer, AuthCookie or AuthHeader", invitations.ErrInvalidInput)
	}
	if a.Description != "" {
		s["description"] = a.Description
	}
	return s, nil
}

// description is the OpenAPI document as one admin handler serves it.
type description struct {
	// head is the document up to its servers, tail the rest, with the
	// host's security scheme; only the servers are written per request.
	head, tail []byte
	serverURL  string
}

// describe prepares the description for cfg: the embedded file with
// cfg.Auth as its security scheme; the servers follow cfg.ServerURL.
func describe(cfg AdminConfig) (*description, error) {
	scheme, err := cfg.Auth.securityScheme()
	if err != nil {
		return nil, err
	}
	if cfg.ServerURL != "" {
		u, err := url.Parse(cfg.ServerURL)
		// Published to anyone who reads the description: no credentials
		// in it, and a path that starts at the root.
		if err != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme == "") != (u.Host == "") || u.Opaque != "" ||
			u.User != nil || strings.ContainsAny(cfg.ServerURL, " \t\r\n") || (u.Scheme == "" && !strings.HasPrefix(u.Path, "/")) {
			return nil, fmt.Errorf("invitationshttp: %w: AdminConfig.ServerURL must be an absolute URL or a path from the root, without credentials, query or fragment", invitations.ErrInvalidInput)
		}
	}
	var doc map[string]json.RawMessage
	var components map[string]json.RawMessage
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(doc["components"], &components); err != nil {
		return nil, err
	}
	if components["securitySchemes"], err = json.Marshal(map[string]any{"admin": scheme}); err != nil {
		return nil, err
	}
	if doc["components"], err = json.Marshal(components); err != nil {
		return nil, err
	}
	d := &description{serverURL: cfg.ServerURL}
	var head, tail bytes.Buffer
	head.WriteString("{")
	for i, key := range []string{"openapi", "info"} {
		if i > 0 {
			head.WriteString(",")
		}
		fmt.Fprintf(&head, "%q:%s", key, doc[key])
	}
	head.WriteString(`,"servers":`)
	for _, key := range []string{"security", "paths", "components"} {
		fmt.Fprintf(&tail, ",%q:%s", key, doc[key])
	}
	tail.WriteString("}")
	d.head, d.tail = head.Bytes(), tail.Bytes()
	return d, nil
}

// ServeHTTP serves the description to anyone: it is documentation.
func (d *description) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	servers, _ := json.Marshal([]map[string]string{{"url": d.server(r), "description": "the admin API, where the host mounts it"}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(d.head)
	_, _ = w.Write(servers)
	_, _ = w.Write(d.tail)
}

// server is the URL of the API for the description's servers:
// AdminConfig.ServerURL, else the path r asked for less the path the
// handler saw, which is the prefix http.StripPrefix removed ("/api"
// for /api/openapi.json), or "/".
func (d *description) server(r *http.Request) string {
	if d.serverURL != "" {
		return d.serverURL
	}
	asked, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return "/"
	}
	prefix, ok := strings.CutSuffix(asked.EscapedPath(), r.URL.EscapedPath())
	if !ok || !strings.HasPrefix(prefix, "/") {
		return "/"
	}
	return prefix
}

// isToken tells whether s is an HTTP token (RFC 9110), as header and
// cookie names are.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}
