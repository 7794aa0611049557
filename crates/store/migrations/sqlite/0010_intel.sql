-- Threat intelligence: the feeds an operator configured or uploaded, the indicators,
-- actors and warning lists each holds, and the retro-hunts run over stored events.

-- The indicators, actors and warning-listed values an incident's events matched.
ALTER TABLE incidents ADD COLUMN indicators TEXT NOT NULL DEFAULT '[]';
-- Who is probably behind it (model::attribution::Attribution, JSON), when weighed.
ALTER TABLE incidents ADD COLUMN attribution TEXT;

-- Whether the organisation agreed that incidents shared out (STIX, MISP) name it.
-- Without it they carry a pseudonym.
ALTER TABLE organisations ADD COLUMN share_identity INTEGER NOT NULL DEFAULT 0;

CREATE TABLE intel_feeds (
    name TEXT PRIMARY KEY,
    -- stix, misp, list, warninglist, taxii, upload
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    -- The feed's caching state (ETag, Last-Modified, TAXII added_after), JSON.
    cursor TEXT NOT NULL DEFAULT '{}',
    last_attempt TEXT,
    last_success TEXT,
    last_error TEXT,
    indicators INTEGER NOT NULL DEFAULT 0,
    problems INTEGER NOT NULL DEFAULT 0
);

-- One row per indicator and feed; the newest version only (`modified`).
CREATE TABLE intel_indicators (
    feed TEXT NOT NULL REFERENCES intel_feeds(name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    -- The whole indicator, JSON (intel::Indicator).
    body TEXT NOT NULL,
    -- When this version arrived: a retro-hunt searches for what arrived since the last.
    added_at_us INTEGER NOT NULL,
    -- The STIX `modified` of this version; an older one never replaces it.
    modified_us INTEGER NOT NULL,
    PRIMARY KEY (feed, id)
) WITHOUT ROWID;
CREATE INDEX intel_indicators_added ON intel_indicators (added_at_us);

-- Actors imported from feeds (STIX intrusion sets and threat actors, MISP galaxy
-- clusters); the built-in catalogue is in the binary.
CREATE TABLE intel_actors (
    feed TEXT NOT NULL REFERENCES intel_feeds(name) ON DELETE CASCADE,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (feed, id)
) WITHOUT ROWID;

-- Warning lists of known-benign values (intel::BenignList, JSON).
CREATE TABLE intel_benign (
    feed TEXT NOT NULL REFERENCES intel_feeds(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (feed, name)
) WITHOUT ROWID;

-- A search of stored events against indicators added since the last one.
CREATE TABLE retro_hunts (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- Events from this instant on are searched.
    since_us INTEGER NOT NULL,
    -- Only indicators added at or after this instant are searched for.
    indicators_since_us INTEGER NOT NULL,
    -- running, done, failed
    state TEXT NOT NULL,
    events_total INTEGER NOT NULL DEFAULT 0,
    events_scanned INTEGER NOT NULL DEFAULT 0,
    matches INTEGER NOT NULL DEFAULT 0,
    incidents INTEGER NOT NULL DEFAULT 0,
    error TEXT
);

-- The link targets of a message (normalised URLs, at most a few hundred), so that a
-- retro-hunt can find a message by a URL or domain that became an indicator later.
ALTER TABLE mails ADD COLUMN links TEXT NOT NULL DEFAULT '[]';

-- A retro-hunt asks whether an event is already some incident's evidence.
CREATE INDEX incident_evidence_signin ON incident_evidence (signin_id);
CREATE INDEX incident_mails_mail ON incident_mails (mail_id);
