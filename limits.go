package invitations

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// MailWindow is the rolling window of Limits.MailsPerAccountPerDay.
const MailWindow = 24 * time.Hour

// Limits bound what one account can make the Service send and hold, so
// that an invitation form cannot be turned into a spam cannon (sign up,
// then "invite" thousands of strangers). The zero value of each field
// means no limit. Recommended for a SaaS: RecommendedLimits.
//
// The mail quota and the pending cap are counted in the Store, under a
// lock on the account (see LimitStore), so that every Service sharing one
// database enforces one limit, exactly.
type Limits struct {
	// MailsPerAccountPerDay caps the mails of any kind (invite, resend,
	// regenerate, reminder) one account can have made due in any rolling
	// MailWindow (24 hours). A message counts once, when it is made due:
	// retries of it don't count again, and InviteInput.SkipMail counts
	// nothing. Over it, calls fail with a *RateLimitedError.
	MailsPerAccountPerDay int
	// ResendCooldown is the least time between two mails of one
	// invitation, whatever races: counted from its last mail, the one
	// being sent or waiting for its first attempt included; a failed send
	// does not count. Within it, Resend and Regenerate fail with a
	// *RateLimitedError, Service.Actions leaves them out, and
	// Service.ResendAllowedAt says when they will work.
	ResendCooldown time.Duration
	// MaxPendingPerAccount caps the invitations of one account whose link
	// still works (pending and not expired). Invite and Regenerate beyond
	// it fail with ErrTooManyPending; expired links don't count.
	MaxPendingPerAccount int
}

// RecommendedLimits are the limits this library suggests for a SaaS whose
// users can sign up by themselves: far above what an honest team sends,
// far below what a spammer needs.
var RecommendedLimits = Limits{
	MailsPerAccountPerDay: 500,
	ResendCooldown:        time.Minute,
	MaxPendingPerAccount:  10_000,
}

func (l Limits) check() error {
	if l.MailsPerAccountPerDay < 0 || l.ResendCooldown < 0 || l.MaxPendingPerAccount < 0 {
		return configError("Limits must not be negative")
	}
	return nil
}

// needLimitStore says whether the limits count in the Store: the mail
// quota and the pending cap do, the cooldown does not.
func (l Limits) needLimitStore() bool {
	return l.MailsPerAccountPerDay > 0 || l.MaxPendingPerAccount > 0
}

// limitWrite says whether a write that needs n must be made under the
// account's lock: it makes mail due under the quota, or links valid under
// the pending cap.
func (l Limits) limitWrite(n need) bool {
	return (n.mails > 0 && l.MailsPerAccountPerDay > 0) || (n.links > 0 && l.MaxPendingPerAccount > 0)
}

// RateLimitedError is returned (wrapped or not) when a limit of
// Config.Limits refuses a mail. It matches ErrRateLimited.
type RateLimitedError struct {
	// RetryAfter is how long until the mail would be allowed.
	RetryAfter time.Duration
	// Limit names the limit that refused it: LimitMailsPerDay or
	// LimitResendCooldown.
	Limit LimitName
}

// LimitName names a field of Limits whose limit can refuse a mail, in
// the snake_case an API shows (invitationshttp's problem "limit").
type LimitName string

// The values of RateLimitedError.Limit.
const (
	// LimitMailsPerDay names Limits.MailsPerAccountPerDay.
	LimitMailsPerDay LimitName = "mails_per_account_per_day"
	// LimitResendCooldown names Limits.ResendCooldown.
	LimitResendCooldown LimitName = "resend_cooldown"
)

