-- Mail (Postgres): the outbox that is also the delivery log, and extra personal-link tokens.

-- One row per letter. (forum, viewer, kind, dedup) is unique, so a second "send" click queues
-- nothing new: links have dedup '' (one per viewer); a certificate's dedup names the codes it
-- lists, so newly issued codes make a new letter and nothing else does. "Resend" re-queues the
-- same row and counts it in `sends`.
CREATE TABLE mail_outbox (
    id              BIGSERIAL PRIMARY KEY,
    forum           TEXT    NOT NULL,
    viewer          TEXT    NOT NULL,
    kind            TEXT    NOT NULL,  -- link | certificate
    dedup           TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    status          TEXT    NOT NULL,  -- queued | sending | sent | failed
    attempts        BIGINT  NOT NULL DEFAULT 0,
    sends           BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at BIGINT  NOT NULL,
    -- Which worker holds a 'sending' row, and since when (a crashed worker's rows are taken
    -- back after a lease).
    claimed_by      TEXT,
    claimed_at      BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    UNIQUE (forum, viewer, kind, dedup)
);
CREATE INDEX mail_outbox_due ON mail_outbox (forum, status, next_attempt_at);

-- Personal-link tokens minted for letters, valid besides the one in `viewers`, so e-mailing a
-- link never breaks a link the viewer already has open. Only hashes are kept.
CREATE TABLE viewer_tokens (
    token_hash TEXT   PRIMARY KEY,
    forum      TEXT   NOT NULL,
    viewer     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX viewer_tokens_by_viewer ON viewer_tokens (forum, viewer);
