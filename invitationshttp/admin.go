package invitationshttp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/invitekit/invitations"
)

// DefaultMaxBodyBytes is the largest request body the admin API reads when
// AdminConfig.MaxBodyBytes is zero: an invitation with the most metadata
// the Service accepts fits several times over.
const DefaultMaxBodyBytes = 64 << 10

// AdminConfig configures the admin API. Authorize is required.
type AdminConfig struct {
	// Authorize decides whether the request may act on the account; it
	// runs before anything else, the body included. The library treats
	// accountID as an opaque string: compare it with your own account IDs
	// as strings, never after parsing it (an Atoi would make "1", "01" and
	// "+1" three tenants of one account, each with its own pending
	// invitations and quota). A nil error allows;
	// an error matching ErrUnauthenticated gives 401, any other error 403.
	// It may name the acting admin for the audit events by replacing the
	// request's context:
	//
	//	*r = *r.WithContext(invitations.WithActor(r.Context(), user.Email))
	Authorize func(r *http.Request, accountID string) error
	// InvitedBy, when set, gives the name shown in the mail as the
	// inviter ("Grace Hopper invited you..."), from the authenticated
	// request: it is not taken from the body, where anyone could write
	// anything.
	InvitedBy func(r *http.Request) string
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	// A larger body is refused with 413 too_large. A bulk invitation may be
	// 16 times as large.
	MaxBodyBytes int64
	// ServerURL is where clients reach the API, for the servers of the
	// description at /openapi.json, so that a generated client knows the
	// mount prefix: an absolute URL ("https://app.example.com/api") or a
	// path from the root ("/api"), without credentials (the description is
	// served to anyone). Empty means the path /openapi.json was asked under,
	// less /openapi.json ("/api" when mounted with http.StripPrefix("/api",
	// ...)); set it when a proxy in front rewrites paths.
	ServerURL string
	// Auth tells generated clients how to authenticate, as the
	// description's security scheme; the zero value is a bearer token.
	// It only describes: Authorize decides.
	Auth Auth
}

// admin serves the admin API.
type admin struct {
	svc     *invitations.Service
	cfg     AdminConfig
	mux     *http.ServeMux
	maxBody int64
	openAPI *description
}

// route is one operation of the admin API; routes is the table that both
// the mux and the OpenAPI test read.
type route struct {
	method, path string
	serve        func(a *admin, w http.ResponseWriter, r *http.Request, account string)
}

var routes = []route{
	{"POST", "/accounts/{account}/invitations", (*admin).invite},
	{"POST", "/accounts/{account}/invitations/bulk", (*admin).bulk},
	{"GET", "/accounts/{account}/invitations", (*admin).list},
	{"GET", "/accounts/{account}/invitations/counts", (*admin).counts},
	{"GET", "/accounts/{account}/roles", (*admin).accountRoles},
	{"GET", "/accounts/{account}/events", (*admin).events},
	{"GET", "/accounts/{account}/invitations/{id}/history", (*admin).history},
	{"GET", "/accounts/{account}/invitations/{id}", (*admin).get},
	{"POST", "/accounts/{account}/invitations/{id}/resend", (*admin).resend},
	{"POST", "/accounts/{account}/invitations/{id}/link", (*admin).link},
	{"POST", "/accounts/{account}/invitations/{id}/regenerate", (*admin).regenerate},
	{"PUT", "/accounts/{account}/invitations/{id}/roles", (*admin).roles},
	{"DELETE", "/accounts/{account}/invitations/{id}", (*admin).revoke},
}

