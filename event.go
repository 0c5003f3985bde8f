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
	// EventDelivered: a message was accepted by the Mailer.
	EventDelivered EventKind = "delivered"
	// EventDeliveryFailed: a message failed its last allowed attempt; the
	// admin should Resend or CopyLink.
	EventDeliveryFailed EventKind = "delivery_failed"
)

// Event reports one stored state change, for audit logs and metrics.
type Event struct {
	Kind EventKind
	// At is the Service's clock reading when the change was made.
	At time.Time
	// Invitation is a copy of the invitation as stored, without token
	// material.
	Invitation Invitation
}

func (s *Service) emit(ctx context.Context, kind EventKind, at time.Time, inv *Invitation) {
	if s.onEvent != nil {
		s.onEvent(ctx, Event{Kind: kind, At: at, Invitation: inv.public()})
	}
}
