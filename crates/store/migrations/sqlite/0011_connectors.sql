-- Where each telemetry connector (syslog listener, file tail, pull connector) got to:
-- written in the transaction that commits the events up to it, so that a restart resumes
-- without a gap and without a duplicate.
CREATE TABLE connector_checkpoints (
    -- e.g. `tail:/var/log/auth.log`, `graph:<org>`.
    name TEXT PRIMARY KEY,
    org_id INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    -- The connector's own position, JSON (an offset and a file identity, a cursor).
    position TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
