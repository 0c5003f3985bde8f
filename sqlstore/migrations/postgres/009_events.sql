-- History: one row per stored event, written in the same statement or
-- transaction as the change it records. Invitations from before have no
-- history. The feed (ListEvents) is ordered by (txid, seq): txid is the
-- writing transaction's ID, and a reader hands out only the events of
-- transactions below the oldest one still running, so that no event can
-- later appear before a position already read. seq orders a
-- transaction's own events and an invitation's history. event is the
-- Event's JSON form, which leaves out the token; key_id keeps the one
-- part of it an event carries.
CREATE TABLE invitations_events (
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq bigserial NOT NULL,
    id uuid NOT NULL,
    account_id text NOT NULL,
    invitation_id uuid NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    key_id text NOT NULL DEFAULT '',
    event json NOT NULL,
    PRIMARY KEY (txid, seq)
);

CREATE UNIQUE INDEX invitations_events_id_key ON invitations_events (id);
CREATE INDEX invitations_events_invitation_idx ON invitations_events (invitation_id, seq);
CREATE INDEX invitations_events_account_idx ON invitations_events (account_id, txid, seq);
