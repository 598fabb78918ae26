-- A vote counts for the spec and price it was cast on: after a re-quote the same approver votes
-- again on the new approval hash, so the key of a vote includes the hash.
CREATE TABLE votes_per_hash (
    request_id    BIGINT  NOT NULL REFERENCES requests (id),
    voter_id      BIGINT  NOT NULL,
    voter_name    TEXT    NOT NULL,
    approve       BOOLEAN NOT NULL,
    approval_hash TEXT    NOT NULL,
    reason        TEXT,
    via           TEXT    NOT NULL,
    cast_at       BIGINT  NOT NULL,
    PRIMARY KEY (request_id, voter_id, approval_hash)
);
INSERT INTO votes_per_hash (request_id, voter_id, voter_name, approve, approval_hash, reason, via, cast_at)
    SELECT request_id, voter_id, voter_name, approve, approval_hash, reason, via, cast_at FROM votes;
DROP TABLE votes;
ALTER TABLE votes_per_hash RENAME TO votes;

-- The row every check of the monthly caps locks first, so two requests can't both pass a cap
-- that only one fits under (PostgreSQL runs them at once; SQLite has one writer anyway).
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
