-- History writes, in the change's own statement. An INSERT or UPDATE of an
-- invitation that records an event sets the new_event columns; the
-- triggers below move the event to the history and clear them, within
-- that statement. A change that stores nothing (a refused row, a lost
-- compare-and-set) fires no trigger, and no transaction is needed around
-- the two writes: a separate INSERT in a transaction cost about half as
-- much again as the change alone (BEGIN, a second statement, COMMIT).
-- The key ID of an event is its invitation's, as the row holds it.
ALTER TABLE invitations ADD COLUMN new_event_id TEXT;
ALTER TABLE invitations ADD COLUMN new_event_kind TEXT;
ALTER TABLE invitations ADD COLUMN new_event_at INTEGER;
ALTER TABLE invitations ADD COLUMN new_event TEXT;

-- The history without the unique index on the event ID (the Service
-- makes each ID a fresh version 7 UUID; the index was one more page
-- written with every change and served no query). SQLite cannot drop a
-- column's UNIQUE, so the table is rebuilt; its AUTOINCREMENT counter
-- goes with it, so that no position already handed out comes back.
CREATE TABLE invitations_events_010 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    invitation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    key_id TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL
);
INSERT INTO invitations_events_010 (seq, id, account_id, invitation_id, kind, at, key_id, event)
    SELECT seq, id, account_id, invitation_id, kind, at, key_id, event FROM invitations_events;
DELETE FROM sqlite_sequence WHERE name = 'invitations_events_010';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'invitations_events_010', seq FROM sqlite_sequence WHERE name = 'invitations_events';
DROP TABLE invitations_events;
ALTER TABLE invitations_events_010 RENAME TO invitations_events;
CREATE INDEX invitations_events_invitation_idx ON invitations_events (invitation_id, seq);
CREATE INDEX invitations_events_account_idx ON invitations_events (account_id, seq);

CREATE TRIGGER invitations_event_on_insert AFTER INSERT ON invitations
WHEN NEW.new_event IS NOT NULL
BEGIN
    INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, key_id, event)
        VALUES (NEW.new_event_id, NEW.account_id, NEW.id, NEW.new_event_kind, NEW.new_event_at, NEW.key_id, NEW.new_event);
    UPDATE invitations SET new_event_id = NULL, new_event_kind = NULL, new_event_at = NULL, new_event = NULL
        WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER invitations_event_on_update AFTER UPDATE OF new_event ON invitations
WHEN NEW.new_event IS NOT NULL
BEGIN
    INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, key_id, event)
        VALUES (NEW.new_event_id, NEW.account_id, NEW.id, NEW.new_event_kind, NEW.new_event_at, NEW.key_id, NEW.new_event);
    UPDATE invitations SET new_event_id = NULL, new_event_kind = NULL, new_event_at = NULL, new_event = NULL
        WHERE rowid = NEW.rowid;
END;
