package invitations

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Resend mails the same link again (MessageResend) and moves its expiry to
// the invitation's TTL from now. It works only while the link is valid: an
// expired one gives ErrExpired (Regenerate it instead), an ended one
// ErrNotPending, a link issued under a secret the Service no longer holds
// ErrInvalidToken, and the email of a member (Config.IsMember)
// ErrAlreadyMember. Under Config.Limits, a resend within the cooldown of
// the invitation's last mail, even one still being sent by a concurrent
// call (see ResendAllowedAt), or over the account's mail quota, gets a
// *RateLimitedError.
func (s *Service) Resend(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	var msg Message
	host := s.answers()
	inv, _, ev, err := s.changeLimited(ctx, s.byID(accountID, id), records(EventResent), func(inv *Invitation, now time.Time) (need, error) {
		if err := requireValid(inv, now, "regenerate it to send a new link"); err != nil {
			return need{}, err
		}
		token, err := s.keys.rederive(inv.Token)
		if err != nil {
			return need{}, err
		}
		if err := s.cooldown(inv, now); err != nil {
			return need{}, err
		}
		if err := s.checkMember(ctx, inv.AccountID, inv.Email); err != nil {
			return need{}, err
		}
		inv.SentAt, inv.ExpiresAt = now, now.Add(inv.ttl()).Truncate(time.Microsecond)
		inv.SendCount++
		s.scheduleMail(inv, MessageResend, now, !s.inTx)
		msg, err = s.message(ctx, host, MessageResend, inv, s.link.of(token))
		return need{mails: 1}, err
	})
	if err != nil {
		return nil, err
	}
	s.report(ctx, ev)
	return s.deliver(ctx, inv, msg)
}

// CopyLink returns the link that was mailed last, for the admin to share by
// hand, and records the copy: it stores Invitation.LinkCopiedAt and reports
// EventLinkCopied. A link that went only by mail reached whoever reads the
// invited address; one an admin handled may have reached anyone, and a host
// that needs proof of email ownership must be able to tell the two apart.
// It works only while the link is valid: an expired one gives ErrExpired
// (Regenerate it instead), an ended one ErrNotPending, a link issued under
// a secret the Service no longer holds ErrInvalidToken, an unknown one
// ErrNotFound; ErrConflict when concurrent changes keep winning the
// compare-and-set. On a Service from InTx the copy is stored in the
// caller's transaction.
func (s *Service) CopyLink(ctx context.Context, accountID string, id uuid.UUID) (string, error) {
	var link string
	_, _, ev, err := s.change(ctx, s.byID(accountID, id), records(EventLinkCopied), func(inv *Invitation, now time.Time) error {
		if err := requireValid(inv, now, "regenerate it to get a new link"); err != nil {
			return err
		}
		token, err := s.keys.rederive(inv.Token)
		if err != nil {
			return err
		}
		inv.LinkCopiedAt = now
		link = s.link.of(token)
		return nil
	})
	if err != nil {
		return "", err
	}
	s.report(ctx, ev)
	return link, nil
}

// Regenerate gives an expired invitation a new link, valid for its TTL, and
// mails it (MessageRegenerate); the old link is dead from then on. A link
// that still works gives ErrNotExpired, unless it was issued under a secret
// the Service no longer holds: such an invitation can be regenerated at any
// time. An ended invitation gives ErrNotPending, the email of a member
// (Config.IsMember) ErrAlreadyMember. Under Config.Limits it counts as a
// mail and, for an expired link, as a valid link again: over the quota
// it gets a *RateLimitedError, at the pending cap ErrTooManyPending.
func (s *Service) Regenerate(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	var msg Message
	host := s.answers()
	inv, _, ev, err := s.changeLimited(ctx, s.byID(accountID, id), records(EventRegenerated), func(inv *Invitation, now time.Time) (need, error) {
		wants := need{mails: 1}
		switch inv.StatusAt(now) {
		case StatusExpired:
			wants.links = 1 // its link is valid again
		case StatusPending:
			if s.keys.byID(inv.Token.KeyID) != nil {
				return need{}, fmt.Errorf("%w: resend it or copy its link instead", ErrNotExpired)
			}
		default:
			return need{}, ErrNotPending
		}
		if err := s.cooldown(inv, now); err != nil {
			return need{}, err
		}
		if err := s.checkMember(ctx, inv.AccountID, inv.Email); err != nil {
			return need{}, err
		}
		token, material := s.keys.issue()
		inv.Token = material
		inv.LinkCopiedAt = time.Time{} // a new link, never copied
		inv.SentAt, inv.ExpiresAt = now, now.Add(inv.ttl()).Truncate(time.Microsecond)
		inv.SendCount++
		s.scheduleMail(inv, MessageRegenerate, now, !s.inTx)
		var err error
		msg, err = s.message(ctx, host, MessageRegenerate, inv, s.link.of(token))
		return wants, err
	})
	if err != nil {
		return nil, err
	}
	s.report(ctx, ev)
	return s.deliver(ctx, inv, msg)
}

