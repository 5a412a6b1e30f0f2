-- Forums as stored, versioned data (Postgres). A forum's state is the one last set by hand
-- (draft, archived, or published: 'registration'); the states between follow from its dates.
-- Forums stored before this migration were being served, so they count as published.
ALTER TABLE forums ADD COLUMN state TEXT NOT NULL DEFAULT 'registration'
    CHECK (state IN ('draft', 'registration', 'live', 'finished', 'archived'));
ALTER TABLE forums ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE forums SET created_at = updated_at;

-- Every saved version of a forum's TOML, with who saved it and when. Appended and never
-- changed: a version is answered by the next one, so any past version can be read again.
CREATE TABLE forum_versions (
    forum     TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    toml      TEXT   NOT NULL,
    saved_by  TEXT   NOT NULL,   -- an organiser's login, or the file a start imported
    saved_at  BIGINT NOT NULL,   -- Unix ms
    PRIMARY KEY (forum, version)
);

CREATE FUNCTION forum_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'forum versions are append-only';
END;
$$;
CREATE TRIGGER forum_versions_no_change BEFORE UPDATE OR DELETE ON forum_versions
    FOR EACH ROW EXECUTE FUNCTION forum_versions_append_only();
CREATE TRIGGER forum_versions_no_truncate BEFORE TRUNCATE ON forum_versions
    FOR EACH STATEMENT EXECUTE FUNCTION forum_versions_append_only();
