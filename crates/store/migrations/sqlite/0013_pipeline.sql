-- The scaled-out pipeline (tocsin serve --role detect): who owns each partition of a
-- stage, until when, and how far into the stream its committed work reaches. The
-- sequence is written in the transaction of the work itself, so that a message
-- delivered again after a crash is recognised as done.
CREATE TABLE pipeline_partitions (
    stage TEXT NOT NULL,
    part INTEGER NOT NULL,
    owner TEXT,
    lease_until_us INTEGER NOT NULL DEFAULT 0,
    done_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stage, part)
);

-- Workers say they are alive; the fair share of partitions is counted over these.
CREATE TABLE pipeline_workers (
    stage TEXT NOT NULL,
    owner TEXT NOT NULL,
    seen_us INTEGER NOT NULL,
    PRIMARY KEY (stage, owner)
);

-- Observations a stage-1 worker committed and still has to hand to the campaign stage:
-- written in the transaction of the sign-ins, deleted once the stream has them, so that
-- a crash between the commit and the publication loses nothing.
CREATE TABLE pipeline_forward (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
