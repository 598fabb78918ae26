-- A purchase's time to live: when its servers are released automatically (the purchase's approval
-- covers it), how often the owner extended it, and when the end was acted on (the release filed,
-- or nothing left to release).
CREATE TABLE lifetimes (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    started_at BIGINT NOT NULL,
    release_at BIGINT NOT NULL,
    extensions BIGINT NOT NULL DEFAULT 0,
    ended_at BIGINT,
    release_request_id BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX lifetimes_open ON lifetimes (release_at) WHERE ended_at IS NULL;

-- Reminders sent, one row each, so a restart never sends one twice: of what (`ttl`), about which
-- deadline (an extension makes a new one) and how long before it.
CREATE TABLE reminders (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    kind TEXT NOT NULL,
    deadline BIGINT NOT NULL,
    lead_ms BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, kind, deadline, lead_ms)
);

-- A prepaid instance's end of period and whether Tencent renews it then, as the tracker last saw
-- them: what renewal reminders are about.
ALTER TABLE instances ADD COLUMN expires_at BIGINT;
ALTER TABLE instances ADD COLUMN auto_renew BOOLEAN NOT NULL DEFAULT FALSE;
