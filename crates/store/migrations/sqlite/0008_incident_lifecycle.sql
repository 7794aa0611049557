-- Incident lifecycle: people close incidents (resolved, or false positive with a reason),
-- every change to an incident is on its timeline, and what the organisation is told is
-- paced by its notification settings.

-- Why and by whom an incident was closed; `closed_reason` is the false-positive reason
-- that feeds detector tuning, `closed_note` the free text of a resolution.
ALTER TABLE incidents ADD COLUMN closed_reason TEXT;
ALTER TABLE incidents ADD COLUMN closed_note TEXT;
ALTER TABLE incidents ADD COLUMN closed_at TEXT;
ALTER TABLE incidents ADD COLUMN closed_by TEXT;
-- A notification decided but held back (batched update, digest, quiet hours):
-- `pending_event` is `incident.opened`, `incident.escalated`, `incident.updated` or
-- `digest`, held since `pending_since_us`; the policy ticker looks at it again at
-- `pending_due_us` (and sends it, or holds it further if the settings changed).
ALTER TABLE incidents ADD COLUMN pending_event TEXT;
ALTER TABLE incidents ADD COLUMN pending_since_us INTEGER;
ALTER TABLE incidents ADD COLUMN pending_due_us INTEGER;
ALTER TABLE incidents ADD COLUMN last_notified_us INTEGER;
CREATE INDEX incidents_pending ON incidents (pending_due_us) WHERE pending_event IS NOT NULL;
-- Cross-organisation reach counts open incidents with the same campaign key.
CREATE INDEX incidents_campaign_key ON incidents (campaign_key, last_seen_us);

-- The timeline: every detection, notification and state change of an incident, written
-- in the transaction that makes the change. `detail` is a JSON object.
CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    at_us       INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('detection', 'notification', 'state')),
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

-- Each organisation's pacing of notifications; a missing row or NULL column means the
-- service's `[notify.policy]` default.
CREATE TABLE org_notify_settings (
    org_id          INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    -- Seconds between two `incident.updated` notifications of one incident.
    update_interval INTEGER,
    -- Incidents below this severity go to the daily digest.
    digest_below    TEXT CHECK (digest_below IN ('low', 'medium', 'high', 'critical')),
    -- `HH:MM-HH:MM` in `timezone`, or '' for none.
    quiet_hours     TEXT,
    -- IANA time zone name.
    timezone        TEXT,
    updated_at      TEXT NOT NULL
);