// UpdateRoles replaces the roles of a pending invitation, expired or not.
// At least one role is required; roles are trimmed and de-duplicated.
// With Config.Roles set, a role the account does not have is an
// *InputError (Field "roles").
func (s *Service) UpdateRoles(ctx context.Context, accountID string, id uuid.UUID, roles []string) (*Invitation, error) {
	roles, err := normalizeRoles(roles)
	if err != nil {
		return nil, err
	}
	if err := checkAccountID(accountID); err != nil {
		return nil, err
	}
	if err := s.answers().checkRoles(ctx, accountID, roles); err != nil {
		return nil, err
	}
	inv, _, ev, err := s.change(ctx, s.byID(accountID, id), records(EventRolesUpdated), func(inv *Invitation, _ time.Time) error {
		if inv.State != StatusPending {
			return ErrNotPending
		}
		inv.Roles = roles
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.report(ctx, ev)
	return inv.stripToken(), nil
}

// Revoke ends a pending invitation, expired or not: its link stops working
// at once. An ended invitation gives ErrNotPending.
func (s *Service) Revoke(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	inv, _, ev, err := s.change(ctx, s.byID(accountID, id), records(EventRevoked), func(inv *Invitation, now time.Time) error {
		if inv.State != StatusPending {
			return ErrNotPending
		}
		inv.State, inv.RevokedAt = StatusRevoked, now
		dropMail(inv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.report(ctx, ev)
	return inv.stripToken(), nil
}

// Get returns an invitation of the account, or ErrNotFound.
func (s *Service) Get(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	inv, err := s.byID(accountID, id)(ctx)
	if err != nil {
		return nil, err
	}
	return inv.stripToken(), nil
}

// Status is inv's status at the Service's clock: what StatusAt(now) says
// with the clock the Service judges by (a fake one in tests and demos).
func (s *Service) Status(inv *Invitation) Status { return inv.StatusAt(s.clock()) }

// Actions lists what an admin can do with inv now, in menu order: exactly
// the calls that will succeed at the Service's clock. It differs from
// ActionsAt, the pure rule, in two ways. A pending link issued under a
// secret the Service no longer holds can be neither resent nor copied,
// but it can be regenerated. And while Limits.ResendCooldown holds the
// invitation back (see ResendAllowedAt), Resend and Regenerate are left
// out. It reads inv.Token.KeyID, which the Service leaves on the
// invitations it returns, and inv's delivery times, and makes no store
// call. Use Actions for the "•••" menu; use ActionsAt where no Service is
// at hand.
func (s *Service) Actions(inv *Invitation) []Action {
	now := s.clock()
	actions := inv.ActionsAt(now)
	if inv.StatusAt(now) == StatusPending && inv.Token.KeyID != "" && s.keys.byID(inv.Token.KeyID) == nil {
		actions = []Action{ActionRegenerate, ActionUpdateRoles, ActionRevoke}
	}
	if s.mailAgainAt(inv, now).After(now) {
		actions = slices.DeleteFunc(actions, func(a Action) bool { return a == ActionResend || a == ActionRegenerate })
	}
	return actions
}
