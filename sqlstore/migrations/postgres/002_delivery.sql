-- Mail delivery state, written with the change that makes a message due.
ALTER TABLE invitations
    ADD COLUMN delivery_due        text        NOT NULL DEFAULT '',
    ADD COLUMN delivery_attempts   integer     NOT NULL DEFAULT 0,
    ADD COLUMN delivery_last_error text        NOT NULL DEFAULT '',
    ADD COLUMN delivery_next_at    timestamptz,
    ADD COLUMN delivered_at        timestamptz,
    ADD COLUMN delivery_failed_at  timestamptz;

-- DeliverDue reads the due messages in order of their next attempt.
CREATE INDEX invitations_delivery_due_idx ON invitations (delivery_next_at, id) WHERE delivery_due <> '';