// Error implements error.
func (e *RateLimitedError) Error() string {
	msg := ErrRateLimited.Error()
	if e.Limit != "" {
		msg += " (" + string(e.Limit) + ")"
	}
	return msg + ": retry after " + strconv.FormatInt(int64(e.RetryAfter.Round(time.Second)/time.Second), 10) + "s"
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// boundTrust is how long a LinkBound is trusted after its exact count:
// links made by a Service without the cap (which does not raise it) can
// put an account over the cap by what they made in this time at most.
const boundTrust = time.Hour

// need is what one limited write asks of its account's limits.
type need struct {
	mails int // mails it makes due
	links int // links it makes valid that were not
}

// room is what an account's limits still allow at now, read within
// LockAccount: how many mails and valid links, and when the next mail
// would be allowed once the quota is used up. bound is the LinkBound the
// links room was read from, raised as links are made.
type room struct {
	mails, links int
	mailsAgain   time.Duration
	bound        LinkBound
}

// noLimit stands for a limit that is not set.
const noLimit = int(^uint(0) >> 1)

// roomAt reads the account's room for a write that needs want; only the
// limits that are set and that want asks of are read.
func (s *Service) roomAt(ctx context.Context, st LimitStore, accountID string, now time.Time, want need) (room, error) {
	r := room{mails: noLimit, links: noLimit}
	if quota := s.limits.MailsPerAccountPerDay; quota > 0 && want.mails > 0 {
		since := now.Add(-MailWindow)
		used, err := st.CountMails(ctx, accountID, since)
		if err != nil {
			return r, storeError(err)
		}
		r.mails = max(quota-used, 0)
		if r.mails == 0 {
			if r.mailsAgain, err = mailsAgain(ctx, st, accountID, since, now, quota); err != nil {
				return r, err
			}
		}
	}
	if limit := s.limits.MaxPendingPerAccount; limit > 0 && want.links > 0 {
		b, err := st.ValidLinksBound(ctx, accountID)
		if err != nil {
			return r, storeError(err)
		}
		// Count exactly only when the bound is stale or too close to the
		// cap to allow the write: a refusal is always from an exact count.
		if age := now.Sub(b.CountedAt); b.CountedAt.IsZero() || age < 0 || age >= boundTrust || b.Links+want.links > limit {
			n, err := st.CountValidLinks(ctx, accountID, now, limit)
			if err != nil {
				return r, storeError(err)
			}
			b = LinkBound{Links: n, CountedAt: now}
		}
		r.links, r.bound = max(limit-b.Links, 0), b
	}
	return r, nil
}

// keepBound stores the account's bound raised by the links made since it
// was read.
func (s *Service) keepBound(ctx context.Context, st LimitStore, accountID string, r room, made int) error {
	if s.limits.MaxPendingPerAccount == 0 || r.bound.CountedAt.IsZero() {
		return nil
	}
	b := r.bound
	b.Links += made
	if err := st.SetValidLinksBound(ctx, accountID, b); err != nil {
		return storeError(err)
	}
	return nil
}

// mailsAgain is how long until an account whose quota is used up may mail
// again: until the mail that filled the quota, counting from the newest,
// leaves the window.
func mailsAgain(ctx context.Context, st LimitStore, accountID string, since, now time.Time, quota int) (time.Duration, error) {
	records, err := st.RecentMails(ctx, accountID, since, quota)
	if err != nil {
		return 0, storeError(err)
	}
	used := 0
	for _, rec := range records {
		used += rec.Count
		if used >= quota {
			return max(rec.At.Add(MailWindow).Sub(now), time.Microsecond), nil
		}
	}
	return time.Microsecond, nil // the records changed under us: try again at once
}

// refuse returns the error for a need that r cannot meet, or nil.
func (r room) refuse(n need) error {
	switch {
	case n.links > r.links:
		return fmt.Errorf("%w: the account has reached its limit", ErrTooManyPending)
	case n.mails > r.mails:
		return &RateLimitedError{RetryAfter: r.mailsAgain, Limit: LimitMailsPerDay}
	}
	return nil
}

// take uses up n of r.
func (r *room) take(n need) {
	if r.mails != noLimit {
		r.mails -= n.mails
	}
	if r.links != noLimit {
		r.links -= n.links
	}
}

// storeWrite is the one store write of a call that a limit may restrict: a
// Create of inv, or an Update of inv from version. A value, not a
// closure, so that calls no limit restricts allocate nothing for it.
type storeWrite struct {
	inv     *Invitation
	version int64
	create  bool
	event   *Event // what the write records, stored with it
}

func (w storeWrite) to(ctx context.Context, st Store) error {
	if w.create {
		return st.Create(ctx, w.inv, w.event)
	}
	return st.Update(ctx, w.inv, w.version, w.event)
}

// limited makes w under the account's limits: within the account's lock
// it checks that the account has room for n, makes w on the locked store,
// and records the mails it made due. A write no counted limit restricts is
// made on the Service's store, without the lock.
func (s *Service) limited(ctx context.Context, accountID string, now time.Time, n need, w storeWrite) error {
	err := s.limitedWrite(ctx, accountID, now, n, w)
	if err != nil && s.landed(ctx, err, w.inv) {
		return nil
	}
	return err
}

func (s *Service) limitedWrite(ctx context.Context, accountID string, now time.Time, n need, w storeWrite) error {
	if !s.limits.limitWrite(n) {
		return w.to(ctx, s.store)
	}
	ls, err := s.limitStore()
	if err != nil {
		return err
	}
	return ls.LockAccount(ctx, accountID, func(ctx context.Context, st LimitStore) error {
		r, err := s.roomAt(ctx, st, accountID, now, n)
		if err != nil {
			return err
		}
		if err := r.refuse(n); err != nil {
			return err
		}
		if err := w.to(ctx, st); err != nil {
			return err
		}
		if err := s.keepBound(ctx, st, accountID, r, n.links); err != nil {
			return err
		}
		return s.recordMails(ctx, st, accountID, now, n.mails)
	})
}

// recordMails adds mails to the account's ledger, forgetting what has
// left the window.
func (s *Service) recordMails(ctx context.Context, st LimitStore, accountID string, now time.Time, mails int) error {
	if mails == 0 || s.limits.MailsPerAccountPerDay == 0 {
		return nil
	}
	if err := st.RecordMails(ctx, accountID, now, mails, now.Add(-MailWindow)); err != nil {
		return storeError(err)
	}
	return nil
}

// limitStore is the Service's store as a LimitStore. New checks it; a
// Service from InTx may have been given a Store that is not one.
func (s *Service) limitStore() (LimitStore, error) {
	ls, ok := s.store.(LimitStore)
	if !ok {
		return nil, configError("Limits need a Store that implements LimitStore")
	}
	return ls, nil
}
