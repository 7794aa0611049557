-- The outbox carries more than incident webhooks: e-mail to a recipient, and notices that
-- belong to no incident (a personal address's confirmation, a test notification).
-- `target` says where a row goes (an address for e-mail; for a webhook, NULL means the
-- organisation's endpoint as it is when the row is delivered).
CREATE TABLE outbox_v5 (
    id              INTEGER PRIMARY KEY,
    delivery_id     TEXT NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    incident_id     TEXT,
    channel         TEXT NOT NULL,
    target          TEXT,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
INSERT INTO outbox_v5 (id, delivery_id, org_id, incident_id, channel, target, event, payload,
                       state, attempts, next_attempt_us, last_error, created_at, delivered_at)
    SELECT id, delivery_id, org_id, incident_id, channel, NULL, event, payload,
           state, attempts, next_attempt_us, last_error, created_at, delivered_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_us);
CREATE INDEX outbox_incident ON outbox (incident_id);
