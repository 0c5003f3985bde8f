-- History: one row per stored event, written in the same transaction as
-- the change it records. Invitations from before have no history. SQLite
-- has one writer at a time, so the order of seq is the order of commits;
-- AUTOINCREMENT keeps it from reusing the number of a purged last row, so
-- that a position already read never comes back. event is the Event's
-- JSON form, which leaves out the token; key_id keeps the one part of it
-- an event carries.
CREATE TABLE invitations_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    invitation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    key_id TEXT NOT NULL DEFAULT '',
    event TEXT NOT NULL
);

CREATE INDEX invitations_events_invitation_idx ON invitations_events (invitation_id, seq);
CREATE INDEX invitations_events_account_idx ON invitations_events (account_id, seq);
