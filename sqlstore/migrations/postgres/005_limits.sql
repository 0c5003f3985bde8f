-- Limits: each account's mail ledger (when mail was made due, how much),
-- read newest first within the last 24 hours and pruned as it is written.
CREATE TABLE invitations_mail_log (
    account_id text        NOT NULL,
    at         timestamptz NOT NULL,
    n          integer     NOT NULL CHECK (n > 0)
);

CREATE INDEX invitations_mail_log_account_at_idx ON invitations_mail_log (account_id, at);

-- The pending cap's bound per account (see invitations.WorkingBound), so
-- that the working links are counted now and then, not on every call.
CREATE TABLE invitations_account_limits (
    account_id    text        PRIMARY KEY,
    working_bound integer     NOT NULL,
    counted_at    timestamptz NOT NULL
);
