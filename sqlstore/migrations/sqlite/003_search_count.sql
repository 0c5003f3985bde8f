-- Search by email prefix: a range scan of the account's emails.
CREATE INDEX invitations_account_email_idx ON invitations (account_id, email);

-- Count: the expired ones among the pending, without reading the table.
CREATE INDEX invitations_account_pending_expiry_idx ON invitations (account_id, expires_at) WHERE state = 'pending';
