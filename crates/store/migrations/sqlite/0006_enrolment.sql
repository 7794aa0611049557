-- Enrolment with review: applications an operator approves or rejects, the audit log of
-- every such step, an organisation's language, and proof of domain ownership.

-- The language an organisation is written to ('en' or 'fr').
ALTER TABLE organisations ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'fr'));

-- A domain is claimed when it is added and becomes the organisation's when it is verified:
-- by a DNS TXT record ('dns') or because an operator enrolled it ('operator'). Only
-- verified domains count as the organisation's (mail intake, lookalike protection).
ALTER TABLE org_domains ADD COLUMN claimed_at TEXT;
ALTER TABLE org_domains ADD COLUMN verified_at TEXT;
ALTER TABLE org_domains ADD COLUMN method TEXT CHECK (method IN ('operator', 'dns'));
-- The domains of organisations enrolled before review existed were given by an operator.
UPDATE org_domains SET
    claimed_at  = (SELECT created_at FROM organisations WHERE id = org_id),
    verified_at = (SELECT created_at FROM organisations WHERE id = org_id),
    method      = 'operator';
CREATE INDEX org_domains_domain ON org_domains (domain);

CREATE TABLE applications (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    sector       TEXT NOT NULL,
    country      TEXT NOT NULL,
    language     TEXT NOT NULL CHECK (language IN ('en', 'fr')),
    -- JSON array of {"name": ..., "email": ...}.
    contacts     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    reason       TEXT,
    submitted_at TEXT NOT NULL,
    -- The same instant in microseconds, for the submissions-per-hour bound.
    submitted_us INTEGER NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT,
    org_id       INTEGER REFERENCES organisations(id) ON DELETE SET NULL
);
CREATE INDEX applications_state ON applications (state, id);
CREATE INDEX applications_submitted ON applications (submitted_us);

CREATE TABLE application_domains (
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    domain         TEXT NOT NULL,
    PRIMARY KEY (application_id, domain)
);

-- Who did what, written in the transaction of the change it describes. `org_id` has no
-- foreign key: the record of what happened outlives the organisation.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    org_id INTEGER,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
