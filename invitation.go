package invitations

import (
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Status is where an invitation stands. The stored State is one of
// StatusPending, StatusAccepted, StatusDeclined or StatusRevoked;
// StatusExpired is never stored but read off a pending invitation whose
// link has expired (see StatusAt).
type Status string

// The statuses an invitation can have.
const (
	StatusPending  Status = "pending"
	StatusExpired  Status = "expired"
	StatusAccepted Status = "accepted"
	StatusDeclined Status = "declined"
	StatusRevoked  Status = "revoked"
)

func (s Status) valid() bool {
	switch s {
	case StatusPending, StatusExpired, StatusAccepted, StatusDeclined, StatusRevoked:
		return true
	}
	return false
}

// Action is something an admin can do to an invitation from its "•••" menu.
type Action string

// The admin actions. Which are allowed in which status is given by ActionsAt.
const (
	ActionResend      Action = "resend"
	ActionCopyLink    Action = "copy_link"
	ActionRegenerate  Action = "regenerate"
	ActionUpdateRoles Action = "update_roles"
	ActionRevoke      Action = "revoke"
)

// Invitation is one person invited by email into one account.
//
// A Store persists every field. The JSON encoding (snake_case) is meant for
// admin APIs and never includes the token material.
type Invitation struct {
	ID        uuid.UUID         `json:"id"` // a version 7 UUID
	AccountID string            `json:"account_id"`
	Email     string            `json:"email"` // lower-cased
	Name      string            `json:"name,omitempty"`
	Roles     []string          `json:"roles"`
	InvitedBy string            `json:"invited_by,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`

	// State is the stored state: pending, accepted, declined or revoked.
	// Use StatusAt to tell a pending invitation from an expired one.
	State Status `json:"state"`

	CreatedAt time.Time `json:"created_at"`
	// SentAt is when the current link was last sent (Invite, Resend,
	// Regenerate); the link expires TTL after it.
	SentAt     time.Time `json:"sent_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	DeclinedAt time.Time `json:"declined_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	// LinkCopiedAt is when an admin last copied the current link
	// (CopyLink); zero when it was never copied. A link that went only by
	// mail reached whoever reads the invited address, a copied one may
	// have reached anyone: a host that takes an acceptance as proof that
	// the invitee owns the email accepts it only while this is zero.
	// Resend keeps it (the same link); Regenerate clears it (a new link).
	LinkCopiedAt time.Time `json:"link_copied_at,omitzero"`

	// SendCount is how many messages carrying a link were made for the
	// invitation (Invite, each Resend and Regenerate), whether or not they
	// were delivered: see Delivery for that.
	SendCount int `json:"send_count"`
	// Version increases by one with every stored change; Stores use it for
	// compare-and-set (see Store.Update).
	Version int64 `json:"version"`

	// Delivery is the state of the invitation's mail, stored with it.
	Delivery Delivery `json:"delivery"`

	// Token is the material behind the current link. It prints redacted.
	// Invitations the Service returns carry only its KeyID, which is not
	// secret.
	Token TokenMaterial `json:"-"`
}

// Delivery is the mail state of an invitation. It is written in the same
// store call as the change that makes a message due, so a crash between
// saving and sending leaves a due message for DeliverDue, never a gap.
type Delivery struct {
	// Due is the message still to be delivered; "" when none is.
	Due MessageKind `json:"due,omitempty"`
	// Attempts counts the failed attempts at the current message.
	Attempts int `json:"attempts,omitempty"`
	// LastError is the last failed attempt's error, for the admin.
	LastError string `json:"last_error,omitempty"`
	// NextAttempt is when DeliverDue may try the due message (again).
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// ClaimedAt is when the attempt under way began: a sender holds the
	// message until NextAttempt (its lease), and the resend cooldown
	// counts the mail from then on. Zero when no attempt is under way.
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
	// DeliveredAt is when a message of this invitation was last delivered.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// FailedAt is when delivery of the last message was given up, after the
	// policy's attempts; zero otherwise. Resend or CopyLink still work.
	// It stays set, and no reminder goes to the address, until a Resend or
	// a Regenerate makes a new message due.
	FailedAt time.Time `json:"failed_at,omitzero"`
	// RemindedAt is when a reminder of the current link was last made due
	// (see DeliveryPolicy.RemindBefore); a link is reminded of once per send.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
}

// StatusAt is the status at the instant now: a pending invitation is
// StatusExpired from ExpiresAt on (at exactly ExpiresAt it is expired).
func (inv *Invitation) StatusAt(now time.Time) Status {
	if inv.State == StatusPending && !now.Before(inv.ExpiresAt) {
		return StatusExpired
	}
	return inv.State
}

// ActionsAt lists what an admin may do at the instant now, in menu order,
// by the rules alone. A valid pending invitation can be resent, copied,
// edited or revoked; an expired one can get a new link, be edited or be
// revoked; an accepted, declined or revoked one offers nothing. To build a
// menu, prefer Service.Actions: it also knows which secrets the Service
// still holds.
func (inv *Invitation) ActionsAt(now time.Time) []Action {
	switch inv.StatusAt(now) {
	case StatusPending:
		return []Action{ActionResend, ActionCopyLink, ActionUpdateRoles, ActionRevoke}
	case StatusExpired:
		return []Action{ActionRegenerate, ActionUpdateRoles, ActionRevoke}
	}
	return nil
}

// ttl is how long the invitation's link lives from each send: the TTL it
// was invited with, which every send keeps as ExpiresAt - SentAt.
func (inv *Invitation) ttl() time.Duration { return inv.ExpiresAt.Sub(inv.SentAt) }

// EndedAt is when the invitation was accepted, declined or revoked; zero
// while it is pending.
func (inv *Invitation) EndedAt() time.Time {
	switch inv.State {
	case StatusAccepted:
		return inv.AcceptedAt
	case StatusDeclined:
		return inv.DeclinedAt
	case StatusRevoked:
		return inv.RevokedAt
	}
	return time.Time{}
}

// Clone returns a deep copy: changing the copy's roles, metadata or token
// material leaves the original untouched. Stores use it to hand out copies.
func (inv *Invitation) Clone() *Invitation {
	// Stores clone on every read, so the common invitation (a few roles, a
	// nonce and a hash) is copied with one allocation: the copy and its
	// backing arrays share a block.
	n, h := len(inv.Token.Nonce), len(inv.Token.Hash)
	if len(inv.Roles) > cloneRoles || n+h > cloneTokenBytes {
		c := *inv
		c.Roles = slices.Clone(inv.Roles)
		c.Metadata = maps.Clone(inv.Metadata)
		c.Token = inv.Token.Clone()
		return &c
	}
	b := &cloneBlock{inv: *inv}
	c := &b.inv
	if inv.Roles != nil {
		c.Roles = b.roles[:copy(b.roles[:], inv.Roles):len(inv.Roles)]
	}
	c.Metadata = maps.Clone(inv.Metadata)
	copy(b.token[:], inv.Token.Nonce)
	copy(b.token[n:], inv.Token.Hash)
	if inv.Token.Nonce != nil {
		c.Token.Nonce = b.token[:n:n]
	}
	if inv.Token.Hash != nil {
		c.Token.Hash = b.token[n : n+h : n+h]
	}
	return c
}

const (
	cloneRoles      = 4
	cloneTokenBytes = 2 * nonceSize
)

// cloneBlock is one allocation holding a cloned invitation and room for
// its roles and token material.
type cloneBlock struct {
	inv   Invitation
	roles [cloneRoles]string
	token [cloneTokenBytes]byte
}

// Clone returns a deep copy. The nonce and hash share one allocation: they
// are read together, and cloning sits on every store read.
func (m TokenMaterial) Clone() TokenMaterial {
	n, h := len(m.Nonce), len(m.Hash)
	if n+h == 0 {
		return m // nil or empty stays as it was
	}
	buf := make([]byte, n+h)
	copy(buf, m.Nonce)
	copy(buf[n:], m.Hash)
	if m.Nonce != nil {
		m.Nonce = buf[:n:n]
	}
	if m.Hash != nil {
		m.Hash = buf[n:]
	}
	return m
}

// stripToken clears inv's token material in place, and returns inv so
// that a return statement can hand it on: the Service strips every
// invitation it owns before handing it to a caller, and a copy would cost
// an allocation per call for nothing. The key ID stays: it is not secret,
// and Service.Actions reads it to tell a link whose secret was retired.
func (inv *Invitation) stripToken() *Invitation {
	inv.Token = TokenMaterial{KeyID: inv.Token.KeyID}
	return inv
}

// public is a copy without token material, for events and messages.
func (inv *Invitation) public() Invitation {
	return *inv.Clone().stripToken()
}

// LogValue implements slog.LogValuer: the identifying fields only, never
// token material.
func (inv *Invitation) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", inv.ID.String()),
		slog.String("account_id", inv.AccountID),
		slog.String("email", inv.Email),
		slog.String("state", string(inv.State)),
		slog.Time("expires_at", inv.ExpiresAt),
		slog.Int64("version", inv.Version),
	)
}

// AccountName is the account's display name for people: the
// "account_name" metadata, else the AccountID.
func (inv *Invitation) AccountName() string {
	if name := inv.Metadata[MetadataAccountName]; name != "" {
		return name
	}
	return inv.AccountID
}

// Location is the recipient's time zone, from the "time_zone" metadata;
// UTC when there is none (or it is unknown).
func (inv *Invitation) Location() *time.Location {
	loc, _ := zone(inv.Metadata[MetadataTimeZone])
	return loc
}

// ExpiresText is when the link expires, in words and in the recipient's
// time zone, as the messages write it: "Monday, 9 November 2026 at 09:30 UTC".
func (inv *Invitation) ExpiresText() string {
	return inv.ExpiresAt.In(inv.Location()).Format(expiryLayout)
}
