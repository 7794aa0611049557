-- Pull connectors an organisation has set up (Microsoft Graph, Okta, Google Workspace):
-- what to pull, the sealed credential, and the status the organisation sees.
CREATE TABLE connectors (
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    -- The organisation's own name for it: `entra`, `okta-prod`.
    name TEXT NOT NULL,
    -- `graph`, `okta` or `google`.
    kind TEXT NOT NULL,
    -- The settings, JSON, without the credential.
    settings TEXT NOT NULL,
    -- The credential (client secret, API token, service-account key), sealed with
    -- AES-256-GCM under the connector key; bound to (org_id, name) so that a sealed value
    -- copied to another row does not open.
    secret TEXT NOT NULL,
    -- Bumped on every change: a running connector whose generation moved restarts.
    generation INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- `starting`, `running`, `backing_off` or `failed`.
    state TEXT NOT NULL DEFAULT 'starting',
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    -- Set when the organisation was told the connector failed; cleared by the next
    -- success, so that one failure is told once, not at every retry.
    failure_notified_at TEXT,
    -- Events received on `events_day` (UTC, YYYY-MM-DD).
    events_day TEXT,
    events_today INTEGER NOT NULL DEFAULT 0,
    -- The time of the newest event received: the lag is how far behind now it is.
    newest_event_at TEXT,
    PRIMARY KEY (org_id, name)
);
