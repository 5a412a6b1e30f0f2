-- An organiser's review of a viewer's integrity flags (issue 15): appended, never changed; the
-- latest per (forum, viewer) is the one shown, the rest is the history. A review changes no
-- verdict (decisions do that).
CREATE TABLE flag_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    forum       TEXT   NOT NULL,
    viewer      TEXT   NOT NULL,
    note        TEXT   NOT NULL,
    reviewed_by TEXT   NOT NULL,
    at          BIGINT NOT NULL     -- Unix ms
);
CREATE INDEX flag_reviews_by_viewer ON flag_reviews (forum, viewer, id);

CREATE TRIGGER flag_reviews_no_update BEFORE UPDATE ON flag_reviews
BEGIN
    SELECT RAISE(ABORT, 'flag reviews are append-only');
END;
CREATE TRIGGER flag_reviews_no_delete BEFORE DELETE ON flag_reviews
BEGIN
    SELECT RAISE(ABORT, 'flag reviews are append-only');
END;
