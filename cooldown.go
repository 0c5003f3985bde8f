package invitations

import "time"

// cooldown refuses a mail to inv within Limits.ResendCooldown of its last
// mail (see lastMail).
func (s *Service) cooldown(inv *Invitation, now time.Time) error {
	if again := s.mailAgainAt(inv, now); again.After(now) {
		return &RateLimitedError{RetryAfter: again.Sub(now), Limit: LimitResendCooldown}
	}
	return nil
}

// mailAgainAt is when the resend cooldown lets inv be mailed again: its
// last mail at now plus the cooldown; zero without a cooldown or a mail.
func (s *Service) mailAgainAt(inv *Invitation, now time.Time) time.Time {
	last := s.lastMail(inv, now)
	if s.limits.ResendCooldown == 0 || last.IsZero() {
		return time.Time{}
	}
	return last.Add(s.limits.ResendCooldown)
}

// lastMail is when inv's latest mail that the resend cooldown counts was
// made, at now. Judging by delivery alone would let every Resend that
// reads the invitation while another one's mail is in flight pass, so the
// current message counts too: from when it was made due while no attempt
// at it has failed (it waits for its first attempt, made in a caller's
// transaction or by InviteMany, or is being sent), and from the start of
// an attempt under way (Delivery.ClaimedAt, within its lease), retries
// included. A message whose attempts failed and that waits out its
// backoff does not count, since nothing reached the invitee: then the
// last delivered mail does.
func (s *Service) lastMail(inv *Invitation, now time.Time) time.Time {
	d := &inv.Delivery
	last := d.DeliveredAt
	if d.Due == "" {
		return last
	}
	if d.Attempts == 0 {
		made := inv.SentAt
		if d.Due == MessageReminder {
			made = d.RemindedAt // a reminder keeps the link's SentAt
		}
		last = later(last, made)
	}
	if !d.ClaimedAt.IsZero() && now.Before(d.ClaimedAt.Add(s.delivery.Lease)) {
		last = later(last, d.ClaimedAt)
	}
	return last
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// ResendAllowedAt is when Limits.ResendCooldown lets inv be mailed again
// by Resend (or Regenerate), or the zero time when the cooldown does not
// hold it back at the Service's clock. The cooldown runs from the
// invitation's last mail: the one being sent or waiting for its first
// attempt, else the last delivered one; a failed send does not count.
// Like Actions, it reads only inv and makes no store call, so an admin
// page can say "you can send it again in 42 s" without trying. It is zero
// for an invitation that ended. The account's daily mail quota is not
// considered: it needs the Store.
func (s *Service) ResendAllowedAt(inv *Invitation) time.Time {
	if inv.State != StatusPending {
		return time.Time{} // ended: nothing will be mailed again
	}
	now := s.clock()
	if again := s.mailAgainAt(inv, now); again.After(now) {
		return again
	}
	return time.Time{}
}
