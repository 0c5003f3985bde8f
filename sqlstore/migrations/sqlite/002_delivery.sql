-- Mail delivery state, written with the change that makes a message due.
ALTER TABLE invitations ADD COLUMN delivery_due        TEXT    NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN delivery_attempts   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN delivery_last_error TEXT    NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN delivery_next_at    INTEGER;
ALTER TABLE invitations ADD COLUMN delivered_at        INTEGER;
ALTER TABLE invitations ADD COLUMN delivery_failed_at  INTEGER;

-- DeliverDue reads the due messages in order of their next attempt.
CREATE INDEX invitations_delivery_due_idx ON invitations (delivery_next_at, id) WHERE delivery_due <> '';
