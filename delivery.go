package invitations

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
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
	GaveUp    int // failed their last allowed attempt: delivery marked failed
	Skipped   int // taken by another process, or changed, before this run could claim them
}

// scheduleMail marks a message due, in the same write as the change that
// calls for it. The synchronous attempt that follows holds it for a lease;
// if the process dies first, DeliverDue takes it over when the lease ends.
func (s *Service) scheduleMail(inv *Invitation, kind MessageKind, now time.Time) {
	inv.Delivery.Due = kind
	inv.Delivery.Attempts = 0
	inv.Delivery.LastError = ""
	inv.Delivery.FailedAt = time.Time{}
	inv.Delivery.NextAttempt = now.Add(s.delivery.Lease)
}

// dropMail forgets a due message that no longer makes sense: the
// invitation was accepted, declined or revoked.
func dropMail(inv *Invitation) {
	inv.Delivery.Due = ""
	inv.Delivery.NextAttempt = time.Time{}
}

// send gives the message to the Mailer, cut off well within the lease so
// that no other process takes the message over while it is being sent.
func (s *Service) send(ctx context.Context, msg Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.delivery.Lease/2)
	defer cancel()
	return s.mailer.Send(ctx, msg)
}

// deliver makes the synchronous attempt at a message just stored as due,
// records the outcome and returns the invitation as it now stands.
func (s *Service) deliver(ctx context.Context, inv *Invitation, msg Message) (*Invitation, error) {
	sendErr := s.send(ctx, msg)
	recorded, _, recordErr := s.recordAttempt(ctx, inv, msg.Kind, sendErr, false)
	if recorded != nil {
		inv = recorded
	}
	switch {
	case sendErr != nil:
		return inv.withoutToken(), fmt.Errorf("%w: %w", ErrDelivery, sendErr)
	case recordErr != nil:
		// The mail went out; only its record is missing, so DeliverDue may
		// send it once more after the lease.
		return inv.withoutToken(), fmt.Errorf("invitations: message sent, but its delivery could not be recorded: %w", recordErr)
	}
	return inv.withoutToken(), nil
}

// outcome is what became of one attempt.
type outcome int

const (
	superseded outcome = iota // the message was no longer due: nothing recorded
	delivered
	retrying
	gaveUp
)

var errNotDue = errors.New("message no longer due")

// recordAttempt stores the outcome of an attempt at kind on inv, whose
// stored version inv holds. If the invitation changed meanwhile the
// outcome is applied to the new version, unless the message is no longer
// due (revoked, accepted, regenerated), when there is nothing to record.
func (s *Service) recordAttempt(ctx context.Context, inv *Invitation, kind MessageKind, sendErr error, permanent bool) (*Invitation, outcome, error) {
	first := true
	load := func(ctx context.Context) (*Invitation, error) {
		if first { // the version in hand is the one just stored
			first = false
			return inv, nil
		}
		return s.byID(inv.AccountID, inv.ID)(ctx)
	}
	var result outcome
	out, now, err := s.change(ctx, load, func(cur *Invitation, now time.Time) error {
		if cur.Delivery.Due != kind {
			return errNotDue
		}
		result = s.applyOutcome(&cur.Delivery, now, sendErr, permanent)
		return nil
	})
	if errors.Is(err, errNotDue) {
		return nil, superseded, nil
	}
	if err != nil {
		return nil, superseded, err
	}
	switch result {
	case delivered:
		s.emit(ctx, EventDelivered, now, out)
	case gaveUp:
		s.emit(ctx, EventDeliveryFailed, now, out)
	}
	return out, result, nil
}

func (s *Service) applyOutcome(d *Delivery, now time.Time, sendErr error, permanent bool) outcome {
	if sendErr == nil {
		*d = Delivery{DeliveredAt: now}
		return delivered
	}
	d.Attempts++
	d.LastError = sendErr.Error()
	if len(d.LastError) > maxErrorLength {
		d.LastError = d.LastError[:maxErrorLength]
	}
	if permanent || d.Attempts >= s.delivery.MaxAttempts {
		d.Due, d.NextAttempt, d.FailedAt = "", time.Time{}, now
		return gaveUp
	}
	d.NextAttempt = now.Add(s.backoff(d.Attempts)).Truncate(time.Microsecond)
	return retrying
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

// DeliverDue sends the messages whose attempt is due: those whose first
// attempt failed and whose backoff has passed, and those left behind by a
// process that stopped between saving and sending. Run it on a schedule
// (every minute, say) from as many processes as you like: each due message
// is claimed with a compare-and-set before it is sent, so only one of them
// sends it. A message whose invitation was accepted, declined, revoked or
// regenerated meanwhile is dropped, not sent. The library starts no
// goroutine of its own.
func (s *Service) DeliverDue(ctx context.Context) (DeliveryReport, error) {
	var r DeliveryReport
	for {
		due, err := s.store.ListDue(ctx, s.clock(), deliverBatch)
		if err != nil {
			return r, storeError(err)
		}
		claimedAny := false
		for _, inv := range due {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			claimed, err := s.claim(ctx, inv)
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				r.Skipped++
				continue
			}
			if err != nil {
				return r, err
			}
			claimedAny = true
			r.Attempted++
			switch s.attemptDue(ctx, claimed) {
			case delivered:
				r.Delivered++
			case retrying:
				r.Retrying++
			case gaveUp:
				r.GaveUp++
			}
		}
		// Claimed and failed messages are now due later, so a fresh read
		// returns new ones; stop when there are none or none could be had.
		if !claimedAny || len(due) < deliverBatch {
			return r, nil
		}
	}
}

// claim takes a listed due message for this process for one lease.
func (s *Service) claim(ctx context.Context, inv *Invitation) (*Invitation, error) {
	version := inv.Version
	inv.Delivery.NextAttempt = s.clock().Add(s.delivery.Lease)
	inv.Version = version + 1
	if err := s.store.Update(ctx, inv, version); err != nil {
		return nil, storeError(err)
	}
	return inv, nil
}

// attemptDue renders and sends a claimed message, and records the outcome.
func (s *Service) attemptDue(ctx context.Context, inv *Invitation) outcome {
	kind := inv.Delivery.Due
	var sendErr error
	permanent := false
	token, err := s.keys.rederive(inv.Token)
	if err != nil {
		// Only a new link can help: no retry will.
		sendErr, permanent = fmt.Errorf("%w: regenerate the invitation", err), true
	} else if msg, err := s.message(kind, inv, s.link.of(token)); err != nil {
		sendErr, permanent = err, true
	} else {
		sendErr = s.send(ctx, msg)
	}
	_, result, err := s.recordAttempt(ctx, inv, kind, sendErr, permanent)
	if err != nil {
		// The claim runs out and the message is tried again.
		return retrying
	}
	return result
}
