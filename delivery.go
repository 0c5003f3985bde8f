package invitations

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxErrorLength bounds Delivery.LastError: enough for an SMTP reply.
const maxErrorLength = 500

// deliverBatch is how many due messages DeliverDue reads at a time.
const deliverBatch = 100

// DeliveryReport says what one DeliverDue run did.
type DeliveryReport struct {
	Attempted int // due messages this run claimed and tried to send
	Delivered int // of those, accepted by the Mailer
	Retrying  int // failed, to be retried after a backoff
	GaveUp    int // failed their last allowed attempt, or failed permanently: delivery marked failed
	Expired   int // not sent because the link had expired: delivery marked failed, Regenerate offered
	Skipped   int // taken by another process, or changed, before this run could claim them
}

// errLinkExpired is recorded for a due message whose link expired before
// it could be sent: sending it would only lead to "invitation expired".
var errLinkExpired = errors.New("not sent: the link expired before the message could be delivered; send a new invitation")

// scheduleMail marks a message due, in the same write as the change that
// calls for it. When the caller sends it right after storing it
// (sendsNow), that attempt holds it for a lease; if the process dies
// first, DeliverDue takes it over when the lease ends. Otherwise (inside a
// caller's transaction, InviteMany) it is due at once, for Deliver or the
// next DeliverDue.
func (s *Service) scheduleMail(inv *Invitation, kind MessageKind, now time.Time, sendsNow bool) {
	inv.Delivery.Due = kind
	inv.Delivery.Attempts = 0
	inv.Delivery.LastError = ""
	inv.Delivery.FailedAt = time.Time{}
	inv.Delivery.NextAttempt, inv.Delivery.ClaimedAt = now, time.Time{}
	if sendsNow {
		inv.Delivery.NextAttempt, inv.Delivery.ClaimedAt = now.Add(s.delivery.Lease), now
	}
}

// dropMail forgets a due message that no longer makes sense: the
// invitation was accepted, declined or revoked.
func dropMail(inv *Invitation) {
	inv.Delivery.Due = ""
	inv.Delivery.NextAttempt, inv.Delivery.ClaimedAt = time.Time{}, time.Time{}
}

// send gives the message to the Mailer, cut off well within the lease so
// that no other process takes the message over while it is being sent. A
// panicking Mailer counts as a failed attempt, not as a crash of the caller.
func (s *Service) send(ctx context.Context, msg Message) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.delivery.Lease/2)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			// The panic value is left out: it may hold the message, link included.
			err = fmt.Errorf("invitations: the Mailer panicked (%T)", v)
		}
	}()
	return s.mailer.Send(ctx, msg)
}

// deliver makes the synchronous attempt at a message just stored as due,
// records the outcome and returns the invitation as it now stands. Inside
// a caller's transaction it sends nothing: the message stays due.
func (s *Service) deliver(ctx context.Context, inv *Invitation, msg Message) (*Invitation, error) {
	if s.inTx {
		return inv.stripToken(), nil
	}
	sendErr := s.send(ctx, msg)
	recorded, _, recordErr := s.recordAttempt(ctx, inv, msg.Kind, s.sendOutcome(sendErr))
	if recorded != nil {
		inv = recorded
	}
	switch {
	case sendErr != nil:
		return inv.stripToken(), fmt.Errorf("%w: %w", ErrDelivery, sendErr)
	case recordErr != nil:
		// The mail went out; only its record is missing, so DeliverDue may
		// send it once more after the lease. inv is what the store holds.
		return inv.stripToken(), fmt.Errorf("invitations: message sent, but its delivery could not be recorded: %w", recordErr)
	}
	return inv.stripToken(), nil
}

// outcome is what became of one attempt.
type outcome int

const (
	superseded outcome = iota // the message was no longer due: nothing recorded
	delivered
	retrying
	gaveUp
	expired // not sent: the link had expired
)

var errNotDue = errors.New("message no longer due")

