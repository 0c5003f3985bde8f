-- The invitations table for SQLite.
-- Times are INTEGER microseconds since the Unix epoch (UTC); roles and
-- metadata are JSON text; ids are the canonical UUID text.
CREATE TABLE invitations (
    id          TEXT    NOT NULL PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    roles       TEXT    NOT NULL,
    invited_by  TEXT    NOT NULL DEFAULT '',
    metadata    TEXT    NOT NULL DEFAULT '{}',
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    declined_at INTEGER,
    revoked_at  INTEGER,
    send_count  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    key_id      TEXT    NOT NULL,
    token_nonce BLOB    NOT NULL,
    token_hash  BLOB    NOT NULL
);

-- Lookup by link: one index probe.
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);

-- One pending invitation per account and email.
CREATE UNIQUE INDEX invitations_pending_email_key ON invitations (account_id, lower(email)) WHERE state = 'pending';

-- List, newest first, by keyset: all statuses, and filtered by state.
CREATE INDEX invitations_account_created_idx ON invitations (account_id, created_at DESC, id DESC);
CREATE INDEX invitations_account_state_created_idx ON invitations (account_id, state, created_at DESC, id DESC);
