-- The durable store (Postgres). Times are Unix milliseconds, flags are integers, JSON is TEXT:
-- sqlx's Any driver reads nothing else. Every table is scoped by forum id.

-- The attendance log, except heartbeats (see conn_seen).
CREATE TABLE events (
    seq     BIGSERIAL PRIMARY KEY,
    forum   TEXT    NOT NULL,
    ts      BIGINT  NOT NULL,
    kind    TEXT    NOT NULL,
    viewer  TEXT,
    conn    TEXT,
    hall    TEXT,
    prompt  TEXT,
    closes  BIGINT,
    -- Viewer profile fields (name, email, education, specialty) as JSON.
    data    TEXT
);
CREATE INDEX events_by_ts     ON events (forum, ts, seq);
CREATE INDEX events_by_viewer ON events (forum, viewer, kind);
CREATE INDEX events_by_conn   ON events (forum, conn, kind, ts);
CREATE INDEX events_by_kind   ON events (forum, kind, ts);

-- Each connection's last sign of life: heartbeats collapse into this one row.
CREATE TABLE conn_seen (
    forum     TEXT   NOT NULL,
    conn      TEXT   NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (forum, conn)
);

CREATE TABLE forums (
    id         TEXT   PRIMARY KEY,
    config     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions_frozen (
    forum     TEXT   NOT NULL,
    session   TEXT   NOT NULL,
    rules     TEXT   NOT NULL,
    frozen_at BIGINT NOT NULL,
    PRIMARY KEY (forum, session)
);

CREATE TABLE schedules (
    forum      TEXT   NOT NULL,
    session    TEXT   NOT NULL,
    seed       TEXT   NOT NULL,
    times      TEXT   NOT NULL,
    PRIMARY KEY (forum, session)
);

CREATE TABLE planned_prompts (
    forum     TEXT   NOT NULL,
    session   TEXT   NOT NULL,
    idx       BIGINT NOT NULL,
    prompt_id TEXT   NOT NULL,
    PRIMARY KEY (forum, session, idx)
);

CREATE TABLE viewers (
    forum      TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    -- Lower-cased by the application, so uniqueness ignores case.
    email      TEXT   NOT NULL,
    phone      TEXT   NOT NULL,
    education  TEXT   NOT NULL,
    specialty  TEXT   NOT NULL,
    snils      TEXT,
    consent_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    token_hash TEXT   NOT NULL UNIQUE,
    PRIMARY KEY (forum, id),
    UNIQUE (forum, email)
);

CREATE TABLE organisers (
    login         TEXT   PRIMARY KEY,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE logins (
    token_hash TEXT   PRIMARY KEY,
    login      TEXT   NOT NULL REFERENCES organisers (login) ON DELETE CASCADE,
    expires    BIGINT NOT NULL
);

CREATE TABLE codes (
    forum     TEXT    NOT NULL,
    code      TEXT    NOT NULL,
    session   TEXT    NOT NULL,
    viewer    TEXT,
    pooled    INTEGER NOT NULL,
    position  BIGINT,
    issued_at BIGINT,
    PRIMARY KEY (forum, code)
);
CREATE UNIQUE INDEX codes_one_per_viewer ON codes (forum, session, viewer) WHERE viewer IS NOT NULL;
