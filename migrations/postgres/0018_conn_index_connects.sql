-- SQLite's migration 0018 narrows events_by_conn to connects and disconnects (the only kinds
-- looked up by connection), so a burst of confirms writes one index fewer. Postgres keeps the
-- full index: with the partial one, a database without statistics yet (a fresh forum's first
-- burst; autovacuum off or not yet run) planned a new socket's read of its viewer's events
-- through it, scanning every connect of the forum for each socket — 650 ms a socket at
-- 45,000 viewers on three nodes, where the full index keeps the plan on events_by_viewer.
COMMENT ON INDEX events_by_conn IS 'a connection''s events: its first connect, its disconnect';
