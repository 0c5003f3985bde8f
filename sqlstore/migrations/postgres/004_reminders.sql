-- Reminders: when the current link was last reminded of, and the
-- pending links that may need one, soonest expiry first.
ALTER TABLE invitations ADD COLUMN delivery_reminded_at timestamptz;

CREATE INDEX invitations_remindable_idx ON invitations (expires_at, id)
    WHERE state = 'pending' AND delivery_due = '' AND (delivery_reminded_at IS NULL OR delivery_reminded_at < sent_at);