// NewAdmin returns the admin API of svc as an http.Handler, with routes
// relative to where it is mounted (use http.StripPrefix):
//
//	POST   /accounts/{account}/invitations               invite
//	POST   /accounts/{account}/invitations/bulk          invite many (207, a result per row)
//	GET    /accounts/{account}/invitations               list (?status=&search=&limit=&after=)
//	GET    /accounts/{account}/invitations/counts        counts per status
//	GET    /accounts/{account}/roles                     the account's roles (Config.Roles)
//	GET    /accounts/{account}/events                    the account's event feed (?after=&limit=)
//	GET    /accounts/{account}/invitations/{id}/history  one invitation's events, oldest first
//	GET    /accounts/{account}/invitations/{id}          get
//	POST   /accounts/{account}/invitations/{id}/resend   resend
//	POST   /accounts/{account}/invitations/{id}/link     copy link (recorded)
//	POST   /accounts/{account}/invitations/{id}/regenerate
//	PUT    /accounts/{account}/invitations/{id}/roles    update roles
//	DELETE /accounts/{account}/invitations/{id}          revoke
//	GET    /openapi.json                                 this API, OpenAPI 3.1 (no Authorize), with
//	                                                     cfg.ServerURL and cfg.Auth as its servers and security
//
// Invitations are the library's JSON plus "status" and "actions"; errors
// are RFC 9457 problem details with a stable "code". Cross-origin browser
// requests that change state are refused (http.CrossOriginProtection). Copy
// link is a POST because it is such a change (Service.CopyLink records it);
// a method a path does not serve is 405 method_not_allowed with an Allow
// header, an unknown path 404 not_found. A body must be sent as
// application/json (else 415). It fails without cfg.Authorize: there is
// no default-open API.
func NewAdmin(svc *invitations.Service, cfg AdminConfig) (http.Handler, error) {
	if svc == nil {
		return nil, fmt.Errorf("invitationshttp: %w: a Service is required", invitations.ErrInvalidInput)
	}
	if cfg.Authorize == nil {
		return nil, fmt.Errorf("invitationshttp: %w: AdminConfig.Authorize is required", invitations.ErrInvalidInput)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("invitationshttp: %w: AdminConfig.MaxBodyBytes must not be negative", invitations.ErrInvalidInput)
	}
	openAPI, err := describe(cfg)
	if err != nil {
		return nil, err
	}
	a := &admin{svc: svc, cfg: cfg, mux: http.NewServeMux(), maxBody: cfg.MaxBodyBytes, openAPI: openAPI}
	if a.maxBody == 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	for _, rt := range routes {
		a.mux.HandleFunc(rt.method+" "+rt.path, a.authorized(rt.serve))
	}
	a.mux.Handle("GET /openapi.json", a.openAPI)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p := problemForbidden.problem()
		p.Detail = "cross-origin requests that change state are refused"
		writeProblem(w, p)
	}))
	return cop.Handler(a), nil
}

// ServeHTTP routes r through the mux, and answers what the mux has no
// route for as a problem: 405 method_not_allowed with the mux's Allow
// header when the path is served with other methods, else 404
// not_found. A catch-all route would hide the 405, which tells a client
// its method is wrong rather than its path.
func (a *admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// ServeMux would redirect a path with "//", "." or ".." to its clean
	// form, an HTML answer whose Location forgets the mount prefix: no
	// API path is written that way, so it is not found.
	if p := r.URL.Path; p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") {
		writeProblem(w, problemNotFound.problem())
		return
	}
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status != http.StatusMethodNotAllowed {
		writeProblem(w, problemNotFound.problem())
		return
	}
	w.Header().Set("Allow", probe.header.Get("Allow"))
	writeProblem(w, problemMethodNotAllowed.problem())
}

// headerProbe is a ResponseWriter that keeps the status and the headers
// of the mux's own answer to an unrouted request, and drops its body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }

// authorized runs Authorize before the operation, and before its body is read.
func (a *admin) authorized(serve func(*admin, http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := r.PathValue("account")
		if err := a.cfg.Authorize(r, account); err != nil {
			if errors.Is(err, ErrUnauthenticated) {
				writeProblem(w, problemUnauthenticated.problem())
			} else {
				writeProblem(w, problemForbidden.problem())
			}
			return
		}
		serve(a, w, r, account)
	}
}

// invitationJSON is an invitation as the API returns it: the library's
// JSON plus its status, the actions that will succeed and, while the
// resend cooldown holds them back, when Resend and Regenerate will work
// again, all at the Service's clock.
type invitationJSON struct {
	*invitations.Invitation
	Status          invitations.Status   `json:"status"`
	Actions         []invitations.Action `json:"actions"`
	ResendAllowedAt time.Time            `json:"resend_allowed_at,omitzero"`
}

func (a *admin) view(inv *invitations.Invitation) invitationJSON {
	actions := a.svc.Actions(inv)
	if actions == nil {
		actions = []invitations.Action{}
	}
	return invitationJSON{Invitation: inv, Status: a.svc.Status(inv), Actions: actions, ResendAllowedAt: a.svc.ResendAllowedAt(inv)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bulkBodyFactor is how many times MaxBodyBytes a bulk body may be: room
// for invitations.MaxInviteMany rows at the default.
const bulkBodyFactor = 16

// decode reads a JSON body of at most maxBody bytes into v; unknown
// fields, trailing data and a wrong shape are bad_request.
func (a *admin) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	return a.decodeAtMost(w, r, v, a.maxBody)
}

func (a *admin) decodeAtMost(w http.ResponseWriter, r *http.Request, v any, maxBody int64) bool {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeProblem(w, problemUnsupportedType.problem())
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		p := problemTooLarge.problem()
		p.Detail = "this body is limited to " + strconv.FormatInt(maxBody, 10) + " bytes"
		writeProblem(w, p)
		return false
	}
	writeProblem(w, problemBadRequest.problem())
	return false
}

