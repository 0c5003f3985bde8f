package invitations

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Sentinel errors. Every error the Service returns matches at most one of
// these with errors.Is; typed errors below add detail for errors.As.
var (
	// ErrInvalidInput reports input that breaks a documented rule: a bad
	// email, no role, an unknown status filter, a bad cursor or a bad Config.
	ErrInvalidInput = errors.New("invitations: invalid input")

	// ErrNotFound reports an invitation that does not exist in the account
	// asked for. An invitation of another account is reported the same way.
	ErrNotFound = errors.New("invitations: invitation not found")

	// ErrInvalidToken reports a token that is malformed, unknown, superseded
	// by Regenerate, or issued under a secret the Service no longer holds.
	ErrInvalidToken = errors.New("invitations: invalid invitation token")

	// ErrExpired reports an action that needs a valid link on an invitation
	// whose link has expired. The invitation is returned alongside it where
	// the caller may want to show it ("ask your administrator for a new one").
	ErrExpired = errors.New("invitations: invitation expired")

	// ErrNotExpired reports Regenerate on an invitation whose link still
	// works: the admin should Resend or CopyLink instead.
	ErrNotExpired = errors.New("invitations: invitation not expired")

	// ErrNotPending reports an action on an invitation that was already
	// accepted, declined or revoked.
	ErrNotPending = errors.New("invitations: invitation no longer pending")

	// ErrAlreadyInvited reports an Invite for an email that already has a
	// pending invitation (expired or not) in the same account. The error is
	// an *AlreadyInvitedError carrying the existing invitation's ID.
	ErrAlreadyInvited = errors.New("invitations: email already invited")

	// ErrDelivery reports that the state change was stored but the mail
	// could not be sent. The invitation is returned alongside it; the admin
	// can Resend or CopyLink.
	ErrDelivery = errors.New("invitations: invitation mail not delivered")

	// ErrConflict reports a compare-and-set that kept losing against
	// concurrent changes to the same invitation. Stores return it for a
	// version mismatch; the Service retries a few times before returning it.
	ErrConflict = errors.New("invitations: concurrent update")
)

// errInvalidConfig is the cause of every error New returns for a bad Config;
// it matches ErrInvalidInput so callers need only one sentinel.
var errInvalidConfig = fmt.Errorf("%w: config", ErrInvalidInput)

// AlreadyInvitedError is returned (wrapped or not) when an email already has
// a pending invitation in the account. It matches ErrAlreadyInvited.
type AlreadyInvitedError struct {
	// ExistingID is the ID of the pending invitation, so the caller can offer
	// Resend or Regenerate on it instead.
	ExistingID uuid.UUID
}

// Error implements error.
func (e *AlreadyInvitedError) Error() string {
	return ErrAlreadyInvited.Error() + " (existing invitation " + e.ExistingID.String() + ")"
}

// Is makes errors.Is(err, ErrAlreadyInvited) true.
func (e *AlreadyInvitedError) Is(target error) bool { return target == ErrAlreadyInvited }

// InputError names the field of an input that broke a rule. It matches
// ErrInvalidInput. The rejected value is never repeated in the message, so
// that the error is safe to log and to show.
type InputError struct {
	// Field is the name of the offending field, e.g. "email" or "roles".
	Field string
	// Problem says what is wrong, in lowercase words.
	Problem string
}

// Error implements error.
func (e *InputError) Error() string {
	return ErrInvalidInput.Error() + ": " + e.Field + ": " + e.Problem
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

func inputError(field, problem string) error { return &InputError{Field: field, Problem: problem} }

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalidConfig}, args...)...)
}
