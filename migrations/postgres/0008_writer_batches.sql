-- One row per batch the event writer committed, written in the same transaction as the batch.
-- When a commit's answer is lost (the connection dropped during COMMIT), the writer cannot know
-- whether the batch is stored; it retries, and this row tells it the batch is already there, so
-- a retried batch is never stored twice. Rows older than an hour are pruned by the writer.
CREATE TABLE writer_batches (
    forum TEXT NOT NULL,
    batch TEXT NOT NULL,
    written_at BIGINT NOT NULL,
    PRIMARY KEY (forum, batch)
);
CREATE INDEX writer_batches_by_time ON writer_batches (forum, written_at);
