package invitations

import (
	"context"
	"time"

	"github.com/google/uuid"
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

// Event records one stored state change: who made it, when, and the
// invitation as it was right after it. Every event is stored with the
// change it records, in the same store operation (Service.History,
// Service.Events), and reported through Config.OnEvent. Its JSON form is
// what the admin API serves.
type Event struct {
	// ID is unique (a version 7 UUID): the same in OnEvent and in the
	// store, for a receiver to deduplicate deliveries of one event.
	ID   uuid.UUID `json:"id"`
	Kind EventKind `json:"kind"`
	// At is the Service's clock reading when the change was made.
	At time.Time `json:"at"`
	// Actor is who made the change, from WithActor on the context of the
	// call; "" when none was given.
	Actor string `json:"actor,omitempty"`
	// Message is, for EventDelivered and EventDeliveryFailed, which
	// message: the invite, a resend, a regenerated link or a reminder.
	Message MessageKind `json:"message,omitempty"`
	// Error is, for EventDeliveryFailed, why, as the admin sees it
	// (Delivery.LastError).
	Error string `json:"error,omitempty"`
	// Invitation is a copy of the invitation as stored right after the
	// change, without token material (its Token.KeyID aside, which is not
	// secret).
	Invitation Invitation `json:"invitation"`
}

// EventFilter is one page request from the Service to a Store's feed.
type EventFilter struct {
	// AccountID is the account whose events are listed; "" means every
	// account.
	AccountID string
	// After is the store's position of the last event read, "" for the
	// first page.
	After string
	// Limit is the most events to return; always at least 1.
	Limit int
}

// newEvent builds the event of a change about to be stored: kind "" means
// the write records nothing (a claim, a mark).
func (s *Service) newEvent(ctx context.Context, kind EventKind, message MessageKind, at time.Time, inv *Invitation) *Event {
	if kind == "" {
		return nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New() // the clock went backwards: still unique
	}
	ev := &Event{ID: id, Kind: kind, At: at, Actor: actorOf(ctx), Invitation: inv.public()}
	ev.Message = message
	if kind == EventDeliveryFailed {
		ev.Error = inv.Delivery.LastError
	}
	return ev
}

// recorder says what event a change records, and for a mail event which
// message, once apply has made the change.
type recorder func() (EventKind, MessageKind)

// records is the recorder of a change that always records kind.
func records(kind EventKind) recorder { return func() (EventKind, MessageKind) { return kind, "" } }

// report hands a stored event to Config.OnEvent.
func (s *Service) report(ctx context.Context, ev *Event) {
	if ev != nil && s.onEvent != nil {
		s.onEvent(ctx, *ev)
	}
}
