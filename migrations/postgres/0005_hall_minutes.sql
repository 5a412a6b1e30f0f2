-- The dashboard's «Зрители за день» (Postgres): each node's live figures per hall, sampled at
-- the start of every minute (within a couple of seconds), so a reload or a late-opened
-- dashboard draws the whole day without reading the event log. The cluster's figure for a
-- minute is the sum over the nodes that wrote a row for it; a node writes only minutes that
-- began after it started, so a node restarted mid-minute never counts that minute twice.
-- A few rows per node per minute: a ten-hour day of two halls on three nodes is 3,600 rows.
CREATE TABLE hall_minutes (
    forum       TEXT   NOT NULL,
    minute      BIGINT NOT NULL,  -- Unix ms of the minute's start
    hall        TEXT   NOT NULL,
    node        TEXT   NOT NULL,
    viewers     BIGINT NOT NULL,
    connections BIGINT NOT NULL,
    PRIMARY KEY (forum, minute, hall, node)
);
