-- Claimed attempts: when the attempt at the due message now under way
-- began, so that the resend cooldown counts a retry being sent. NULL when
-- no attempt is under way, as for every existing row.
ALTER TABLE invitations ADD COLUMN delivery_claimed_at INTEGER;
