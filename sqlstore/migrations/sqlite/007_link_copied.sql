-- Copied links: when an admin last copied the current link (CopyLink),
-- NULL while it only went by mail. Existing rows read as never copied.
ALTER TABLE invitations ADD COLUMN link_copied_at INTEGER;
