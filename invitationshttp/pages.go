package invitationshttp

import (
	"embed"
	"fmt"
	"html/template"
	"strings"
)

//go:embed pages.html
var pageFiles embed.FS

// defaultPages are the built-in invitee pages, one template per page name.
var defaultPages = template.Must(template.ParseFS(pageFiles, "pages.html"))

// titles are the pages' titles, by page name, with %s for the account
// where the page has one: each page a title of its own, so that a
// browser's tabs and history, and a screen reader's first words, tell an
// expired link from a withdrawn one.
var titles = map[string]string{
	"invitation":       "Invitation to join %s",
	"invalid":          "Invitation link not valid",
	"expired":          "Invitation to join %s expired",
	"already_accepted": "Invitation to join %s already accepted",
	"already_declined": "Invitation to join %s already declined",
	"withdrawn":        "Invitation to join %s withdrawn",
	"joined":           "You joined %s",
	"declined":         "Invitation to join %s declined",
	"conflict":         "Answer not saved: please try again",
	"already_member":   "Already a member of %s",
	"sign_in":          "Sign in to join %s",
	"wrong_person":     "Invitation for someone else",
	"forbidden":        "Request refused",
	"error":            "Something went wrong",
}

// pageTitle is the title of the page p names, or "" for a name the
// library does not know (a host's page).
func pageTitle(p *Page) string {
	title, ok := titles[p.Name]
	if !ok || !strings.Contains(title, "%s") {
		return title
	}
	return fmt.Sprintf(title, p.AccountName)
}

// FieldError is what is wrong with one field of a host's form.
type FieldError struct {
	Field   string // the field's name, as in <input name="...">
	Message string // what to do about it, shown beside the field
}

// FieldErrors are the errors of a host's form, in the order of its fields,
// as a page rendered by Acceptance.RenderErrors has them (Page.Errors). A
// template shows each message beside its field, in an element with the id
// that ID gives, and puts Attrs in the field's tag:
//
//	<input id="password" name="password" type="password" {{.Errors.Attrs "password"}}>
//	{{with .Errors.Message "password"}}<p id="{{$.Errors.ID "password"}}">{{.}}</p>{{end}}
//
// so that the field is marked invalid, a screen reader reads the message
// with the field, and the page opens with focus on the first invalid one
// (autofocus: the pages' CSP allows no script).
type FieldErrors []FieldError

// Message is the message for field, or "" when it has none.
func (e FieldErrors) Message(field string) string {
	for _, fe := range e {
		if fe.Field == field {
			return fe.Message
		}
	}
	return ""
}

// ID is the id of the element that shows field's message: "error-" and
// the field's name, with any character other than an ASCII letter, a
// digit, "-" or "_" made "-".
func (e FieldErrors) ID(field string) string {
	return "error-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, field)
}

// Attrs are the attributes of field's tag: aria-invalid and
// aria-describedby (the message's ID) when it has a message, and
// autofocus too when it is the first field with one; nothing otherwise.
func (e FieldErrors) Attrs(field string) template.HTMLAttr {
	for i, fe := range e {
		if fe.Field != field {
			continue
		}
		attrs := ` aria-invalid="true" aria-describedby="` + e.ID(field) + `"`
		if i == 0 {
			attrs += " autofocus"
		}
		return template.HTMLAttr(attrs)
	}
	return ""
}
