package invitations

import (
	"context"
	"time"
)

// EventKind names a state change.
type EventKind string

// The state changes the Service reports through Config.OnEvent.
const (
	EventInvited      EventKind = "invited"
	EventResent       EventKind = "resent"
	EventRegenerated  EventKind = "regenerated"
	EventRolesUpdated EventKind = "roles_updated"
	EventRevoked      EventKind = "revoked"
	EventAccepted     EventKind = "accepted"
	EventDeclined     EventKind = "declined"
	// EventLinkCopied: an admin copied the link (CopyLink) to share it by
	// hand, so that it may since have reached anyone, not only the invited
	// address; Invitation.LinkCopiedAt records the last copy.
	EventLinkCopied EventKind = "link_copied"
	// EventDelivered: a message was accepted by the Mailer. It is reported
	// after the send, from the call that sent it (Invite, Resend,
	// Regenerate, Deliver or DeliverDue).
	EventDelivered EventKind = "delivered"
	// EventDeliveryFailed: a message was given up: it failed its last
	// allowed attempt, failed permanently, or its link expired before it
	// could be sent. The admin should Resend, CopyLink or Regenerate.
	EventDeliveryFailed EventKind = "delivery_failed"
)

// Event reports one stored state change, for audit logs and metrics.
type Event struct {
	Kind EventKind
	// At is the Service's clock reading when the change was made.
	At time.Time
	// Actor is who made the change, from WithActor on the context of the
	// call; "" when none was given.
	Actor string
	// Invitation is a copy of the invitation as stored, without token
	// material (its Token.KeyID aside, which is not secret).
	Invitation Invitation
}

func (s *Service) emit(ctx context.Context, kind EventKind, at time.Time, inv *Invitation) {
	if s.onEvent != nil {
		s.onEvent(ctx, Event{Kind: kind, At: at, Actor: actorOf(ctx), Invitation: inv.public()})
	}
}
