-- cvmbot schema, SQLite. Times are Unix epoch milliseconds (UTC); money is integer fen or decimal
-- yuan text; specs, quotes and notices are JSON text. Never edit a landed migration: add a new one.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE requests (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    state               TEXT    NOT NULL,
    requester_id        BIGINT  NOT NULL,
    requester_name      TEXT    NOT NULL,
    guild_id            BIGINT,
    channel_id          BIGINT,
    message_id          BIGINT,
    thread_id           BIGINT,
    spec                TEXT    NOT NULL,
    quote               TEXT    NOT NULL,
    approval_hash       TEXT    NOT NULL,
    monthly_fen         BIGINT  NOT NULL,
    approvals_needed    BIGINT  NOT NULL,
    quoted_at           BIGINT  NOT NULL,
    quote_request_id    TEXT,
    dry_run_request_id  TEXT,
    balance_warning     TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    expires_at          BIGINT  NOT NULL,
    attempt             BIGINT  NOT NULL DEFAULT 0,
    client_token        TEXT,
    next_attempt_at     BIGINT,
    keep_trying_until   BIGINT,
    failure             TEXT,
    decided_by          TEXT,
    note                TEXT,
    card_version        BIGINT  NOT NULL DEFAULT 1,
    card_shown          BIGINT  NOT NULL DEFAULT 0,
    version             BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX requests_by_state ON requests (state, next_attempt_at);
CREATE INDEX requests_by_requester ON requests (requester_id, created_at);
CREATE UNIQUE INDEX requests_by_message ON requests (message_id);
CREATE INDEX requests_by_card ON requests (card_version, card_shown);

CREATE TABLE votes (
    request_id    BIGINT  NOT NULL REFERENCES requests (id),
    voter_id      BIGINT  NOT NULL,
    voter_name    TEXT    NOT NULL,
    approve       BOOLEAN NOT NULL,
    approval_hash TEXT    NOT NULL,
    reason        TEXT,
    via           TEXT    NOT NULL,
    cast_at       BIGINT  NOT NULL,
    PRIMARY KEY (request_id, voter_id)
);

CREATE TABLE instances (
    instance_id      TEXT    PRIMARY KEY,
    request_id       BIGINT  NOT NULL REFERENCES requests (id),
    region           TEXT    NOT NULL,
    zone             TEXT    NOT NULL,
    billing          TEXT    NOT NULL,
    hourly_price     TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    private_ips      TEXT    NOT NULL DEFAULT '',
    public_ips       TEXT    NOT NULL DEFAULT '',
    wants_public_ip  BOOLEAN NOT NULL,
    error            TEXT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    running_at       BIGINT,
    public_ip_at     BIGINT,
    gone_at          BIGINT,
    watching         BOOLEAN NOT NULL DEFAULT TRUE,
    next_poll_at     BIGINT  NOT NULL,
    poll_interval_ms BIGINT  NOT NULL
);
CREATE INDEX instances_due ON instances (watching, next_poll_at);
CREATE INDEX instances_by_request ON instances (request_id);

CREATE TABLE audit (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id         BIGINT,
    at                 BIGINT NOT NULL,
    actor_id           BIGINT,
    actor_name         TEXT   NOT NULL,
    action             TEXT   NOT NULL,
    from_state         TEXT,
    to_state           TEXT,
    detail             TEXT,
    tencent_request_id TEXT
);
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_request ON audit (request_id);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key  TEXT    NOT NULL UNIQUE,
    request_id  BIGINT,
    target      TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    sent_at     BIGINT,
    message_id  BIGINT,
    attempts    BIGINT  NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_try_at BIGINT  NOT NULL
);
CREATE INDEX notifications_unsent ON notifications (sent_at, next_try_at);

CREATE TABLE balance_watch (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    spendable_fen  BIGINT  NOT NULL,
    owe_fen        BIGINT  NOT NULL,
    checked_at     BIGINT  NOT NULL,
    warned_level   BIGINT  NOT NULL,
    last_alert_at  BIGINT
);

CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
