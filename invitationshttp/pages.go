package invitationshttp

import (
	"embed"
	"html/template"
)

//go:embed pages.html
var pageFiles embed.FS

// defaultPages are the built-in invitee pages, one template per page name.
var defaultPages = template.Must(template.ParseFS(pageFiles, "pages.html"))
