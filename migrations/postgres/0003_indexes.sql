-- Without statistics (a fresh forum, before ANALYZE ever ran) both SQLite and Postgres picked
-- events_by_kind (forum, kind, ts) for "this viewer's connects" and "this connection's
-- disconnect", filtering every connect or disconnect of the forum: each new websocket read a
-- share of the whole log (found at 45,000 viewers). Only prompt lookups need kind first, so
-- that index now covers prompts alone and the per-viewer and per-connection indexes win.
DROP INDEX events_by_kind;
CREATE INDEX events_prompts ON events (forum, ts) WHERE kind = 'prompt';
