-- A vote counts for the spec and price it was cast on: after a re-quote the same approver votes
-- again on the new approval hash, so the key of a vote includes the hash.
ALTER TABLE votes DROP CONSTRAINT votes_pkey;
ALTER TABLE votes ADD PRIMARY KEY (request_id, voter_id, approval_hash);

-- The row every check of the monthly caps locks first (SELECT … FOR UPDATE), so two requests
-- can't both pass a cap that only one fits under.
CREATE TABLE budget_locks (
    scope   TEXT   PRIMARY KEY,
    touched BIGINT NOT NULL DEFAULT 0
);
INSERT INTO budget_locks (scope) VALUES ('monthly_caps');

-- How many answers to a purchase could not be read (so the channel is told when it can't be resolved).
ALTER TABLE requests ADD COLUMN unclear_answers BIGINT NOT NULL DEFAULT 0;

-- When a dispatcher started posting a notice: one claimed but never marked sent may have been
-- posted by a process that died, so a card is looked for before it is posted again.
ALTER TABLE notifications ADD COLUMN claimed_at BIGINT;
