-- History writes, in the change's own statement, and one index fewer.
--
-- An INSERT or UPDATE of an invitation that records an event sets the
-- new_event columns; a trigger moves the event to the history, adds its
-- position to the invitation's event_seqs and clears them, within that
-- statement. A change that stores nothing (a refused row, a lost
-- compare-and-set) fires no trigger, and no transaction is needed around
-- the writes: a separate INSERT in a transaction cost about half as much
-- again as the change alone (BEGIN, a second statement, COMMIT). The key
-- ID of an event is its invitation's, as the row holds it.
--
-- event_seqs (the positions of the invitation's events, comma-separated)
-- finds an invitation's history from its row, which every change writes
-- anyway, in place of an index on (invitation_id, seq) that every event
-- wrote a page of; deleting an invitation deletes its history through it.
ALTER TABLE invitations ADD COLUMN new_event_id TEXT;
ALTER TABLE invitations ADD COLUMN new_event_kind TEXT;
ALTER TABLE invitations ADD COLUMN new_event_at INTEGER;
ALTER TABLE invitations ADD COLUMN new_event TEXT;
ALTER TABLE invitations ADD COLUMN event_seqs TEXT;

UPDATE invitations SET event_seqs =
    (SELECT group_concat(seq) FROM invitations_events e WHERE e.invitation_id = invitations.id)
    WHERE id IN (SELECT invitation_id FROM invitations_events);

-- The history without its unique index on the event ID (the Service
-- makes each ID a fresh version 7 UUID; no query reads by it), without
-- the index on the invitation, and without AUTOINCREMENT, whose counter
-- was one more page written with every event. A new row's position is
-- one past the highest in the table, so the row of the highest position
-- is never deleted: when a purge takes the newest event, its row stays
-- as a placeholder (every column empty; the feeds skip it), so that no
-- position already handed out comes back. SQLite cannot drop a column's
-- UNIQUE, so the table is rebuilt; a counter above the highest row (its
-- event purged) becomes a placeholder.
CREATE TABLE invitations_events_010 (
    seq INTEGER PRIMARY KEY,
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
INSERT INTO invitations_events_010 (seq, id, account_id, invitation_id, kind, at, key_id, event)
    SELECT seq, '', '', '', '', 0, '', '' FROM sqlite_sequence
    WHERE name = 'invitations_events' AND seq > (SELECT coalesce(max(seq), 0) FROM invitations_events);
DROP TABLE invitations_events;
ALTER TABLE invitations_events_010 RENAME TO invitations_events;
CREATE INDEX invitations_events_account_idx ON invitations_events (account_id, seq);

CREATE TRIGGER invitations_event_on_insert AFTER INSERT ON invitations
WHEN NEW.new_event IS NOT NULL
BEGIN
    INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, key_id, event)
        VALUES (NEW.new_event_id, NEW.account_id, NEW.id, NEW.new_event_kind, NEW.new_event_at, NEW.key_id, NEW.new_event);
    UPDATE invitations SET new_event_id = NULL, new_event_kind = NULL, new_event_at = NULL, new_event = NULL,
        event_seqs = coalesce(event_seqs || ',', '') || last_insert_rowid()
        WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER invitations_event_on_update AFTER UPDATE OF new_event ON invitations
WHEN NEW.new_event IS NOT NULL
BEGIN
    INSERT INTO invitations_events (id, account_id, invitation_id, kind, at, key_id, event)
        VALUES (NEW.new_event_id, NEW.account_id, NEW.id, NEW.new_event_kind, NEW.new_event_at, NEW.key_id, NEW.new_event);
    UPDATE invitations SET new_event_id = NULL, new_event_kind = NULL, new_event_at = NULL, new_event = NULL,
        event_seqs = coalesce(event_seqs || ',', '') || last_insert_rowid()
        WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER invitations_history_on_delete AFTER DELETE ON invitations
WHEN OLD.event_seqs IS NOT NULL
BEGIN
    DELETE FROM invitations_events
        WHERE account_id = '' AND seq < (SELECT max(seq) FROM invitations_events);
    UPDATE invitations_events SET id = '', account_id = '', invitation_id = '', kind = '', at = 0, key_id = '', event = ''
        WHERE seq = (SELECT max(seq) FROM invitations_events)
        AND seq IN (SELECT value FROM json_each('[' || OLD.event_seqs || ']'));
    DELETE FROM invitations_events
        WHERE seq IN (SELECT value FROM json_each('[' || OLD.event_seqs || ']')) AND account_id <> '';
END;
