-- Forum-wide corrections of a session after an outage (SQLite). Appended and never changed:
-- a correction that turns out wrong is answered by another, so the record of what the
-- verdicts were computed with stays whole.
CREATE TABLE corrections (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    forum     TEXT   NOT NULL,
    session   TEXT   NOT NULL,
    change    TEXT   NOT NULL CHECK (change IN ('void_prompt', 'exclude')),
    prompt    TEXT,             -- void_prompt: the prompt's id
    from_ms   BIGINT,           -- exclude: [from_ms, to_ms), Unix ms
    to_ms     BIGINT,
    reason    TEXT   NOT NULL,
    by_login  TEXT   NOT NULL,
    at        BIGINT NOT NULL,  -- Unix ms
    CHECK ((change = 'void_prompt' AND prompt IS NOT NULL)
        OR (change = 'exclude' AND from_ms IS NOT NULL AND to_ms IS NOT NULL AND from_ms < to_ms))
);
CREATE INDEX corrections_by_forum ON corrections (forum, id);

CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections
BEGIN
    SELECT RAISE(ABORT, 'corrections are append-only');
END;
CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections
BEGIN
    SELECT RAISE(ABORT, 'corrections are append-only');
END;
