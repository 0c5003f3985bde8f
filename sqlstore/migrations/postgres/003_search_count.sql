-- Search by email prefix: a byte-wise ("C") range scan, exact for the
-- ASCII emails the Service stores, whatever the database's collation.
CREATE INDEX invitations_account_email_idx ON invitations (account_id, email COLLATE "C");

-- Count: the expired ones among the pending, without reading the table.
CREATE INDEX invitations_account_pending_expiry_idx ON invitations (account_id, expires_at) WHERE state = 'pending';
