package invitationshttp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/invitekit/invitations"
)

// maxFormBytes bounds an invitee POST: the token and the action, and the
// fields of a host's registration form.
const maxFormBytes = 64 << 10

// InviteeConfig configures the invitee's page. Every field is optional.
type InviteeConfig struct {
	// Accept, when set, runs instead of the default acceptance when the
	// invitee presses Accept invitation (and whenever a page of the host's
	// posts back to the handler with the same hidden fields): the host's
	// own step first, such as a registration form, then the acceptance,
	// typically in one database transaction with the membership:
	//
	//	tx, _ := db.BeginTx(ctx, nil)
	//	defer tx.Rollback()
	//	inv, err := a.Accept(ctx, svc.InTx(store.WithTx(tx)))
	//	... insert the user and the membership with tx, then tx.Commit() ...
	//	a.Finish(inv, err)
	//
	// The invitation it gets was just looked up and its link is valid. It
	// writes the response itself (Acceptance.Render shows the host's own
	// form like the library's pages); Finish writes the library's page for
	// what Accept returned.
	Accept func(w http.ResponseWriter, r *http.Request, a *Acceptance)
	// SignInURL is the host's sign-in page, offered on the page of an
	// invitation already accepted and to an invitee who must sign in
	// first (see UserExists). There it gets the query parameter "next":
	// the page's path with the invitation's token, to come back to after
	// signing in. The token therefore travels through the sign-in page:
	// redirect to "next" only when it is a path of your own site.
	SignInURL string
	// SignedIn, when set, tells who is signed in: their email and true, or
	// false. Then only the invited person answers: signed in as the
	// invited email, the page accepts and declines with AcceptAs and
	// DeclineAs; signed in as someone else, it answers 403 and offers
	// nothing, whatever the invitation's state, naming the invited address
	// only masked ("a•••@example.com"). A link is no proof of who holds
	// it: admins copy links (Service.CopyLink).
	SignedIn func(r *http.Request) (email string, ok bool)
	// UserExists, when set with SignedIn, tells whether a user with this
	// (normalized) email exists. Nobody signed in and such a user exists:
	// the page asks them to sign in (SignInURL) instead of offering Accept,
	// so an existing user's consent is theirs. No such user: it offers
	// Accept, and the Accept hook registers them.
	UserExists func(ctx context.Context, email string) (bool, error)
	// Pages, when set, replaces built-in pages by name: "invitation",
	// "invalid", "expired", "already_accepted", "already_declined",
	// "withdrawn", "joined", "declined", "conflict", "already_member",
	// "sign_in", "wrong_person", "forbidden", "error".
	// A "conflict" page must keep a form that posts .Hidden back. Each
	// executes with a *Page. Names it does not define keep the built-in
	// page. Style elements must carry nonce="{{.Nonce}}" (the pages' CSP
	// allows no other style or script).
	Pages *template.Template
}

// Page is what a page template executes with.
type Page struct {
	Name string // which page: "invitation", "expired", ...
	// Title is the page's title, its own on each built-in page, naming the
	// account where the page has one: "Invitation to join Acme Inc.",
	// "Invitation link not valid". It is "" on a page rendered by
	// Acceptance.Render or RenderErrors: the host's template names it.
	Title string
	// Invitation is nil on the "invalid", "conflict", "forbidden" and
	// "error" pages.
	Invitation  *invitations.Invitation
	AccountName string // Metadata "account_name", else the account ID
	InvitedBy   string // who invited, else "an administrator"
	Roles       string // the roles, comma-separated
	Expires     string // when the link expires, in the invitee's time zone
	// Hidden is the form's hidden fields: the token on the "invitation"
	// page (its buttons carry the action), the token and the action to
	// send again on the "conflict" page. Put it inside any form that posts
	// back to the handler.
	Hidden template.HTML
	// Action is the form's action: the page itself, as a URL relative to
	// the page ("./accept", or "./" for a path ending in "/"), so that it
	// holds no token and is right wherever the handler is mounted,
	// http.StripPrefix included.
	Action    string
	SignInURL string
	Nonce     string // for <style nonce="...">
	// Message is the host's own words, for a page rendered by Acceptance.Fail.
	Message string
	// MaskedEmail is the invited address as the "wrong_person" page names
	// it to someone else: "a•••@example.com".
	MaskedEmail string
	// Data is the host's own data, on a page rendered by Acceptance.Render.
	Data any
	// Errors is the host's form's field errors, on a page rendered by
	// Acceptance.RenderErrors.
	Errors FieldErrors
}

// invitee serves the page a link opens.
type invitee struct {
	svc   *invitations.Service
	cfg   InviteeConfig
	pages *template.Template
}

