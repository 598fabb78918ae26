-- The workers lease's epoch: it goes up each time the lease passes to another holder, and every
-- write of the lease holder's process checks it, so a paused old leader that wakes up cannot act.
ALTER TABLE leases ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