// recordAttempt stores what became of the due message of kind on inv, whose
// stored version inv holds; apply writes it into the Delivery. If the
// invitation changed meanwhile it is applied to the new version, unless
// the message is no longer due (revoked, accepted, regenerated), when there
// is nothing to record. inv itself is left as it was, so that a failed
// record leaves the caller holding what the store holds.
func (s *Service) recordAttempt(ctx context.Context, inv *Invitation, kind MessageKind, apply func(*Delivery, time.Time) outcome) (*Invitation, outcome, error) {
	// The first try works on inv itself, the version just stored; only its
	// Delivery and Version can change, and they are put back unless the
	// record lands on inv.
	delivery, version := inv.Delivery, inv.Version
	first := true
	load := func(ctx context.Context) (*Invitation, error) {
		if first {
			first = false
			return inv, nil
		}
		return s.byID(inv.AccountID, inv.ID)(ctx)
	}
	var result outcome
	// A delivery or a failure given up is recorded with its event; a retry
	// to come is not an event.
	rec := func() (EventKind, MessageKind) {
		switch result {
		case delivered:
			return EventDelivered, kind
		case gaveUp, expired:
			return EventDeliveryFailed, kind
		}
		return "", ""
	}
	out, _, ev, err := s.change(ctx, load, rec, func(cur *Invitation, now time.Time) error {
		if cur.Delivery.Due != kind {
			return errNotDue
		}
		result = apply(&cur.Delivery, now)
		return nil
	})
	if out != inv {
		inv.Delivery, inv.Version = delivery, version
	}
	if errors.Is(err, errNotDue) {
		return nil, superseded, nil
	}
	if err != nil {
		return nil, superseded, err
	}
	s.report(ctx, ev)
	return out, result, nil
}

// sendOutcome returns the record of a send that ended with sendErr, for
// recordAttempt: delivered, or a failure to retry after a backoff, or to
// give up on after the last attempt or a permanent error.
func (s *Service) sendOutcome(sendErr error) func(*Delivery, time.Time) outcome {
	return func(d *Delivery, now time.Time) outcome {
		if sendErr == nil {
			*d = Delivery{DeliveredAt: now, RemindedAt: d.RemindedAt}
			return delivered
		}
		d.Attempts++
		d.LastError = truncateError(sendErr.Error())
		d.ClaimedAt = time.Time{} // the attempt is over
		if errors.Is(sendErr, ErrPermanent) || d.Attempts >= s.delivery.MaxAttempts {
			d.Due, d.NextAttempt, d.FailedAt = "", time.Time{}, now
			return gaveUp
		}
		d.NextAttempt = now.Add(s.backoff(d.Attempts)).Truncate(time.Microsecond)
		return retrying
	}
}

// linkExpired records a due message dropped unsent because its link expired.
func linkExpired(d *Delivery, now time.Time) outcome {
	d.Due, d.NextAttempt, d.FailedAt, d.ClaimedAt = "", time.Time{}, now, time.Time{}
	d.LastError = errLinkExpired.Error()
	return expired
}

func truncateError(s string) string {
	if len(s) <= maxErrorLength {
		return s
	}
	return s[:maxErrorLength]
}

// backoff is the delay after the n-th failed attempt: Backoff doubled for
// each earlier failure, capped at MaxBackoff, with "equal jitter" (half
// fixed, half random) so that a burst of failures does not retry in step.
func (s *Service) backoff(n int) time.Duration {
	d := s.delivery.Backoff
	for i := 1; i < n && d < s.delivery.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.delivery.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Deliver sends the due message of one invitation now, if it has one: the
// call a host makes after committing a transaction in which a Service from
// InTx invited, resent or regenerated. The message is claimed as DeliverDue
// claims it, so that it is sent once even when DeliverDue runs at the same
// time. An invitation with nothing due, or whose message another process
// is sending or will retry after a backoff, is returned unchanged.
//
// It returns the invitation as stored after the attempt. A failed send
// returns it with an error matching ErrDelivery; the message is retried by
// DeliverDue as usual.
func (s *Service) Deliver(ctx context.Context, accountID string, id uuid.UUID) (*Invitation, error) {
	if s.inTx {
		return nil, ErrInTx
	}
	inv, err := s.byID(accountID, id)(ctx)
	if err != nil {
		return nil, err
	}
	if inv.Delivery.Due == "" || inv.Delivery.NextAttempt.After(s.clock()) {
		return inv.stripToken(), nil
	}
	claimed, err := s.claim(ctx, inv)
	if errors.Is(err, ErrConflict) {
		// Changed or claimed meanwhile: whoever won sends it, if it is still due.
		return s.Get(ctx, accountID, id)
	}
	if err != nil {
		return nil, err
	}
	out, _, sendErr := s.attemptDue(ctx, claimed)
	if sendErr != nil {
		return out.stripToken(), fmt.Errorf("%w: %w", ErrDelivery, sendErr)
	}
	return out.stripToken(), nil
}

// DeliverDue sends the messages whose attempt is due: those whose first
// attempt failed and whose backoff has passed, those made inside a
// caller's transaction (see InTx) or by InviteMany, and those left behind
// by a process that stopped between saving and sending. Run it on a
// schedule (every minute, say) from as many processes as you like: each
// due message is claimed with a compare-and-set before it is sent, so only
// one of them sends it. A message whose invitation was accepted, declined,
// revoked or regenerated meanwhile is dropped, not sent; one whose link has
// expired is not sent either, and its delivery is marked failed so that
// the admin sees it and can send a new invitation.
//
// A run reads the due messages in pages until none is due or ctx ends, and
// sends up to DeliveryPolicy.Concurrency of them at once; it returns when
// every message it claimed has been tried. The library starts no
// goroutine that outlives the call.
func (s *Service) DeliverDue(ctx context.Context) (DeliveryReport, error) {
	var r DeliveryReport
	if s.inTx {
		return r, ErrInTx
	}
	if err := s.scheduleReminders(ctx); err != nil {
		return r, err
	}
	var mu sync.Mutex // guards r while senders report
	work := make(chan *Invitation)
	var senders sync.WaitGroup
	for range s.delivery.Concurrency {
		senders.Go(func() {
			for inv := range work {
				_, result, _ := s.attemptDue(ctx, inv)
				mu.Lock()
				r.count(result)
				mu.Unlock()
			}
		})
	}
	err := s.claimDue(ctx, work, func(skipped bool) {
		mu.Lock()
		defer mu.Unlock()
		if skipped {
			r.Skipped++
		} else {
			r.Attempted++
		}
	})
	close(work)
	senders.Wait()
	return r, err
}

// claimDue reads pages of due messages and hands each one it claims to the
// senders; tally counts claims and skips. Claimed messages are due only
// after their lease, so the next page holds new ones; it stops when there
// are none, or none of a full page could be claimed.
func (s *Service) claimDue(ctx context.Context, work chan<- *Invitation, tally func(skipped bool)) error {
	for {
		due, err := s.store.ListDue(ctx, s.clock(), deliverBatch)
		if err != nil {
			return storeError(err)
		}
		claimedAny := false
		for _, inv := range due {
			if err := ctx.Err(); err != nil {
				return err
			}
			claimed, err := s.claim(ctx, inv)
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				tally(true)
				continue
			}
			if err != nil {
				return err
			}
			claimedAny = true
			select {
			case work <- claimed:
				tally(false)
			case <-ctx.Done():
				return ctx.Err() // the claim runs out; another run sends it
			}
		}
		if !claimedAny || len(due) < deliverBatch {
			return nil
		}
	}
}