// NewInvitee returns the page that invitation links open, to mount at the
// path of Config.AcceptURL. GET (and HEAD) ?token=... shows the invitation,
// with the buttons Accept invitation and Decline invitation, and changes
// nothing: mail scanners open links too. The buttons POST the token in the
// form body to the same page, wherever it is mounted (http.StripPrefix
// included: the form's action is relative to the page); a cross-site
// POST is refused (403) by
// http.CrossOriginProtection. Each outcome has its page and status: an
// unknown or superseded link 404, an expired one 410, an ended invitation
// 409 (already accepted, with a sign-in link; declined; withdrawn),
// accepted or declined 200. An answer that kept losing against
// concurrent changes (invitations.ErrConflict, as while an admin edits the
// invitation) stored nothing: its page is 409 with a Try again button
// that posts the same answer again. Every response forbids caching,
// referrers, indexing and any script.
func NewInvitee(svc *invitations.Service, cfg InviteeConfig) (http.Handler, error) {
	if svc == nil {
		return nil, fmt.Errorf("invitationshttp: %w: a Service is required", invitations.ErrInvalidInput)
	}
	h := &invitee{svc: svc, cfg: cfg, pages: defaultPages}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusForbidden, &Page{Name: "forbidden"})
	}))
	return cop.Handler(h), nil
}

func (h *invitee) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		token := r.URL.Query().Get("token")
		inv, err := h.svc.Lookup(r.Context(), token)
		if _, stop := h.admit(w, r, inv, err, token); stop {
			return
		}
		if err != nil {
			h.outcome(w, r, inv, err, press{})
			return
		}
		p := h.page(r, "invitation", inv)
		p.Hidden = hiddenFields(token, "")
		h.render(w, r, http.StatusOK, p)
	case http.MethodPost:
		h.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.render(w, r, http.StatusMethodNotAllowed, &Page{Name: "error"})
	}
}

func (h *invitee) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusBadRequest, &Page{Name: "error"})
		return
	}
	token := r.PostForm.Get("token")
	action := r.PostForm.Get("action")
	if action != "accept" && action != "decline" {
		h.render(w, r, http.StatusBadRequest, &Page{Name: "error"})
		return
	}
	// What the page would have offered decides what a POST may do: a
	// forged one changes nothing the page would not have let it.
	inv, err := h.svc.Lookup(r.Context(), token)
	email, stop := h.admit(w, r, inv, err, token)
	if stop {
		return
	}
	if err != nil {
		h.outcome(w, r, inv, err, press{})
		return
	}
	switch {
	case action == "decline":
		inv, err := h.decline(r, token, email)
		h.outcome(w, r, inv, err, press{action: "decline", token: token, done: "declined"})
	case h.cfg.Accept == nil:
		a := &Acceptance{Invitation: inv, Token: token, Email: email}
		inv, err := a.Accept(r.Context(), h.svc)
		h.outcome(w, r, inv, err, accepting(token))
	default:
		h.cfg.Accept(w, r, &Acceptance{Invitation: inv, Token: token, Email: email, h: h, w: w, r: r})
	}
}

func (h *invitee) decline(r *http.Request, token, email string) (*invitations.Invitation, error) {
	if email != "" {
		return h.svc.DeclineAs(r.Context(), token, email)
	}
	return h.svc.Decline(r.Context(), token)
}

// admit applies InviteeConfig.SignedIn and UserExists to the invitation
// of a link (nil for a link that is not one) as Lookup returned it. It
// returns the signed-in invitee's email ("" when nobody is signed in), or
// writes the page that stops the visitor and returns stop: someone else
// signed in (403, whatever the invitation's state, which stays untold),
// or nobody signed in while a user with the invited email exists and the
// link still works (sign in first).
func (h *invitee) admit(w http.ResponseWriter, r *http.Request, inv *invitations.Invitation, lookupErr error, token string) (email string, stop bool) {
	if h.cfg.SignedIn == nil || inv == nil {
		return "", false
	}
	if who, ok := h.cfg.SignedIn(r); ok {
		if normalized, err := invitations.NormalizeEmail(who); err == nil && normalized == inv.Email {
			return normalized, false
		}
		h.render(w, r, http.StatusForbidden, &Page{Name: "wrong_person", MaskedEmail: maskEmail(inv.Email)})
		return "", true
	}
	if h.cfg.UserExists == nil || lookupErr != nil {
		return "", false
	}
	exists, err := h.cfg.UserExists(r.Context(), inv.Email)
	if err != nil {
		h.render(w, r, http.StatusInternalServerError, &Page{Name: "error"})
		return "", true
	}
	if exists {
		p := h.page(r, "sign_in", inv)
		p.SignInURL = h.signInReturning(r, token)
		h.render(w, r, http.StatusOK, p)
		return "", true
	}
	return "", false
}

