-- Keys every node of one installation must share: created once by whichever node starts first
-- (INSERT … ON CONFLICT DO NOTHING), then read by all. `evidence` signs the player page's
-- cookie and keys the hashed client addresses of issue 15's evidence.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
