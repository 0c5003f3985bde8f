package invitations

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MaxInviteMany is the most rows one InviteMany call takes.
const MaxInviteMany = 1000

// InviteResult is what became of one row of InviteMany: the stored
// invitation, or the row's own error.
type InviteResult struct {
	Invitation *Invitation
	Err        error
}

// InviteMany invites many people at once, one result per input, in order.
// Each row succeeds or fails on its own, with the errors Invite gives
// (*InputError, *AlreadyInvitedError, ErrAlreadyMember); a row that names
// an email an earlier row of the same call already invited fails with an
// *AlreadyInvitedError naming that row's invitation. The call's own error
// is only for what fails every row: more than MaxInviteMany rows (an
// *InputError), a cancelled context, a store that is down. What the call
// returns is what the store holds: a call error means none of its rows is
// stored; otherwise every stored row has its invitation (and its
// EventInvited), and no row reported with an error is stored, also when
// the context ends midway (the rows not stored then fail with its error).
//
// The mail of every stored row is recorded as due at once and sent by the
// next DeliverDue (or by Deliver), not inside the call: a thousand SMTP
// round trips have no place in a request. Rows with SkipMail get none. On
// sqlstore a call is a few statements, whatever the number of rows.
//
// Under Config.Limits each row counts as one Invite: the rows of an
// account are stored in order while its mail quota and pending cap allow,
// and the rows beyond fail on their own with a *RateLimitedError or
// ErrTooManyPending.
func (s *Service) InviteMany(ctx context.Context, in []InviteInput) ([]InviteResult, error) {
	if len(in) > MaxInviteMany {
		return nil, inputError("invitations", fmt.Sprintf("at most %d rows per call", MaxInviteMany))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	results := make([]InviteResult, len(in))
	now := s.clock()
	seen := make(map[[2]string]uuid.UUID, len(in)) // account and email -> the row that invited it
	var batch []*Invitation
	var evs []*Event // evs[i] records batch[i]
	var rows []int   // batch[i] is the invitation of in[rows[i]]
	host := s.answers()
	for i, row := range in {
		inv, _, err := s.newPending(ctx, row, now, false, host)
		if err == nil {
			key := [2]string{inv.AccountID, inv.Email}
			if id, dup := seen[key]; dup {
				err = &AlreadyInvitedError{ExistingID: id}
			} else {
				seen[key] = inv.ID
			}
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			var hook *hookError
			if errors.As(err, &hook) && hook.hook != "IsMember" {
				return nil, err // it would fail every row of the account
			}
			results[i].Err = err
			continue
		}
		batch = append(batch, inv)
		evs = append(evs, s.newEvent(ctx, EventInvited, "", now, inv))
		rows = append(rows, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	rowErrs, err := s.createMany(ctx, batch, evs, now)
	if err != nil {
		return nil, err
	}
	for j, inv := range batch {
		i := rows[j]
		if rowErrs[j] != nil {
			results[i].Err = storeError(rowErrs[j])
			continue
		}
		s.report(ctx, evs[j])
		results[i].Invitation = inv.stripToken()
	}
	return results, nil
}

// createMany stores a batch and returns each row's error. Under counted
// limits each account's rows are stored within its lock, in order, as far
// as its room goes; the rest fail with the limit's error. Each account
// commits on its own (one lock at a time cannot deadlock), so a failure
// after the first account is reported per row: its error is the call's
// only while nothing is stored.
func (s *Service) createMany(ctx context.Context, batch []*Invitation, evs []*Event, now time.Time) ([]error, error) {
	if !s.limits.needLimitStore() {
		return s.storeMany(ctx, s.store, batch, evs)
	}
	ls, err := s.limitStore()
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(batch))
	byAccount := make(map[string][]int)
	var accounts []string
	for i, inv := range batch {
		if _, seen := byAccount[inv.AccountID]; !seen {
			accounts = append(accounts, inv.AccountID)
		}
		byAccount[inv.AccountID] = append(byAccount[inv.AccountID], i)
	}
	for k, account := range accounts {
		which := byAccount[account]
		err := ls.LockAccount(ctx, account, func(ctx context.Context, st LimitStore) error {
			return s.createWithin(ctx, st, account, now, batch, evs, which, errs)
		})
		if err == nil || s.accountLanded(ctx, err, batch, which, errs) {
			continue
		}
		if k == 0 {
			return nil, err // nothing of the call is stored
		}
		// Earlier accounts' rows are committed: they are reported as
		// stored, and this account's rows and the rest fail with the
		// error, none of them stored.
		for _, rest := range accounts[k:] {
			for _, i := range byAccount[rest] {
				errs[i] = err
			}
		}
		return errs, nil
	}
	return errs, nil
}

// accountLanded tells whether an account's rows, whose LockAccount failed
// with err, were committed after all (see landed): createWithin had
// reported every row, and one row it stored tells.
func (s *Service) accountLanded(ctx context.Context, err error, batch []*Invitation, which []int, errs []error) bool {
	for _, i := range which {
		if errs[i] == nil {
			return s.landed(ctx, err, batch[i])
		}
	}
	return false
}

// createWithin stores the rows which of batch, all of one account whose
// lock is held, while the account has room, and records their mail. A
// row that fails on its own (its email is invited already) gives its room
// to the rows after it.
func (s *Service) createWithin(ctx context.Context, st LimitStore, account string, now time.Time, batch []*Invitation, evs []*Event, which []int, errs []error) error {
	want := need{links: len(which)}
	for _, i := range which {
		want.mails += batch[i].SendCount
	}
	r, err := s.roomAt(ctx, st, account, now, want)
	if err != nil {
		return err
	}
	mailed, made := 0, 0
	for len(which) > 0 {
		var admitted, rest []int
		for _, i := range which {
			n := need{mails: batch[i].SendCount, links: 1}
			if err := r.refuse(n); err != nil {
				// Its error as of its first turn, unless room frees up for it.
				if errs[i] == nil {
					errs[i] = err
				}
				rest = append(rest, i)
				continue
			}
			r.take(n)
			admitted = append(admitted, i)
		}
		if len(admitted) == 0 {
			break
		}
		invs, es := make([]*Invitation, len(admitted)), make([]*Event, len(admitted))
		for j, i := range admitted {
			invs[j], es[j] = batch[i], evs[i]
		}
		rowErrs, err := s.storeMany(ctx, st, invs, es)
		if err != nil {
			return err
		}
		for j, i := range admitted {
			errs[i] = rowErrs[j]
			if rowErrs[j] != nil {
				// Not stored: its room goes back to the rows still waiting.
				r.take(need{mails: -batch[i].SendCount, links: -1})
			} else {
				mailed += batch[i].SendCount
				made++
			}
		}
		which = rest
	}
	if made > 0 {
		if err := s.keepBound(ctx, st, account, r, made); err != nil {
			return err
		}
	}
	return s.recordMails(ctx, st, account, now, mailed)
}

// storeMany is CreateMany with its result checked.
func (s *Service) storeMany(ctx context.Context, st Store, batch []*Invitation, evs []*Event) ([]error, error) {
	rowErrs, err := st.CreateMany(ctx, batch, evs)
	if err != nil {
		return nil, storeError(err)
	}
	if len(rowErrs) != len(batch) {
		return nil, fmt.Errorf("invitations: store: CreateMany returned %d results for %d invitations", len(rowErrs), len(batch))
	}
	return rowErrs, nil
}