// signInReturning is SignInURL with "next": this page with the token.
func (h *invitee) signInReturning(r *http.Request, token string) string {
	if h.cfg.SignInURL == "" {
		return ""
	}
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.EscapedPath()
	}
	next := path + "?token=" + url.QueryEscape(token)
	sep := "?"
	if strings.Contains(h.cfg.SignInURL, "?") {
		sep = "&"
	}
	return h.cfg.SignInURL + sep + "next=" + url.QueryEscape(next)
}

// maskEmail names an address without giving it away: its first letter,
// then "•••", then the domain.
func maskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "•••"
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "•••@" + domain
}

// press is the button an invitee pressed: the action posted with its
// token, and the page that success shows. The zero press is a GET.
type press struct {
	action string // "accept" or "decline"
	token  string
	done   string // "joined" or "declined"
}

func accepting(token string) press {
	return press{action: "accept", token: token, done: "joined"}
}

// outcome renders the page for what Lookup, Accept or Decline returned:
// success is the page named p.done, with 200.
func (h *invitee) outcome(w http.ResponseWriter, r *http.Request, inv *invitations.Invitation, err error, p press) {
	switch {
	case err == nil && p.done != "":
		h.render(w, r, http.StatusOK, h.page(r, p.done, inv))
	case errors.Is(err, invitations.ErrAlreadyMember) && inv != nil:
		// Joined another way meanwhile: the invitation ended as accepted.
		h.render(w, r, http.StatusConflict, h.page(r, "already_member", inv))
	case errors.Is(err, invitations.ErrEmailMismatch):
		h.render(w, r, http.StatusForbidden, &Page{Name: "wrong_person", MaskedEmail: "•••"})
	case errors.Is(err, invitations.ErrConflict) && p.action != "":
		// The compare-and-set kept losing and nothing was stored, so the
		// same answer can simply be sent again: the page posts it back,
		// the token in the body as on the invitation page. Whatever
		// changed meanwhile shows on the page of the answer sent again
		// (the roles on "joined", or "withdrawn"), so no second lookup.
		h.render(w, r, http.StatusConflict, &Page{Name: "conflict", Hidden: hiddenFields(p.token, p.action)})
	case errors.Is(err, invitations.ErrExpired) && inv != nil:
		h.render(w, r, http.StatusGone, h.page(r, "expired", inv))
	case errors.Is(err, invitations.ErrNotPending) && inv != nil:
		name := map[invitations.Status]string{
			invitations.StatusAccepted: "already_accepted",
			invitations.StatusDeclined: "already_declined",
			invitations.StatusRevoked:  "withdrawn",
		}[inv.State]
		h.render(w, r, http.StatusConflict, h.page(r, name, inv))
	case errors.Is(err, invitations.ErrInvalidToken):
		h.render(w, r, http.StatusNotFound, &Page{Name: "invalid"})
	default:
		h.render(w, r, http.StatusInternalServerError, &Page{Name: "error"})
	}
}

func (h *invitee) page(r *http.Request, name string, inv *invitations.Invitation) *Page {
	account, err := h.svc.AccountName(r.Context(), inv)
	if err != nil {
		// Config.AccountName failed: the ID names the account, and nothing
		// a request could have set does.
		account = inv.AccountID
	}
	p := &Page{Name: name, Invitation: inv, AccountName: account, InvitedBy: inv.InvitedBy,
		Roles: strings.Join(inv.Roles, ", "), Expires: inv.ExpiresText(), SignInURL: h.cfg.SignInURL}
	if p.InvitedBy == "" {
		p.InvitedBy = "an administrator"
	}
	return p
}

// hiddenFields carries the token in the form body, never in a URL, and
// the action too unless it is empty (the invitation page's buttons carry
// theirs).
func hiddenFields(token, action string) template.HTML {
	fields := `<input type="hidden" name="token" value="` + template.HTMLEscapeString(token) + `">`
	if action != "" {
		fields += `<input type="hidden" name="action" value="` + template.HTMLEscapeString(action) + `">`
	}
	return template.HTML(fields)
}

// render writes the page p names, the host's own (InviteeConfig.Pages)
// or the built-in one.
func (h *invitee) render(w http.ResponseWriter, r *http.Request, status int, p *Page) {
	t := h.pages.Lookup(p.Name)
	if h.cfg.Pages != nil && h.cfg.Pages.Lookup(p.Name) != nil {
		t = h.cfg.Pages.Lookup(p.Name)
	}
	h.renderWith(w, r, status, t, p)
}

// renderWith writes t executed with p, with the headers every invitee
// response carries.
func (h *invitee) renderWith(w http.ResponseWriter, r *http.Request, status int, t *template.Template, p *Page) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	p.Nonce = base64.RawURLEncoding.EncodeToString(nonce[:]) // CSP takes base64url; no "+" to escape
	p.Action = formAction(r)
	if p.Title == "" {
		p.Title = pageTitle(p)
	}
	if p.SignInURL == "" {
		p.SignInURL = h.cfg.SignInURL
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	var body bytes.Buffer
	body.Grow(4 << 10) // a built-in page is about 2.5 KiB
	if err := t.Execute(&body, p); err != nil {
		status = http.StatusInternalServerError
		body.Reset()
		_ = defaultPages.ExecuteTemplate(&body, "error", &Page{Name: "error", Title: titles["error"], Nonce: p.Nonce})
	}
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}

