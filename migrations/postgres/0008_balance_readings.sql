-- Every balance reading, so the runway chart can show the balance over the last weeks (the
-- balance monitor keeps 90 days of them).
CREATE TABLE balance_readings (
    checked_at    BIGINT PRIMARY KEY,
    spendable_fen BIGINT NOT NULL,
    owe_fen       BIGINT NOT NULL
);