// count adds one attempt's outcome to the report.
func (r *DeliveryReport) count(o outcome) {
	switch o {
	case delivered:
		r.Delivered++
	case retrying:
		r.Retrying++
	case gaveUp:
		r.GaveUp++
	case expired:
		r.Expired++
	}
}

// claim takes a listed due message for this process for one lease.
func (s *Service) claim(ctx context.Context, inv *Invitation) (*Invitation, error) {
	version := inv.Version
	now := s.clock()
	inv.Delivery.NextAttempt, inv.Delivery.ClaimedAt = now.Add(s.delivery.Lease), now
	inv.Version = version + 1
	if err := s.store.Update(ctx, inv, version, nil); err != nil { // a claim records no event
		return nil, storeError(err)
	}
	return inv, nil
}

// attemptDue renders and sends a claimed message, and records the outcome.
// It returns the invitation as stored after the record (the claimed one
// when nothing could be recorded), the outcome and the send's error.
func (s *Service) attemptDue(ctx context.Context, inv *Invitation) (*Invitation, outcome, error) {
	kind := inv.Delivery.Due
	if inv.StatusAt(s.clock()) == StatusExpired {
		out, result, err := s.recordAttempt(ctx, inv, kind, linkExpired)
		return storedAfter(inv, out, err), outcomeCounted(result, err), errLinkExpired
	}
	var sendErr error
	token, err := s.keys.rederive(inv.Token)
	if err != nil {
		// Only a new link can help: no retry will.
		sendErr = Permanent(fmt.Errorf("%w: regenerate the invitation", err))
	} else if msg, err := s.message(ctx, s.answers(), kind, inv, s.link.of(token)); err != nil {
		var hook *hookError
		if !errors.As(err, &hook) {
			err = Permanent(err) // a message that cannot be rendered never will be
		}
		sendErr = err
	} else {
		sendErr = s.send(ctx, msg)
	}
	out, result, err := s.recordAttempt(ctx, inv, kind, s.sendOutcome(sendErr))
	return storedAfter(inv, out, err), outcomeCounted(result, err), sendErr
}

// storedAfter is the invitation as stored after an attempt: the recorded
// one, or the claimed one when nothing was recorded.
func storedAfter(claimed, recorded *Invitation, err error) *Invitation {
	if err != nil || recorded == nil {
		return claimed
	}
	return recorded
}

// outcomeCounted is the outcome DeliveryReport counts for an attempt: the
// recorded one, or retrying when the record failed (err), since the claim
// then runs out and the message is tried again.
func outcomeCounted(result outcome, err error) outcome {
	if err != nil {
		return retrying
	}
	return result
}
