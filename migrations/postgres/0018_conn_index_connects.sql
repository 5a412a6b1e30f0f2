-- Only connects and disconnects are ever looked up by connection (a connection's first connect,
-- its disconnect: LAST_SEEN, VIEWER_LAST_SEEN, viewer_events_since in src/store/log.rs); a
-- viewer's confirms and wrong answers are found by viewer (events_by_viewer). Indexing every
-- confirm by its random connection id too put each one at a random place of a wide index:
-- in a burst of confirms that was most of the pages each commit wrote (a commit of 2,000
-- confirms took twice as long with it). SQLite uses a partial index only for a query that
-- repeats its condition word for word, so those queries carry `kind IN ('connect',
-- 'disconnect')` beside their own `kind = …` (Postgres proves it by itself).
DROP INDEX events_by_conn;
CREATE INDEX events_by_conn ON events (forum, conn, kind, ts) WHERE kind IN ('connect', 'disconnect');
