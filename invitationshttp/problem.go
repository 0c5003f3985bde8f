package invitationshttp

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/invitekit/invitations"
)

// ErrUnauthenticated is what AdminConfig.Authorize returns (wrapped or not)
// for a request that carries no valid credentials: the API answers 401
// instead of 403.
var ErrUnauthenticated = errors.New("invitationshttp: not authenticated")

// ProblemTypePrefix starts the "type" URI of every problem the admin API
// returns; the stable code follows it ("urn:invitekit:problem:not_found").
const ProblemTypePrefix = "urn:invitekit:problem:"

// Problem is an RFC 9457 problem details object, as the admin API writes it
// with Content-Type application/problem+json. Code is stable: clients
// switch on it, not on Title or Detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	// Field names the offending input of an invalid_input problem.
	Field string `json:"field,omitempty"`
	// ExistingID is the pending invitation of an already_invited problem.
	ExistingID string `json:"existing_id,omitempty"`
	// RetryAfter is, for a rate_limited problem, how many seconds until the
	// mail would be allowed; the response carries it as Retry-After too.
	RetryAfter int `json:"retry_after,omitempty"`
	// Limit names the limit of a rate_limited problem
	// (invitations.LimitMailsPerDay or invitations.LimitResendCooldown).
	Limit invitations.LimitName `json:"limit,omitempty"`
}

// problemKind is one row of the error table: the stable code, its status
// and title.
type problemKind struct {
	code   string
	status int
	title  string
}

// The problems the admin API can return. Every one is listed in
// openapi.json; a test keeps the two in step.
var (
	problemBadRequest       = problemKind{"bad_request", http.StatusBadRequest, "The request body is not valid JSON of the expected shape"}
	problemUnauthenticated  = problemKind{"unauthenticated", http.StatusUnauthorized, "Authentication is required"}
	problemForbidden        = problemKind{"forbidden", http.StatusForbidden, "Not allowed for this account"}
	problemNotFound         = problemKind{"not_found", http.StatusNotFound, "No such invitation"}
	problemMethodNotAllowed = problemKind{"method_not_allowed", http.StatusMethodNotAllowed, "This path does not serve this method: see the Allow header"}
	problemTooLarge         = problemKind{"too_large", http.StatusRequestEntityTooLarge, "The request body is too large"}
	problemUnsupportedType  = problemKind{"unsupported_media_type", http.StatusUnsupportedMediaType, "The request body must be sent as Content-Type: application/json"}
	problemInvalidInput     = problemKind{"invalid_input", http.StatusUnprocessableEntity, "A field is not valid"}
	problemAlreadyInvited   = problemKind{"already_invited", http.StatusConflict, "This email already has a pending invitation"}
	problemAlreadyMember    = problemKind{"already_member", http.StatusConflict, "This email already belongs to the account"}
	problemExpired          = problemKind{"invitation_expired", http.StatusConflict, "The invitation has expired: send a new invitation instead"}
	problemNotExpired       = problemKind{"not_expired", http.StatusConflict, "The invitation has not expired: resend it or copy its link instead"}
	problemNotPending       = problemKind{"not_pending", http.StatusConflict, "The invitation was already accepted, declined or removed"}
	problemConflict         = problemKind{"conflict", http.StatusConflict, "The invitation changed meanwhile; try again"}
	problemLinkRetired      = problemKind{"link_retired", http.StatusConflict, "The link was issued under a retired secret: send a new invitation instead"}
	problemRateLimited      = problemKind{"rate_limited", http.StatusTooManyRequests, "Too many invitation emails for now: try again later"}
	problemTooManyPending   = problemKind{"too_many_pending", http.StatusTooManyRequests, "The account has too many pending invitations: remove some, or wait for answers"}
	problemInternal         = problemKind{"internal", http.StatusInternalServerError, "Something went wrong on our side"}
)

// problemKinds lists every kind, for the OpenAPI test.
var problemKinds = []problemKind{
	problemBadRequest, problemUnauthenticated, problemForbidden, problemNotFound, problemMethodNotAllowed, problemTooLarge, problemUnsupportedType,
	problemInvalidInput, problemAlreadyInvited, problemAlreadyMember, problemExpired, problemNotExpired,
	problemNotPending, problemConflict, problemLinkRetired, problemRateLimited, problemTooManyPending, problemInternal,
}

// serviceErrors maps the Service's sentinels to problems, first match
// wins. Detail is the kind's own words, never the error's text: errors can
// carry a driver's message, and a problem never echoes a rejected value.
var serviceErrors = []struct {
	err  error
	kind problemKind
}{
	{invitations.ErrInvalidInput, problemInvalidInput},
	{invitations.ErrNotFound, problemNotFound},
	{invitations.ErrAlreadyInvited, problemAlreadyInvited},
	{invitations.ErrAlreadyMember, problemAlreadyMember},
	{invitations.ErrExpired, problemExpired},
	{invitations.ErrNotExpired, problemNotExpired},
	{invitations.ErrNotPending, problemNotPending},
	{invitations.ErrConflict, problemConflict},
	{invitations.ErrRateLimited, problemRateLimited},
	{invitations.ErrTooManyPending, problemTooManyPending},
	// On the admin side a token error can only be a link whose secret was
	// dropped (Resend, CopyLink).
	{invitations.ErrInvalidToken, problemLinkRetired},
	{ErrUnauthenticated, problemUnauthenticated},
}

// problemFor turns an error of the Service (or of Authorize) into a
// problem. Unknown errors are 500 with a generic detail.
func problemFor(err error) Problem {
	for _, m := range serviceErrors {
		if errors.Is(err, m.err) {
			p := m.kind.problem()
			var inputErr *invitations.InputError
			if errors.As(err, &inputErr) {
				p.Field = inputErr.Field
				p.Detail = inputErr.Field + ": " + inputErr.Problem
			}
			var already *invitations.AlreadyInvitedError
			if errors.As(err, &already) {
				p.ExistingID = already.ExistingID.String()
			}
			var limited *invitations.RateLimitedError
			if errors.As(err, &limited) {
				// Whole seconds, rounded up: a client that waits exactly
				// this long is allowed.
				p.RetryAfter = max(int((limited.RetryAfter+time.Second-1)/time.Second), 1)
				p.Limit = limited.Limit
			}
			return p
		}
	}
	return problemInternal.problem()
}

func (k problemKind) problem() Problem {
	return Problem{Type: ProblemTypePrefix + k.code, Title: k.title, Status: k.status, Detail: k.title, Code: k.code}
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