// isJSON reports whether a request's Content-Type declares the only body
// the API reads, application/json, with no charset or UTF-8, the only
// one JSON has (RFC 8259). A missing Content-Type is not JSON: RFC 9110
// lets the recipient assume application/octet-stream, and a client that
// omits it would be the only one whose body the description cannot
// vouch for. A form or text/plain body, which a browser may send across
// sites without a preflight, is refused before it is read.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8")
}

// id parses the {id} of the path, in the canonical form the API writes
// (36 characters); a malformed one is not_found, as an unknown one is.
func id(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	raw := r.PathValue("id")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		writeProblem(w, problemNotFound.problem())
		return uuid.UUID{}, false
	}
	return id, true
}

// respond writes an invitation, or the problem of err. A delivery failure
// is not a failure of the call: the invitation was stored, and its
// delivery state says what became of the mail.
func (a *admin) respond(w http.ResponseWriter, status int, inv *invitations.Invitation, err error) {
	if err != nil && !(errors.Is(err, invitations.ErrDelivery) && inv != nil) {
		writeProblem(w, problemFor(err))
		return
	}
	writeJSON(w, status, a.view(inv))
}

type inviteBody struct {
	Email    string            `json:"email"`
	Name     string            `json:"name"`
	Roles    []string          `json:"roles"`
	Metadata map[string]string `json:"metadata"`
}

func (a *admin) invite(w http.ResponseWriter, r *http.Request, account string) {
	var body inviteBody
	if !a.decode(w, r, &body) {
		return
	}
	inv, err := a.svc.Invite(r.Context(), a.input(r, account, body))
	a.respond(w, http.StatusCreated, inv, err)
}

func (a *admin) input(r *http.Request, account string, body inviteBody) invitations.InviteInput {
	in := invitations.InviteInput{AccountID: account, Email: body.Email, Name: body.Name, Roles: body.Roles, Metadata: body.Metadata}
	if a.cfg.InvitedBy != nil {
		in.InvitedBy = a.cfg.InvitedBy(r)
	}
	return in
}

// bulkResult is one row of a bulk answer: the status the row would have
// had on its own, and the invitation or the problem.
type bulkResult struct {
	Status     int             `json:"status"`
	Invitation *invitationJSON `json:"invitation,omitempty"`
	Problem    *Problem        `json:"problem,omitempty"`
}

// bulk invites many at once (InviteMany): 207 with a result per row, in
// order; mail goes out with the next DeliverDue.
func (a *admin) bulk(w http.ResponseWriter, r *http.Request, account string) {
	var body struct {
		Invitations []inviteBody `json:"invitations"`
	}
	if !a.decodeAtMost(w, r, &body, bulkBodyFactor*a.maxBody) {
		return
	}
	in := make([]invitations.InviteInput, len(body.Invitations))
	for i, row := range body.Invitations {
		in[i] = a.input(r, account, row)
	}
	results, err := a.svc.InviteMany(r.Context(), in)
	if err != nil {
		writeProblem(w, problemFor(err))
		return
	}
	out := make([]bulkResult, len(results))
	for i, res := range results {
		if res.Err != nil {
			p := problemFor(res.Err)
			out[i] = bulkResult{Status: p.Status, Problem: &p}
			continue
		}
		view := a.view(res.Invitation)
		out[i] = bulkResult{Status: http.StatusCreated, Invitation: &view}
	}
	writeJSON(w, http.StatusMultiStatus, map[string][]bulkResult{"results": out})
}

// listJSON is a page as the API returns it; "next" is always present.
type listJSON struct {
	Invitations []invitationJSON `json:"invitations"`
	Next        string           `json:"next"`
}

