-- Search by email prefix: a byte-wise ("C") range scan, exact for the
-- ASCII emails the Service stores, whatever the database's collation. It
-- covers what a page needs to pick its rows (order, status), so a search
-- reads index entries only, as many as there are matches, and the table
-- only for the rows of the page.
CREATE INDEX invitations_account_email_idx ON invitations (account_id, email COLLATE "C")
    INCLUDE (created_at, id, state, expires_at);

-- Count: the expired ones among the pending, without reading the table.
CREATE INDEX invitations_account_pending_expiry_idx ON invitations (account_id, expires_at) WHERE state = 'pending';
