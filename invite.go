package invitations

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// InviteInput is what an admin fills in to invite a person.
type InviteInput struct {
	AccountID string // required
	Email     string // required; trimmed and lower-cased, see NormalizeEmail
	Name      string // optional display name of the invitee
	Roles     []string
	InvitedBy string // optional: who invited, shown in the mail
	Metadata  map[string]string
	// SkipMail stores the invitation without mailing it: the admin shares
	// the link by CopyLink. Nothing is due, and SendCount stays 0.
	SkipMail bool
	// TTL is how long this invitation's link is valid, from each send; 0
	// means the Service's TTL. It must be between MinInviteTTL and
	// MaxInviteTTL. Resend and Regenerate keep using it.
	TTL time.Duration
}

// Bounds of InviteInput.TTL.
const (
	MinInviteTTL = time.Hour
	MaxInviteTTL = 30 * 24 * time.Hour
)

// Invite creates an invitation and mails its link (MessageInvite). The link
// is valid for the TTL. A pending invitation (expired or not) for the same
// email in the account makes it fail with an *AlreadyInvitedError, and,
// with Config.IsMember set, an email that belongs to the account with
// ErrAlreadyMember. When the mail cannot be sent the invitation is still
// stored and returned with an error matching ErrDelivery. On a Service from
// InTx the mail is stored as due and not sent (see Deliver). With SkipMail
// nothing is mailed at all; TTL gives this invitation a validity of its own.
// Under Config.Limits, an account whose mail quota is used up gets a
// *RateLimitedError and one at its pending cap ErrTooManyPending, with
// nothing stored or sent.
func (s *Service) Invite(ctx context.Context, in InviteInput) (*Invitation, error) {
	now := s.clock()
	inv, msg, err := s.newPending(ctx, in, now, !s.inTx, s.answers())
	if err != nil {
		return nil, err
	}
	ev := s.newEvent(ctx, EventInvited, "", now, inv)
	if err := s.limited(ctx, inv.AccountID, now, need{mails: inv.SendCount, links: 1}, storeWrite{inv: inv, create: true, event: ev}); err != nil {
		return nil, storeError(err)
	}
	s.report(ctx, ev)
	if in.SkipMail {
		return inv.stripToken(), nil
	}
	return s.deliver(ctx, inv, msg)
}

// newPending validates an invitation's input and builds it as it will be
// stored, with its mail due unless SkipMail; sendsNow says whether the
// caller makes the first attempt right after storing it (Invite outside a
// transaction), which holds the message for a lease. The message is
// rendered here, so that one that cannot be rendered stores nothing. The
// host's hooks are asked through host.
func (s *Service) newPending(ctx context.Context, in InviteInput, now time.Time, sendsNow bool, host *hostAnswers) (*Invitation, Message, error) {
	inv, err := newInvitation(in)
	if err != nil {
		return nil, Message{}, err
	}
	if _, named := inv.Metadata[MetadataAccountName]; named && s.accountName != nil {
		return nil, Message{}, inputError("metadata", "account_name is set by the application, not by the request")
	}
	if err := host.checkRoles(ctx, inv.AccountID, inv.Roles); err != nil {
		return nil, Message{}, err
	}
	ttl := s.ttl
	if in.TTL != 0 {
		if in.TTL < MinInviteTTL || in.TTL > MaxInviteTTL {
			return nil, Message{}, inputError("ttl", "must be between 1 hour and 30 days")
		}
		ttl = in.TTL
	}
	if inv.ID, err = uuid.NewV7(); err != nil {
		return nil, Message{}, fmt.Errorf("invitations: generating id: %w", err)
	}
	token, material := s.keys.issue()
	inv.State = StatusPending
	inv.CreatedAt, inv.SentAt, inv.ExpiresAt = now, now, now.Add(ttl).Truncate(time.Microsecond)
	inv.Version = 1
	inv.Token = material
	var msg Message
	if !in.SkipMail {
		inv.SendCount = 1
		s.scheduleMail(inv, MessageInvite, now, sendsNow)
		if msg, err = s.message(ctx, host, MessageInvite, inv, s.link.of(token)); err != nil {
			return nil, Message{}, err
		}
	}
	if err := s.checkMember(ctx, inv.AccountID, inv.Email); err != nil {
		return nil, Message{}, err
	}
	return inv, msg, nil
}

func newInvitation(in InviteInput) (*Invitation, error) {
	if err := checkAccountID(in.AccountID); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	roles, err := normalizeRoles(in.Roles)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText("name", name, MaxNameLength, false); err != nil {
		return nil, err
	}
	if err := checkText("invited_by", in.InvitedBy, MaxIDLength, false); err != nil {
		return nil, err
	}
	if err := checkMetadata(in.Metadata); err != nil {
		return nil, err
	}
	inv := &Invitation{
		AccountID: in.AccountID, Email: email, Name: name, Roles: roles, InvitedBy: in.InvitedBy,
	}
	if len(in.Metadata) > 0 {
		inv.Metadata = make(map[string]string, len(in.Metadata))
		for k, v := range in.Metadata {
			inv.Metadata[k] = v
		}
	}
	return inv, nil
}