func (a *admin) list(w http.ResponseWriter, r *http.Request, account string) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, q, invitations.MaxPageSize)
	if !ok {
		return
	}
	if q.Has("status") && q.Get("status") == "" {
		// The Service reads "" as every status; the description lists
		// the statuses, and leaving the parameter out says every one.
		writeProblem(w, problemFor(&invitations.InputError{Field: "status", Problem: "must be a status, or left out for every status"}))
		return
	}
	page, err := a.svc.List(r.Context(), invitations.ListQuery{
		AccountID: account, Status: invitations.Status(q.Get("status")), Search: q.Get("search"), After: q.Get("after"), Limit: limit,
	})
	if err != nil {
		writeProblem(w, problemFor(err))
		return
	}
	out := listJSON{Invitations: make([]invitationJSON, len(page.Invitations)), Next: page.Next}
	for i, inv := range page.Invitations {
		out.Invitations[i] = a.view(inv)
	}
	writeJSON(w, http.StatusOK, out)
}

// history serves one invitation's events, oldest first.
func (a *admin) history(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		events, err := a.svc.History(r.Context(), account, id)
		if err != nil {
			writeProblem(w, problemFor(err))
			return
		}
		writeJSON(w, http.StatusOK, map[string][]invitations.Event{"events": events})
	}
}

// events serves a page of the account's event feed.
func (a *admin) events(w http.ResponseWriter, r *http.Request, account string) {
	q := r.URL.Query()
	limit, ok := queryLimit(w, q, invitations.MaxEventPageSize)
	if !ok {
		return
	}
	page, err := a.svc.Events(r.Context(), invitations.EventQuery{AccountID: account, After: q.Get("after"), Limit: limit})
	if err != nil {
		writeProblem(w, problemFor(err))
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// queryLimit reads the query's limit: 0 when absent, and 0 means the
// Service's default page size. One that is not a whole number from 0 to
// most (an empty one included) is invalid_input, not capped as the
// Service caps it: the description states the maximum, and a page
// quietly shorter than asked misleads a client that counts rows to find
// the last page.
func queryLimit(w http.ResponseWriter, q url.Values, most int) (int, bool) {
	if !q.Has("limit") {
		return 0, true
	}
	raw := q.Get("limit")
	limit, err := strconv.Atoi(raw)
	if err != nil || limit < 0 || limit > most {
		writeProblem(w, problemFor(&invitations.InputError{Field: "limit", Problem: "must be a whole number from 0 to " + strconv.Itoa(most)}))
		return 0, false
	}
	return limit, true
}

func (a *admin) counts(w http.ResponseWriter, r *http.Request, account string) {
	counts, err := a.svc.Count(r.Context(), account)
	if err != nil {
		writeProblem(w, problemFor(err))
		return
	}
	writeJSON(w, http.StatusOK, counts)
}

// accountRoles serves the roles Config.Roles lists, for the form's role
// picker; without the hook there is no list (any role goes): 404.
func (a *admin) accountRoles(w http.ResponseWriter, r *http.Request, account string) {
	roles, err := a.svc.Roles(r.Context(), account)
	switch {
	case err != nil:
		writeProblem(w, problemFor(err))
	case roles == nil:
		p := problemNotFound.problem()
		p.Detail = "This API has no list of roles: any role is accepted."
		writeProblem(w, p)
	default:
		writeJSON(w, http.StatusOK, map[string][]string{"roles": roles})
	}
}

func (a *admin) get(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		inv, err := a.svc.Get(r.Context(), account, id)
		a.respond(w, http.StatusOK, inv, err)
	}
}

func (a *admin) resend(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		inv, err := a.svc.Resend(r.Context(), account, id)
		a.respond(w, http.StatusOK, inv, err)
	}
}

func (a *admin) link(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		link, err := a.svc.CopyLink(r.Context(), account, id)
		if err != nil {
			writeProblem(w, problemFor(err))
			return
		}
		w.Header().Set("Referrer-Policy", "no-referrer")
		writeJSON(w, http.StatusOK, map[string]string{"link": link})
	}
}

func (a *admin) regenerate(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		inv, err := a.svc.Regenerate(r.Context(), account, id)
		a.respond(w, http.StatusOK, inv, err)
	}
}

func (a *admin) roles(w http.ResponseWriter, r *http.Request, account string) {
	id, ok := id(w, r)
	if !ok {
		return
	}
	var body struct {
		Roles []string `json:"roles"`
	}
	if !a.decode(w, r, &body) {
		return
	}
	inv, err := a.svc.UpdateRoles(r.Context(), account, id, body.Roles)
	a.respond(w, http.StatusOK, inv, err)
}

func (a *admin) revoke(w http.ResponseWriter, r *http.Request, account string) {
	if id, ok := id(w, r); ok {
		inv, err := a.svc.Revoke(r.Context(), account, id)
		a.respond(w, http.StatusOK, inv, err)
	}
}
