package invitations

import (
	"context"
	"errors"
	"time"
)

// scheduleReminders makes a reminder due for each pending invitation whose
// link expires within DeliveryPolicy.RemindBefore and that was not
// reminded since it was last sent; the claims that follow send them. A
// reminder Config.Limits refuse is skipped (see remind). Each
// is marked with a compare-and-set, so that of several processes one
// schedules it; one that changed meanwhile is left for the next run.
func (s *Service) scheduleReminders(ctx context.Context) error {
	if s.delivery.RemindBefore == 0 {
		return nil
	}
	for {
		now := s.clock()
		found, err := s.store.ListRemindable(ctx, now, now.Add(s.delivery.RemindBefore), deliverBatch)
		if err != nil {
			return storeError(err)
		}
		marked := 0
		for _, inv := range found {
			err := s.remind(ctx, inv, now)
			switch {
			case err == nil:
				marked++
			case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			default:
				return storeError(err)
			}
		}
		if marked == 0 || len(found) < deliverBatch {
			return nil
		}
	}
}

// remind makes a reminder due on inv, a remindable invitation as listed.
// One the limits refuse (the account's mail quota is used up, or the
// invitation was mailed within the cooldown) is skipped, not delayed: it
// is marked reminded and nothing is due.
func (s *Service) remind(ctx context.Context, inv *Invitation, now time.Time) error {
	version := inv.Version
	inv.Delivery.RemindedAt = now
	inv.Version = version + 1
	if s.cooldown(inv, now) == nil {
		mail := inv.Clone()
		mail.SendCount++
		s.scheduleMail(mail, MessageReminder, now, false)
		err := s.limited(ctx, inv.AccountID, now, need{mails: 1}, storeWrite{inv: mail, version: version})
		if !errors.Is(err, ErrRateLimited) {
			return err
		}
	}
	return s.store.Update(ctx, inv, version, nil)
}
