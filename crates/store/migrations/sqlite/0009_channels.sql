-- Channels that reach people: e-mail recipients per organisation, a record of every
-- delivery attempt (for the operator's dead letters and the incident's timeline), and
-- the generation of the organisation's webhook signing secret, which rotation increments.
CREATE TABLE notification_recipients (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    language   TEXT NOT NULL CHECK (language IN ('en', 'fr')),
    created_at TEXT NOT NULL,
    UNIQUE (org_id, address)
);

CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead')),
    detail      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, attempt);

ALTER TABLE organisations ADD COLUMN webhook_secret_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN webhook_rotated_at TEXT;
