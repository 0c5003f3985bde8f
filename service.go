package invitations

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
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
	if _, ok := store.(LimitStore); cfg.Limits.needLimitStore() && !ok {
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
// Deliver, DeliverDue and Work on the returned Service fail with ErrInTx,
// and so does Events, the feed of committed events; History reads the
// transaction's own changes, as Get does. Events reach OnEvent as the
// changes are made, before the caller commits.
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

// change applies a rule to the current version of an invitation and stores
// the result with compare-and-set, re-reading and re-applying the rule when
// another change won the race. When the rule refuses, the invitation it
// judged is returned with the rule's error.
func (s *Service) change(ctx context.Context, load loader, rec recorder, apply func(inv *Invitation, now time.Time) error) (*Invitation, time.Time, *Event, error) {
	return s.changeLimited(ctx, load, rec, func(inv *Invitation, now time.Time) (need, error) {
		return need{}, apply(inv, now)
	})
}

// changeLimited is change for a rule that makes mail due or links valid:
// apply also returns what the change asks of the account's limits, and
// the change is stored only if they allow it (see limited).
//
// The event the change records (rec) is stored with it, in the same store
// operation, and returned for the caller to report once the call is done.
func (s *Service) changeLimited(ctx context.Context, load loader, rec recorder, apply func(inv *Invitation, now time.Time) (need, error)) (*Invitation, time.Time, *Event, error) {
	for range casAttempts {
		inv, err := load(ctx)
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		now := s.clock()
		version := inv.Version
		n, err := apply(inv, now)
		if err != nil {
			return inv, now, nil, err
		}
		inv.Version = version + 1
		kind, message := rec()
		ev := s.newEvent(ctx, kind, message, now, inv)
		err = s.limited(ctx, inv.AccountID, now, n, storeWrite{inv: inv, version: version, event: ev})
		if err == nil {
			return inv, now, ev, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, now, nil, storeError(err)
		}
	}
	return nil, time.Time{}, nil, ErrConflict
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
//
// Only a call whose context ended is checked: that is how a reply gets
// lost while the database carries on, and a store that is simply down
// would otherwise hold every failing call a few seconds more.
func (s *Service) landed(ctx context.Context, err error, inv *Invitation) bool {
	if s.inTx || isSentinel(err) || ctx.Err() == nil {
		return false
	}
	check, cancel := context.WithTimeout(context.WithoutCancel(ctx), landedCheckTimeout)
	defer cancel()
	got, getErr := s.store.Get(check, inv.AccountID, inv.ID)
	return getErr == nil && sameStored(got, inv)
}

// sameStored reports whether got, read back from the store, is the write
// of inv: every field the Service writes, so that another process's write
// of the same version (a role change, a copied link) is never taken for
// ours.
func sameStored(got, inv *Invitation) bool {
	times := func(a, b []time.Time) bool {
		return slices.EqualFunc(a, b, time.Time.Equal)
	}
	g, w := got.Delivery, inv.Delivery
	return got.Version == inv.Version && got.State == inv.State && got.Name == inv.Name &&
		got.InvitedBy == inv.InvitedBy && got.SendCount == inv.SendCount &&
		slices.Equal(got.Roles, inv.Roles) && maps.Equal(got.Metadata, inv.Metadata) &&
		got.Token.KeyID == inv.Token.KeyID && bytes.Equal(got.Token.Hash, inv.Token.Hash) &&
		g.Due == w.Due && g.Attempts == w.Attempts && g.LastError == w.LastError &&
		times([]time.Time{got.SentAt, got.ExpiresAt, got.AcceptedAt, got.DeclinedAt, got.RevokedAt, got.LinkCopiedAt,
			g.NextAttempt, g.ClaimedAt, g.DeliveredAt, g.FailedAt, g.RemindedAt},
			[]time.Time{inv.SentAt, inv.ExpiresAt, inv.AcceptedAt, inv.DeclinedAt, inv.RevokedAt, inv.LinkCopiedAt,
				w.NextAttempt, w.ClaimedAt, w.DeliveredAt, w.FailedAt, w.RemindedAt})
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
