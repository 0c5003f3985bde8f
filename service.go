package invitations

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Paging limits of List.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// casAttempts bounds how often a lost compare-and-set is retried before
// ErrConflict: enough to ride out a burst of edits, small enough to fail fast.
const casAttempts = 5

// Service enforces the invitation rules over a Store and a Mailer. It is
// safe for concurrent use; several Services (processes) may share one Store.
type Service struct {
	store    Store
	mailer   Mailer
	keys     *keyring
	link     acceptLink
	ttl      time.Duration
	now      func() time.Time
	onEvent  func(context.Context, Event)
	render   renderer
	delivery DeliveryPolicy
	isMember func(ctx context.Context, accountID, email string) (bool, error)
	// roles and accountName are the host's hooks (see Config).
	roles       func(ctx context.Context, accountID string) ([]string, error)
	accountName func(ctx context.Context, accountID string) (string, error)
	limits      Limits
	// inTx marks a Service returned by InTx: its store is bound to the
	// caller's transaction, so it records mail as due and sends none.
	inTx bool
}

// New checks the configuration and returns a Service. Errors match
// ErrInvalidInput and name the offending setting. New starts no goroutines.
func New(store Store, mailer Mailer, cfg Config) (*Service, error) {
	if store == nil {
		return nil, configError("a Store is required")
	}
	if mailer == nil {
		return nil, configError("a Mailer is required")
	}
	keys, err := newKeyring(cfg.Secret, cfg.PreviousSecrets)
	if err != nil {
		return nil, err
	}
	link, err := parseAcceptURL(cfg.AcceptURL)
	if err != nil {
		return nil, err
	}
	ttl := cfg.TTL
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < time.Second:
		return nil, configError("TTL must be at least one second")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	delivery, err := cfg.Delivery.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := cfg.Limits.check(); err != nil {
		return nil, err
	}
	if _, ok := store.(LimitStore); cfg.Limits.counted() && !ok {
		return nil, configError("Limits.MailsPerAccountPerDay and Limits.MaxPendingPerAccount need a Store that implements LimitStore")
	}
	var render renderer = defaultMessages{}
	if cfg.Templates != nil {
		if err := cfg.Templates.check(); err != nil {
			return nil, err
		}
		render = cfg.Templates
	}
	return &Service{
		store: store, mailer: mailer, keys: keys, link: link, ttl: ttl,
		now: now, onEvent: cfg.OnEvent, render: render, delivery: delivery, isMember: cfg.IsMember,
		limits: cfg.Limits, roles: cfg.Roles, accountName: cfg.AccountName,
	}, nil
}

// InTx returns a Service that shares everything with s (keys, settings,
// Mailer, OnEvent, IsMember) but works on st, a Store bound to the
// caller's transaction (sqlstore's Store.WithTx), and sends no mail: a
// message its calls make is stored as due, to be sent by Deliver after the
// caller commits, or by the next DeliverDue. If the transaction rolls
// back, nothing of the call remains and nothing is ever sent.
//
//	tx, err := db.BeginTx(ctx, nil)
//	...
//	defer tx.Rollback()
//	inv, err := svc.InTx(store.WithTx(tx)).Accept(ctx, token)
//	... insert the membership with tx ...
//	err = tx.Commit()
//
// Deliver and DeliverDue on the returned Service fail with ErrInTx. Events
// reach OnEvent as the changes are made, before the caller commits.
func (s *Service) InTx(st Store) *Service {
	c := *s
	c.store = st
	c.inTx = true
	return &c
}

// Format implements fmt.Formatter: a Service prints without its keys.
func (s *Service) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "invitations.Service{AcceptURL:%s TTL:%s}", strings.TrimSuffix(s.link.prefix, "token="), s.ttl)
}

