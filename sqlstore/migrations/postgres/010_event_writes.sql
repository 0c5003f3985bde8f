-- History writes: the unique index on the event ID goes. The Service
-- makes each ID a fresh version 7 UUID, no query reads by it, and it was
-- one more index to write with every change. (SQLite's migration 010
-- drops it too.)
DROP INDEX invitations_events_id_key;
