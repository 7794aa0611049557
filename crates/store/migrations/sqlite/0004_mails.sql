-- Inbound mail that the analyser judged, for organisations whose enrolled accounts it
-- was sent to. The raw message is not kept: the verdict, its reasons and the headers a
-- person needs to find the message again are.
CREATE TABLE mails (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    time_us     INTEGER NOT NULL,
    message_id  TEXT,
    from_addr   TEXT NOT NULL,
    -- The sender's domain, lower-cased: how one sender's campaign is found across
    -- organisations.
    from_domain TEXT NOT NULL,
    from_name   TEXT,
    reply_to    TEXT,
    subject     TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    verdict     TEXT NOT NULL CHECK (verdict IN ('clean', 'suspicious', 'phishing')),
    score       INTEGER NOT NULL,
    reasons     TEXT NOT NULL,
    attachments TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    received_at TEXT NOT NULL
);
-- A journal that delivers the same message twice (a retried SMTP transaction, an upload
-- repeated) must not count it twice.
CREATE UNIQUE INDEX mails_digest ON mails (org_id, sha256);
CREATE INDEX mails_org_time ON mails (org_id, time_us);
CREATE INDEX mails_sender_domain ON mails (from_domain, verdict, time_us);
CREATE INDEX mails_sender ON mails (from_addr, verdict, time_us);

CREATE TABLE incident_mails (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    mail_id     INTEGER NOT NULL REFERENCES mails(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, mail_id)
);
