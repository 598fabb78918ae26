-- Each budget threshold crossing told to the alert channel, so it is told once per billing month
-- across restarts and replicas: inserted in the transaction that queues the notice.
CREATE TABLE budget_alerts (
    budget    TEXT NOT NULL,
    month     TEXT NOT NULL,
    threshold INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (budget, month, threshold, kind)
);
