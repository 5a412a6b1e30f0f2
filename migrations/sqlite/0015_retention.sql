-- When a forum's participants' personal data was removed (Unix ms); NULL while it is kept.
-- The purge masks names and erases e-mails, phones and СНИЛС (see domain::retention); verdicts,
-- codes and their verification keep working on viewer ids.
ALTER TABLE forums ADD COLUMN personal_data_removed_at BIGINT;
