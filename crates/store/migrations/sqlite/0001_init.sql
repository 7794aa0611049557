-- The first schema: organisations, keys, sign-ins, incidents and the notification outbox.
-- Times of events are integer microseconds since the Unix epoch (event time, UTC);
-- times of bookkeeping are RFC 3339 text.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    sector      TEXT NOT NULL,
    country     TEXT NOT NULL,
    webhook_url TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE org_domains (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (org_id, domain)
);

-- API keys are stored as the SHA-256 of a 256-bit random token: the token has enough
-- entropy that a slow hash would add nothing but a cost to every request.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('operator', 'organisation')),
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT,
    CHECK ((role = 'operator') = (org_id IS NULL))
);

CREATE TABLE signins (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    time_us      INTEGER NOT NULL,
    account      TEXT NOT NULL,
    source_ip    TEXT,
    outcome      TEXT NOT NULL,
    failure_kind TEXT,
    protocol     TEXT NOT NULL,
    app          TEXT,
    result_code  TEXT,
    reason       TEXT,
    record_id    TEXT,
    country      TEXT,
    format       TEXT NOT NULL,
    origin       TEXT NOT NULL,
    received_at  TEXT NOT NULL
);
-- A source that delivers the same record twice (a retried push, an overlapping pull)
-- must not count it twice.
CREATE UNIQUE INDEX signins_record ON signins (org_id, record_id) WHERE record_id IS NOT NULL;
CREATE INDEX signins_org_time ON signins (org_id, time_us);
CREATE INDEX signins_time ON signins (time_us);

CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    campaign_key   TEXT NOT NULL,
    severity       TEXT NOT NULL,
    state          TEXT NOT NULL,
    accounts       TEXT NOT NULL,
    sources        TEXT NOT NULL,
    compromised    TEXT NOT NULL,
    first_seen_us  INTEGER NOT NULL,
    last_seen_us   INTEGER NOT NULL,
    evidence_count INTEGER NOT NULL,
    summary        TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX incidents_org ON incidents (org_id, last_seen_us);
CREATE INDEX incidents_campaign ON incidents (org_id, campaign_key, last_seen_us);

CREATE TABLE incident_evidence (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    signin_id   INTEGER NOT NULL REFERENCES signins(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, signin_id)
);

-- Notifications are written here in the same transaction as the incident change that
-- causes them, and delivered from here, so a crash between the two loses nothing.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    delivery_id     TEXT NOT NULL UNIQUE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    incident_id     TEXT NOT NULL,
    channel         TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_us);
