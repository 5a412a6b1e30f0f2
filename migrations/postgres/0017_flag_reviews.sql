-- An organiser's review of a viewer's integrity flags (issue 15): appended, never changed; the
-- latest per (forum, viewer) is the one shown, the rest is the history. A review changes no
-- verdict (decisions do that).
CREATE TABLE flag_reviews (
    id          BIGSERIAL PRIMARY KEY,
    forum       TEXT   NOT NULL,
    viewer      TEXT   NOT NULL,
    note        TEXT   NOT NULL,
    reviewed_by TEXT   NOT NULL,
    at          BIGINT NOT NULL     -- Unix ms
);
CREATE INDEX flag_reviews_by_viewer ON flag_reviews (forum, viewer, id);

CREATE FUNCTION flag_reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'flag reviews are append-only';
END;
$$;
CREATE TRIGGER flag_reviews_no_change BEFORE UPDATE OR DELETE ON flag_reviews
    FOR EACH ROW EXECUTE FUNCTION flag_reviews_append_only();
