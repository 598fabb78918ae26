-- A fleet: a request whose approved budget keeps `desired` spot servers running. `approved` is the
-- most servers the budget was approved for; refills wait until `next_try_at` after a refusal that
-- may pass (no stock, a market above the bid), with the reason in `waiting`. Reclamations and
-- refills not yet told are counted in `untold_*` in the transaction that made them, and turned
-- into one summary in the fleet's thread (numbered by `news`, the last told at `told_at`; the oldest news not told since
-- `news_since`).
CREATE TABLE fleets (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    desired BIGINT NOT NULL,
    approved BIGINT NOT NULL,
    state TEXT NOT NULL,
    next_slot BIGINT NOT NULL,
    waiting TEXT,
    waiting_since BIGINT,
    next_try_at BIGINT,
    backoff_ms BIGINT NOT NULL DEFAULT 0,
    ends_at BIGINT,
    last_reclaim_at BIGINT,
    last_refill_at BIGINT,
    reclaimed_total BIGINT NOT NULL DEFAULT 0,
    refilled_total BIGINT NOT NULL DEFAULT 0,
    untold_reclaimed BIGINT NOT NULL DEFAULT 0,
    untold_refilled BIGINT NOT NULL DEFAULT 0,
    untold_failed BIGINT NOT NULL DEFAULT 0,
    news BIGINT NOT NULL DEFAULT 0,
    told_at BIGINT,
    news_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE UNIQUE INDEX fleets_running_name ON fleets (name) WHERE state = 'running';

-- One place in a fleet. Its launch's ClientToken is derived from the fleet, the slot and the
-- generation: a launch whose answer was lost is sent again with the same token (state
-- `launching`); only a launch proven not to have happened (a refusal) or a server gone moves the
-- generation on. `placement` is the index of the fleet's placement the launch uses.
CREATE TABLE fleet_slots (
    fleet_id BIGINT NOT NULL REFERENCES fleets (request_id),
    slot BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    placement BIGINT NOT NULL,
    state TEXT NOT NULL,
    instance_id TEXT,
    filled_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (fleet_id, slot)
);
CREATE INDEX fleet_slots_open ON fleet_slots (fleet_id) WHERE state <> 'retired';

-- A fleet's servers are tracked like any other; the slot they fill says their news is the
-- fleet's summary, not a message of their own.
ALTER TABLE instances ADD COLUMN fleet_slot BIGINT;