// formAction is where a page's form posts: the page itself, as "./" and
// the last segment of the page's path. A browser resolves it against the
// URL it shows, so it is right at any mount point, below http.StripPrefix
// (which hides the prefix from the handler) and behind a proxy that strips
// a prefix (which hides it from the whole request), as long as the last
// segment reaches the handler unchanged. The segment comes from the
// request-target as the client sent it, r.RequestURI, which StripPrefix
// leaves alone: a page mounted at exactly its stripped prefix has an empty
// r.URL.Path. r.URL is only the fallback for a request that did not come
// through a server. Not the empty action: that posts to the page's own
// URL, query and token included. The "./" keeps a segment such as "a:b"
// from reading as a scheme, and an empty one (a path ending in "/") from
// being the empty action.
func formAction(r *http.Request) string {
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		path = u.EscapedPath()
	}
	return "./" + path[strings.LastIndexByte(path, '/')+1:]
}

// Acceptance is an invitee's press of Accept invitation, handed to
// InviteeConfig.Accept.
type Acceptance struct {
	// Invitation is the invitation as just looked up: pending, link valid.
	Invitation *invitations.Invitation
	// Token is the link's token, for Service.Accept (or svc.InTx(...).Accept).
	Token string
	// Email is the signed-in invitee's normalized email (InviteeConfig.
	// SignedIn), or "" when nobody is signed in: a new user is registering.
	// The page has checked it is the invitation's.
	Email string
	h     *invitee
	w     http.ResponseWriter
	r     *http.Request
}

// Accept accepts the invitation on svc (the page's Service, or one from
// its InTx) as the page's rules say: AcceptAs for the signed-in invitee,
// Accept for someone registering.
func (a *Acceptance) Accept(ctx context.Context, svc *invitations.Service) (*invitations.Invitation, error) {
	if a.Email != "" {
		return svc.AcceptAs(ctx, a.Token, a.Email)
	}
	return svc.Accept(ctx, a.Token)
}

// Hidden is the hidden fields a host's own form must post back (inside a
// form with method POST to the page's path) to reach Accept again.
func (a *Acceptance) Hidden() template.HTML {
	return hiddenFields(a.Token, "accept")
}

// Render writes the host's own page for its step (a registration or
// sign-in form) as the library writes its pages: the same headers (no
// caching, no referrer, no framing) and a strict CSP. t executes with a
// *Page named "host" carrying the invitation, AccountName, Hidden (put it
// inside the form), Action (the form's action), Nonce (for
// <style nonce="{{.Nonce}}">), Message and Data, the host's own data (the
// values to fill in again, the errors to show). A template that fails to
// execute gives the library's error page, 500.
func (a *Acceptance) Render(status int, t *template.Template, message string, data any) {
	p := a.h.page(a.r, "host", a.Invitation)
	p.Hidden, p.Message, p.Data = a.Hidden(), message, data
	a.h.renderWith(a.w, a.r, status, t, p)
}

// RenderErrors writes the host's own form again, as Render does, with
// what is wrong with its fields in Page.Errors: the template marks each
// field and shows its message beside it (see FieldErrors), and the page
// opens with focus on the first invalid field. Give the errors in the
// order of the form's fields; a template may fill in again the values
// that were right (in data), so that nobody types them twice.
func (a *Acceptance) RenderErrors(status int, t *template.Template, errs FieldErrors, data any) {
	p := a.h.page(a.r, "host", a.Invitation)
	p.Hidden, p.Errors, p.Data = a.Hidden(), errs, data
	a.h.renderWith(a.w, a.r, status, t, p)
}

// Finish writes the library's page for what Accept returned: "You joined
// ACCOUNT" on success, else the page of the error (expired, already
// accepted, withdrawn, invalid). For invitations.ErrConflict it is the
// 409 page whose Try again button posts Hidden back, which runs
// InviteeConfig.Accept again from its first step: the host's own fields
// are not carried over, since they may hold a password.
func (a *Acceptance) Finish(inv *invitations.Invitation, err error) {
	a.h.outcome(a.w, a.r, inv, err, accepting(a.Token))
}

// Fail writes the error page with the host's own message and status, for
// a step of the host's that failed (the invitation is still pending).
func (a *Acceptance) Fail(status int, message string) {
	p := a.h.page(a.r, "error", a.Invitation)
	p.Message = message
	a.h.render(a.w, a.r, status, p)
}
