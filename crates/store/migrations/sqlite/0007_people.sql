-- People: dashboard users and their sessions, labelled API keys, and personal mail
-- addresses opted in by double opt-in. Expiry and idle times are integer microseconds
-- since the Unix epoch so that they compare in SQL; the rest is RFC 3339 text.

-- An operator belongs to no organisation; everyone else to exactly one. The e-mail is the
-- sign-in name, unique whatever its case. Passwords are argon2id PHC strings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('operator', 'org_admin', 'org_viewer')),
    org_id        INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE INDEX users_org ON users (org_id);

-- A session is found by the SHA-256 of the cookie's random token: the database alone
-- cannot be replayed as a cookie.
CREATE TABLE sessions (
    id              BLOB PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at_us   INTEGER NOT NULL,
    last_seen_at_us INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at_us);

-- Keys made by an organisation's admin say what they are for and who made them.
ALTER TABLE api_keys ADD COLUMN label TEXT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT;
CREATE INDEX api_keys_org ON api_keys (org_id, prefix);

-- A personal address waits here, under the hash of the token mailed to it, until its
-- owner confirms.
CREATE TABLE personal_pending (
    token_hash    BLOB PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email         TEXT NOT NULL COLLATE NOCASE,
    requested_by  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at_us INTEGER NOT NULL
);
CREATE INDEX personal_pending_org ON personal_pending (org_id, email);

CREATE TABLE personal_accounts (
    org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email          TEXT NOT NULL COLLATE NOCASE,
    confirmed_at   TEXT NOT NULL,
    opt_out_hash   BLOB NOT NULL UNIQUE,
    PRIMARY KEY (org_id, email)
);