// clock reads the time as the Service stores it: UTC, whole microseconds,
// so that every Store reads back exactly what was written.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

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
	if err := s.limited(ctx, inv.AccountID, now, need{mails: inv.SendCount, working: 1}, storeWrite{inv: inv, create: true}); err != nil {
		return nil, storeError(err)
	}
	s.emit(ctx, EventInvited, now, inv)
	if in.SkipMail {
		return inv.withoutToken(), nil
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
	var wants need
	host := s.answers()
	inv, now, err := s.changeLimited(ctx, s.byID(accountID, id), &wants, func(inv *Invitation, now time.Time) error {
		if err := requireValid(inv, now, "regenerate it to send a new link"); err != nil {
			return err
		}
		token, err := s.keys.rederive(inv.Token)
		if err != nil {
			return err
		}
		if err := s.cooldown(inv, now); err != nil {
			return err
		}
		if err := s.checkMember(ctx, inv.AccountID, inv.Email); err != nil {
			return err
		}
		inv.SentAt, inv.ExpiresAt = now, now.Add(inv.ttl()).Truncate(time.Microsecond)
		inv.SendCount++
		s.scheduleMail(inv, MessageResend, now, !s.inTx)
		wants = need{mails: 1}
		msg, err = s.message(ctx, host, MessageResend, inv, s.link.of(token))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, EventResent, now, inv)
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
	inv, now, err := s.change(ctx, s.byID(accountID, id), func(inv *Invitation, now time.Time) error {
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
	s.emit(ctx, EventLinkCopied, now, inv)
	return link, nil
}

// Regenerate gives an expired invitation a new link, valid for its TTL, and
// mails it (MessageRegenerate); the old link is dead from then on. A link
// that still works gives ErrNotExpired, unless it was issued under a secret
// the Service no longer holds: such an invitation can be regenerated at any
// time. An ended invitation gives ErrNotPending, the email of a member
// (Config.IsMember) ErrAlreadyMember. Under Config.Limits it counts as a
// mail and, for an expired link, as a working link again: over the quota
// it gets a *RateLimitedError, at the pending cap ErrTooManyPending.
func (s *Service) Regenerate(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	var msg Message
	var wants need
	host := s.answers()
	inv, now, err := s.changeLimited(ctx, s.byID(accountID, id), &wants, func(inv *Invitation, now time.Time) error {
		wants = need{mails: 1}
		switch inv.StatusAt(now) {
		case StatusExpired:
			wants.working = 1 // its link works again
		case StatusPending:
			if s.keys.byID(inv.Token.KeyID) != nil {
				return fmt.Errorf("%w: resend it or copy its link instead", ErrNotExpired)
			}
		default:
			return ErrNotPending
		}
		if err := s.cooldown(inv, now); err != nil {
			return err
		}
		if err := s.checkMember(ctx, inv.AccountID, inv.Email); err != nil {
			return err
		}
		token, material := s.keys.issue()
		inv.Token = material
		inv.LinkCopiedAt = time.Time{} // a new link, never copied
		inv.SentAt, inv.ExpiresAt = now, now.Add(inv.ttl()).Truncate(time.Microsecond)
		inv.SendCount++
		s.scheduleMail(inv, MessageRegenerate, now, !s.inTx)
		var err error
		msg, err = s.message(ctx, host, MessageRegenerate, inv, s.link.of(token))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, EventRegenerated, now, inv)
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
	inv, now, err := s.change(ctx, s.byID(accountID, id), func(inv *Invitation, _ time.Time) error {
		if inv.State != StatusPending {
			return ErrNotPending
		}
		inv.Roles = roles
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, EventRolesUpdated, now, inv)
	return inv.withoutToken(), nil
}

// Revoke ends a pending invitation, expired or not: its link stops working
// at once. An ended invitation gives ErrNotPending.
func (s *Service) Revoke(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	inv, now, err := s.change(ctx, s.byID(accountID, id), func(inv *Invitation, now time.Time) error {
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
	s.emit(ctx, EventRevoked, now, inv)
	return inv.withoutToken(), nil
}

// Get returns an invitation of the account, or ErrNotFound.
func (s *Service) Get(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	inv, err := s.byID(accountID, id)(ctx)
	if err != nil {
		return nil, err
	}
	return inv.withoutToken(), nil
}

// ListQuery asks for one page of an account's invitations, newest first.
type ListQuery struct {
	AccountID string
	Status    Status // "" for all statuses
	// Search, when not empty, keeps the invitations whose email starts
	// with it, case-insensitively ("ada" finds ada@example.com). It
	// combines with Status and with the cursor.
	Search string
	Limit  int    // 0 means DefaultPageSize; capped at MaxPageSize
	After  string // ListPage.Next of the previous page; "" for the first
}

// ListPage is one page of invitations. Its JSON form is what an admin API
// can return as is: {"invitations": [...], "next": ""}.
type ListPage struct {
	// Invitations is never nil: an empty page encodes as [].
	Invitations []*Invitation `json:"invitations"`
	// Next is the cursor for the next page; "" on the last page.
	Next string `json:"next"`
}

// List returns a page of the account's invitations, newest first. The
// status filter is judged at the Service's current time.
func (s *Service) List(ctx context.Context, q ListQuery) (*ListPage, error) {
	if err := checkAccountID(q.AccountID); err != nil {
		return nil, err
	}
	if q.Status != "" && !q.Status.valid() {
		return nil, inputError("status", "is not a known status")
	}
	search, err := normalizeSearch(q.Search)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, inputError("limit", "must not be negative")
	case limit == 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	after, err := decodeCursor(q.After)
	if err != nil {
		return nil, err
	}
	if !isASCII(search) {
		// Emails are ASCII (see NormalizeEmail): nothing can match.
		return &ListPage{Invitations: []*Invitation{}}, nil
	}
	// One extra row tells whether another page follows.
	rows, err := s.store.List(ctx, ListFilter{
		AccountID: q.AccountID, Status: q.Status, Search: search, Now: s.clock(), Limit: limit + 1, After: after,
	})
	if err != nil {
		return nil, storeError(err)
	}
	page := &ListPage{Invitations: rows}
	if rows == nil {
		page.Invitations = []*Invitation{}
	}
	if len(rows) > limit {
		page.Invitations = rows[:limit]
		last := rows[limit-1]
		page.Next = encodeCursor(Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, inv := range page.Invitations {
		inv.withoutToken()
	}
	return page, nil
}

// normalizeSearch checks a search prefix and returns it as emails are
// stored: trimmed and lower-cased.
func normalizeSearch(search string) (string, error) {
	search = strings.ToLower(strings.TrimSpace(search))
	if err := checkText("search", search, MaxEmailLength, false); err != nil {
		return "", err
	}
	return search, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Count returns how many invitations the account has in each status at
// the Service's current time, for the badges of a Users page's tabs. Every
// Status is a key of the map, with 0 where there are none.
func (s *Service) Count(ctx context.Context, accountID string) (map[Status]int, error) {
	if err := checkAccountID(accountID); err != nil {
		return nil, err
	}
	counts, err := s.store.Count(ctx, accountID, s.clock())
	if err != nil {
		return nil, storeError(err)
	}
	out := make(map[Status]int, 5)
	for _, st := range []Status{StatusPending, StatusExpired, StatusAccepted, StatusDeclined, StatusRevoked} {
		out[st] = counts[st]
	}
	return out, nil
}

// Purge deletes the invitations that ended before the given time: those
// accepted, declined or revoked before it, and those whose link expired
// before it without being accepted. A pending invitation whose link still
// works at the Service's clock is never deleted, whatever the time given.
// Run it on a schedule; it returns how many it deleted.
func (s *Service) Purge(ctx context.Context, before time.Time) (int, error) {
	before = before.UTC().Truncate(time.Microsecond)
	expiredBefore := s.clock()
	if before.Before(expiredBefore) {
		expiredBefore = before
	}
	n, err := s.store.DeleteEnded(ctx, before, expiredBefore)
	if err != nil {
		return n, storeError(err)
	}
	return n, nil
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
	if s.mailAgainAt(inv).After(now) {
		actions = slices.DeleteFunc(actions, func(a Action) bool { return a == ActionResend || a == ActionRegenerate })
	}
	return actions
}

// Lookup returns the invitation of a link, for the page the link opens. It
// changes nothing (mail scanners open links too). An expired link gives the
// invitation together with ErrExpired, so the page can say so; an
// accepted, declined or revoked invitation gives the invitation together
// with ErrNotPending, so the page can say which ("you already joined: sign
// in"); a malformed, unknown or superseded token gives nil and
// ErrInvalidToken.
func (s *Service) Lookup(ctx context.Context, token string) (*Invitation, error) {
	p, err := s.keys.parseToken(token)
	if err != nil {
		return nil, err
	}
	inv, err := s.resolve(ctx, &p)
	if err != nil {
		return nil, err
	}
	switch inv.StatusAt(s.clock()) {
	case StatusPending:
		return inv.withoutToken(), nil
	case StatusExpired:
		return inv.withoutToken(), ErrExpired
	}
	return inv.withoutToken(), ErrNotPending
}

// Accept accepts the invitation of a link while the link is valid, and
// returns it: the caller then grants the invitee its Roles in its AccountID.
// Of any number of concurrent Accept, Decline and Revoke calls on one
// invitation exactly one succeeds. An expired link gives the invitation
// with ErrExpired. An invitation that already ended gives the invitation
// with ErrNotPending: an Accept whose reply was lost can be retried and
// still learn the account and roles (State is StatusAccepted). With
// Config.IsMember set, an invitee who already belongs to the account (who
// joined another way meanwhile) ends the invitation as accepted, since the
// person is in, and gets it with ErrAlreadyMember: grant nothing more.
//
// The link alone is not proof of who holds it (an admin may have copied
// it, see CopyLink): for a signed-in person use AcceptAs.
func (s *Service) Accept(ctx context.Context, token string) (*Invitation, error) {
	return s.answer(ctx, token, anyone, accepting)
}

// AcceptAs is Accept for a signed-in person whose email is email: when it
// is not the invitation's email (both normalized, see NormalizeEmail),
// nothing changes and it returns nil and ErrEmailMismatch, whatever the
// invitation's state, so a stranger holding the link learns nothing
// about it. The email check comes before every other, ErrInvalidToken
// for a link that is not one aside.
func (s *Service) AcceptAs(ctx context.Context, token, email string) (*Invitation, error) {
	return s.answer(ctx, token, signedIn(email), accepting)
}

// Decline declines the invitation of a link while the link is valid, with
// the same rules as Accept.
func (s *Service) Decline(ctx context.Context, token string) (*Invitation, error) {
	return s.answer(ctx, token, anyone, declining)
}

// DeclineAs is Decline for a signed-in person, with the email check of
// AcceptAs: the wrong person cannot decline either.
func (s *Service) DeclineAs(ctx context.Context, token, email string) (*Invitation, error) {
	return s.answer(ctx, token, signedIn(email), declining)
}

// answerer is who answers a link: anyone holding it, or a signed-in
// person whose email must be the invitation's.
type answerer struct {
	email    string
	signedIn bool
}

var anyone = answerer{}

func signedIn(email string) answerer { return answerer{email: email, signedIn: true} }

// mayAnswer refuses a signed-in person whose email is not inv's.
func (a answerer) mayAnswer(inv *Invitation) error {
	if !a.signedIn {
		return nil
	}
	if email, err := NormalizeEmail(a.email); err != nil || email != inv.Email {
		return ErrEmailMismatch
	}
	return nil
}

// answerKind is an invitee's answer: the event it makes and how it ends the
// invitation.
type answerKind struct {
	event EventKind
	end   func(inv *Invitation, now time.Time)
}

var (
	accepting = answerKind{EventAccepted, func(inv *Invitation, now time.Time) { inv.State, inv.AcceptedAt = StatusAccepted, now }}
	declining = answerKind{EventDeclined, func(inv *Invitation, now time.Time) { inv.State, inv.DeclinedAt = StatusDeclined, now }}
)

func (s *Service) answer(ctx context.Context, token string, who answerer, kind answerKind) (*Invitation, error) {
	p, err := s.keys.parseToken(token)
	if err != nil {
		return nil, err
	}
	byToken := func(ctx context.Context) (*Invitation, error) {
		inv, err := s.resolve(ctx, &p)
		if err != nil {
			return nil, err
		}
		if err := who.mayAnswer(inv); err != nil {
			return nil, err // before any state is judged: nothing to learn
		}
		return inv, nil
	}
	var member bool
	inv, now, err := s.change(ctx, byToken, func(inv *Invitation, now time.Time) error {
		if err := requireValid(inv, now, "ask for a new invitation"); err != nil {
			return err
		}
		if kind.event == EventAccepted {
			var err error
			if member, err = s.member(ctx, inv.AccountID, inv.Email); err != nil {
				return err
			}
		}
		kind.end(inv, now)
		dropMail(inv)
		return nil
	})
	if inv != nil && (errors.Is(err, ErrExpired) || errors.Is(err, ErrNotPending)) {
		return inv.withoutToken(), err
	}
	if err != nil {
		return nil, err
	}
	s.emit(ctx, kind.event, now, inv)
	if member {
		return inv.withoutToken(), ErrAlreadyMember
	}
	return inv.withoutToken(), nil
}

// requireValid passes a pending invitation whose link has not expired.
func requireValid(inv *Invitation, now time.Time, hint string) error {
	switch inv.StatusAt(now) {
	case StatusPending:
		return nil
	case StatusExpired:
		return fmt.Errorf("%w: %s", ErrExpired, hint)
	}
	return ErrNotPending
}

// loader reads the current version of one invitation.
type loader func(ctx context.Context) (*Invitation, error)

func (s *Service) byID(accountID string, id uuid.UUID) loader {
	return func(ctx context.Context) (*Invitation, error) {
		if err := checkAccountID(accountID); err != nil {
			return nil, err
		}
		inv, err := s.store.Get(ctx, accountID, id)
		if err != nil {
			return nil, storeError(err)
		}
		if inv.AccountID != accountID {
			return nil, ErrNotFound // defence in depth against a lax Store
		}
		return inv, nil
	}
}

// resolve finds the invitation of a parsed token.
func (s *Service) resolve(ctx context.Context, p *parsedToken) (*Invitation, error) {
	inv, err := s.store.GetByTokenHash(ctx, p.hash)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown or superseded", ErrInvalidToken)
	}
	if err != nil {
		return nil, storeError(err)
	}
	if !p.matches(inv.Token) {
		return nil, fmt.Errorf("%w: unknown or superseded", ErrInvalidToken)
	}
	return inv, nil
}

// change applies a rule to the current version of an invitation and stores
// the result with compare-and-set, re-reading and re-applying the rule when
// another change won the race. When the rule refuses, the invitation it
// judged is returned with the rule's error.
func (s *Service) change(ctx context.Context, load loader, apply func(inv *Invitation, now time.Time) error) (*Invitation, time.Time, error) {
	return s.changeLimited(ctx, load, nil, apply)
}

// changeLimited is change for a rule that makes mail due or links work:
// apply sets *wants to what the change asks of the account's limits, and
// the change is stored only if they allow it (see limited).
func (s *Service) changeLimited(ctx context.Context, load loader, wants *need, apply func(inv *Invitation, now time.Time) error) (*Invitation, time.Time, error) {
	for range casAttempts {
		inv, err := load(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		now := s.clock()
		version := inv.Version
		if err := apply(inv, now); err != nil {
			return inv, now, err
		}
		inv.Version = version + 1
		var n need
		if wants != nil {
			n = *wants
		}
		err = s.limited(ctx, inv.AccountID, now, n, storeWrite{inv: inv, version: version})
		if err == nil {
			return inv, now, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, now, storeError(err)
		}
	}
	return nil, time.Time{}, ErrConflict
}

// message renders the message of kind for inv with its link, naming the
// account as host says.
func (s *Service) message(ctx context.Context, host *hostAnswers, kind MessageKind, inv *Invitation, link string) (Message, error) {
	name, err := host.accountName(ctx, inv)
	if err != nil {
		return Message{}, err
	}
	subject, text, html, err := s.render.render(newMessageData(kind, inv, link, name))
	if err != nil {
		return Message{}, err
	}
	return Message{
		Kind: kind, To: inv.Email, Link: link, Subject: subjectLine(subject), Text: text, HTML: html,
		Invitation: inv.public(),
	}, nil
}

// landedCheckTimeout bounds the read that tells whether a failed write
// was stored after all (see landed).
const landedCheckTimeout = 5 * time.Second

// landed tells whether the write of inv, whose call failed with err, was
// stored after all. A store can lose the reply to a write it made: a
// context that ends while a COMMIT is on its way makes the driver stop
// waiting for an answer the database may still give. What a call returns
// must be what the store holds, so such a failure is checked by reading
// the invitation back, on a context that outlives the caller's by a few
// seconds. An error that names a rule (a documented sentinel) is never a
// write that landed, and inside a caller's transaction the caller's
// commit decides.
func (s *Service) landed(ctx context.Context, err error, inv *Invitation) bool {
	if s.inTx || isSentinel(err) {
		return false
	}
	check, cancel := context.WithTimeout(context.WithoutCancel(ctx), landedCheckTimeout)
	defer cancel()
	got, getErr := s.store.Get(check, inv.AccountID, inv.ID)
	return getErr == nil && got.Version == inv.Version && got.State == inv.State &&
		got.SentAt.Equal(inv.SentAt) && got.Delivery.NextAttempt.Equal(inv.Delivery.NextAttempt)
}

// storeSentinels are the errors a Store documents: each names a rule, not
// a failure.
var storeSentinels = []error{ErrNotFound, ErrAlreadyInvited, ErrConflict, ErrInvalidInput, ErrRateLimited, ErrTooManyPending}

func isSentinel(err error) bool {
	for _, known := range storeSentinels {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

// storeError passes the Store's documented sentinels through and marks
// anything else as a store failure, once.
func storeError(err error) error {
	var marked *storeFailure
	if errors.As(err, &marked) {
		return err
	}
	if isSentinel(err) {
		return err
	}
	return &storeFailure{err}
}

// storeFailure is a Store error that is none of its documented sentinels.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return "invitations: store: " + e.err.Error() }
func (e *storeFailure) Unwrap() error { return e.err }

// Cursors are opaque to callers: base64url of the last row's CreatedAt (Unix
// microseconds) and ID.
func encodeCursor(c Cursor) string {
	var raw [24]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(c.CreatedAt.UnixMicro()))
	copy(raw[8:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func decodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	var raw [24]byte
	if len(s) != base64.RawURLEncoding.EncodedLen(len(raw)) {
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(s)); err != nil || n != len(raw) {
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	c := &Cursor{CreatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(raw[:8]))).UTC()}
	if y := c.CreatedAt.Year(); y < 1970 || y > 9999 {
		// Not a time any invitation was created at, and past what some
		// databases can even compare against.
		return nil, inputError("after", "is not a cursor from a previous page")
	}
	copy(c.ID[:], raw[8:])
	return c, nil
}
