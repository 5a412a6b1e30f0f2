-- Viewers' appeals and organisers' decisions on one viewer's session (Postgres).

-- An appeal: the viewer's text, editable while open; answered once (grant or reject, with a
-- reason the viewer reads). At most one open appeal per (forum, viewer, session).
CREATE TABLE appeals (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum         TEXT   NOT NULL,
    viewer        TEXT   NOT NULL,
    session       TEXT   NOT NULL,
    text          TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,  -- Unix ms
    updated_at    BIGINT NOT NULL,
    state         TEXT   NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered')),
    answer_grant  INTEGER,          -- 1 granted, 0 rejected; NULL while open
    answer_reason TEXT,
    answered_by   TEXT,
    answered_at   BIGINT
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (forum, viewer, session) WHERE state = 'open';
CREATE INDEX appeals_by_viewer ON appeals (forum, viewer);

-- Decisions: appended, never changed; the latest per (forum, viewer, session) is in force.
CREATE TABLE decisions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    forum      TEXT   NOT NULL,
    viewer     TEXT   NOT NULL,
    session    TEXT   NOT NULL,
    outcome    TEXT   NOT NULL CHECK (outcome IN ('grant', 'withdraw')),
    reason     TEXT   NOT NULL,
    decided_by TEXT   NOT NULL,
    at         BIGINT NOT NULL,     -- Unix ms
    appeal     BIGINT               -- the appeal it answers, if any
);
CREATE INDEX decisions_by_pair ON decisions (forum, viewer, session, id);

CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'decisions are append-only';
END;
$$;
CREATE TRIGGER decisions_no_change BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
