-- The invitations table for PostgreSQL 15 and later.
-- Times are timestamptz (microseconds); roles and metadata are JSON text so
-- that they read back byte for byte.
CREATE TABLE invitations (
    id          uuid        PRIMARY KEY,
    account_id  text        NOT NULL,
    email       text        NOT NULL,
    name        text        NOT NULL DEFAULT '',
    roles       text        NOT NULL,
    invited_by  text        NOT NULL DEFAULT '',
    metadata    text        NOT NULL DEFAULT '{}',
    state       text        NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    declined_at timestamptz,
    revoked_at  timestamptz,
    send_count  integer     NOT NULL,
    version     bigint      NOT NULL,
    key_id      text        NOT NULL,
    token_nonce bytea       NOT NULL,
    token_hash  bytea       NOT NULL
);

-- Lookup by link: one index probe.
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);

-- One pending invitation per account and email.
CREATE UNIQUE INDEX invitations_pending_email_key ON invitations (account_id, lower(email)) WHERE state = 'pending';

-- List, newest first, by keyset: all statuses, and filtered by state.
CREATE INDEX invitations_account_created_idx ON invitations (account_id, created_at DESC, id DESC);
CREATE INDEX invitations_account_state_created_idx ON invitations (account_id, state, created_at DESC, id DESC);
