-- Governance metrics (docs/metrics.md). The strength of a sign-in's authentication when
-- the source records it; the mail-domain posture last read from DNS for each enrolled
-- domain; and the measurements of each finished week, kept once computed so that a
-- sector's comparison does not recount every organisation's quarter.
ALTER TABLE signins ADD COLUMN authentication TEXT
    CHECK (authentication IN ('single_factor', 'multi_factor', 'phishing_resistant'));

CREATE TABLE domain_posture (
    org_id        INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    domain        TEXT NOT NULL,
    checked_at_us INTEGER NOT NULL,
    -- JSON of scorecard::DomainPosture.
    posture       TEXT NOT NULL,
    PRIMARY KEY (org_id, domain)
);

CREATE TABLE scorecard_weeks (
    org_id        INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    week_start_us INTEGER NOT NULL,
    -- JSON of scorecard::WeekCounts.
    counts        TEXT NOT NULL,
    computed_at_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, week_start_us)
);

-- Response times are read from the timeline of one organisation's week.
CREATE INDEX incident_events_org_time ON incident_events (org_id, kind, at_us);
