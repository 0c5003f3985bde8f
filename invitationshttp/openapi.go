package invitationshttp

import (
	_ "embed"
	"net/http"
)

// openAPI describes exactly the admin API: TestOpenAPIMatchesHandler keeps
// its paths and problem codes in step with the route and error tables.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves the description to anyone: it is documentation.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPI)
}
