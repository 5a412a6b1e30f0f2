-- Organiser roles, disabled accounts and the audit trail (SQLite).

-- Every account has a role; those made before roles existed could do everything, so they
-- become administrators. A disabled account cannot sign in (its sign-ins are deleted when it
-- is disabled); it stays, so the audit trail keeps naming a real account.
ALTER TABLE organisers ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('admin', 'moderator', 'auditor'));
ALTER TABLE organisers ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- Every organiser action, appended and never changed: who (the login; for a failed sign-in
-- the login typed), their role then, from which address, what (a code and a Russian
-- sentence) and what changed (JSON). Kept as long as the database: nothing prunes it.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an id is never reused
    at          BIGINT NOT NULL,                    -- Unix ms
    forum       TEXT,                               -- the forum the server ran, if any
    actor       TEXT   NOT NULL,
    role        TEXT,
    address     TEXT,
    action      TEXT   NOT NULL,
    description TEXT   NOT NULL,
    details     TEXT   NOT NULL                     -- JSON
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_actor ON audit_log (actor, id);
CREATE INDEX audit_log_by_action ON audit_log (action, id);

-- Append-only in the database too, so no bug and no hand-written statement through the
-- product's connection can rewrite history.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
