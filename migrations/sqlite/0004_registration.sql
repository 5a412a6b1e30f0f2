-- Registration (SQLite): versioned consent texts, the versions each viewer accepted, and the
-- per-address limit on letters with a personal link.

-- Every saved version of the personal-data consent and the user agreement; never updated or
-- deleted, so what a viewer accepted can always be shown. Version 1 is the shipped default,
-- written the first time a forum's texts are read.
CREATE TABLE consent_texts (
    forum      TEXT   NOT NULL,
    kind       TEXT   NOT NULL,  -- personal-data | terms
    version    BIGINT NOT NULL,
    title      TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    -- The organiser's login; NULL for the shipped default.
    created_by TEXT,
    PRIMARY KEY (forum, kind, version)
);

-- The versions a viewer accepted; NULL for viewers registered before versions were kept.
ALTER TABLE viewers ADD COLUMN consent_personal_data_version BIGINT;
ALTER TABLE viewers ADD COLUMN consent_terms_version BIGINT;

-- When a letter with a link was last requested for an address (registration or «Прислать
-- ссылку ещё раз»), known or not, so the limit says nothing about who is registered. Only a
-- hash of the address is kept; rows older than the limit are deleted as new ones come.
CREATE TABLE link_requests (
    forum        TEXT   NOT NULL,
    email_hash   TEXT   NOT NULL,
    requested_at BIGINT NOT NULL,
    PRIMARY KEY (forum, email_hash)
);
CREATE INDEX link_requests_by_time ON link_requests (forum, requested_at);
