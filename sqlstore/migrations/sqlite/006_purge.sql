-- Purge: ended invitations by when they ended, and pending ones by when
-- their link expired, so that each batch of DeleteEnded reads only rows
-- it deletes, however many there are. Both are on expressions only the
-- purge uses, so that no planner takes them for an account's list; they
-- carry the id, so that a batch is picked off the index alone.
CREATE INDEX invitations_ended_idx ON invitations ((CASE state
    WHEN 'accepted' THEN accepted_at WHEN 'declined' THEN declined_at WHEN 'revoked' THEN revoked_at END), id);

CREATE INDEX invitations_expired_idx ON invitations ((CASE state WHEN 'pending' THEN expires_at END), id);
