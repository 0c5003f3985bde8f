package invitations

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Sentinel errors, matched with errors.Is; the typed errors below (and
// RateLimitedError) add detail for errors.As. An error the Service makes
// matches one of them, except where it carries a cause:
//   - an error matching ErrDelivery wraps the failed send, so it also
//     matches what that matches: ErrPermanent when delivery was given up
//     for good (a Mailer's Permanent error, a message that cannot be
//     rendered, or, with ErrInvalidToken too, a link issued under a
//     secret the Service no longer holds), and the Mailer's own errors;
//   - an error of a host's hook (Config.IsMember, Roles, AccountName)
//     wraps what the hook returned.
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

	// ErrAlreadyMember reports an Invite, Resend or Regenerate for an email
	// that already belongs to the account, as Config.IsMember says: nothing
	// is stored or sent. From Accept or AcceptAs it comes with the
	// invitation, which it ended as accepted: the person is in already.
	ErrAlreadyMember = errors.New("invitations: email already belongs to the account")

	// ErrEmailMismatch reports an AcceptAs or DeclineAs by someone signed in
	// with another email than the invitation's: nothing changes, and no
	// invitation is returned, so a stranger holding the link learns nothing
	// about it.
	ErrEmailMismatch = errors.New("invitations: the invitation is for another email")

	// ErrRateLimited reports a call that would send more mail than
	// Config.Limits allow; the error is a *RateLimitedError saying when to
	// try again. Nothing was stored or sent.
	ErrRateLimited = errors.New("invitations: rate limited")

	// ErrTooManyPending reports an Invite or Regenerate that would give an
	// account more valid links (pending and not expired) than
	// Limits.MaxPendingPerAccount. Nothing
	// was stored or sent; revoke some, or wait for them to be answered.
	ErrTooManyPending = errors.New("invitations: too many pending invitations in the account")

	// ErrPermanent marks a delivery error that no retry can fix (a mailbox
	// that does not exist, a message the server refuses): wrap it with
	// Permanent in a Mailer, and delivery is given up at once.
	ErrPermanent = errors.New("invitations: permanent delivery failure")

	// ErrInTx reports a call that a Service returned by InTx refuses,
	// because it must see only what has committed: sending mail (Deliver,
	// DeliverDue, Work), which waits until the caller's transaction has
	// committed, and reading the event feed (Events), whose cursors would
	// otherwise step past the transaction's own events.
	ErrInTx = errors.New("invitations: not done inside a transaction: send mail with Deliver, and read the event feed, after the commit")
)

// Permanent marks err as not worth retrying: the returned error matches both
// ErrPermanent and err (errors.Is and errors.As see through it). A Mailer
// returns it for a failure that will fail again, such as an SMTP 5xx reply;
// the Service then gives up on the message at once instead of retrying it.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

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
