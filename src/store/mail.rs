//! The mail outbox, which is also the delivery log: one row per letter with its status,
//! attempts, last error and times.
//!
//! Guarantees, all from the database rather than from one process's memory:
//! - a letter is queued once: `(forum, viewer, kind, dedup)` is unique, so a second "send"
//!   click inserts nothing;
//! - a letter is sent by one worker: claiming is a single `UPDATE … WHERE status = 'queued'
//!   … RETURNING`, so of several workers (or server processes on one Postgres) exactly one
//!   moves a row to `sending`; on Postgres `FOR UPDATE SKIP LOCKED` also keeps them from
//!   queueing behind each other's rows;
//! - only the claiming worker may close its claim (`claimed_by`), so a row taken back from a
//!   stalled worker is not overwritten when that worker wakes up.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::time::Millis;

/// A letter in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub viewer: String,
    /// `welcome`, `again`, `relink`, `link` or `certificate` (see `mail::letters`).
    pub kind: String,
    pub dedup: String,
    pub email: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Attempts since it was last queued.
    pub attempts: i64,
    /// Times it was delivered to the SMTP server (more than one after a resend).
    pub sends: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Millis,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub sent_at: Option<Millis>,
}

/// A letter to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLetter {
    pub viewer: String,
    pub kind: String,
    pub dedup: String,
    pub email: String,
}

/// Which rows of the delivery log to show.
#[derive(Debug, Clone, Default)]
pub struct MailFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub viewer: Option<String>,
    pub limit: i64,
}

const COLUMNS: &str = "id, viewer, kind, dedup, email, status, attempts, sends, last_error, \
     next_attempt_at, created_at, updated_at, sent_at";

impl Store {
    /// The (viewer, dedup) keys of every letter of `kind` ever queued: what a new "send"
    /// would skip.
    pub async fn mail_keys(
        &self,
        forum: &str,
        kind: &str,
    ) -> StoreResult<std::collections::HashSet<(String, String)>> {
        let rows =
            sqlx::query("SELECT viewer, dedup FROM mail_outbox WHERE forum = $1 AND kind = $2")
                .bind(forum)
                .bind(kind)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Queues every letter not queued before (by its unique key); returns how many are new.
    pub async fn enqueue_mail(
        &self,
        forum: &str,
        letters: &[NewLetter],
        now: Millis,
    ) -> StoreResult<u64> {
        let mut added = 0;
        // One transaction per thousand letters: atomic enough (a repeat click adds the rest),
        // and no single transaction holds SQLite's write lock for 100,000 inserts.
        for chunk in letters.chunks(1_000) {
            let mut tx = self.begin_write().await?;
            for l in chunk {
                added += enqueue_in(&mut tx, forum, l, now).await?;
            }
            tx.commit().await?;
        }
        Ok(added)
    }

    /// Whether any letter is due by `now`: a read, so an idle worker's polling never takes
    /// SQLite's write lock.
    pub async fn mail_due(&self, forum: &str, now: Millis) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT id FROM mail_outbox WHERE forum = $1 AND status = 'queued' \
             AND next_attempt_at <= $2 LIMIT 1",
        )
        .bind(forum)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Claims up to `limit` letters due by `now` for `worker`: each moves from `queued` to
    /// `sending` with one more attempt. No two workers ever claim the same letter.
    pub async fn claim_mail(
        &self,
        forum: &str,
        worker: &str,
        now: Millis,
        limit: u32,
    ) -> StoreResult<Vec<OutboxRow>> {
        let lock = if self.postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE mail_outbox SET status = 'sending', claimed_by = $1, claimed_at = $2, \
             attempts = attempts + 1, updated_at = $2 \
             WHERE status = 'queued' AND id IN (SELECT id FROM mail_outbox \
                 WHERE forum = $3 AND status = 'queued' AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at, id LIMIT $4{lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now)
            .bind(forum)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<OutboxRow> = rows.iter().map(decode).collect::<StoreResult<_>>()?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Records a delivered letter; false if `worker` no longer holds it.
    pub async fn mail_sent(&self, id: i64, worker: &str, now: Millis) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sends = sends + 1, sent_at = $1, \
             updated_at = $1, last_error = NULL, claimed_by = NULL \
             WHERE id = $2 AND status = 'sending' AND claimed_by = $3",
        )
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: back to `queued` until `retry_at`, or `failed` when `None`.
    pub async fn mail_failed(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> StoreResult<bool> {
        let (status, next) = match retry_at {
            Some(t) => ("queued", t),
            None => ("failed", now),
        };
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = $1, next_attempt_at = $2, last_error = $3, \
             updated_at = $4, claimed_by = NULL \
             WHERE id = $5 AND status = 'sending' AND claimed_by = $6",
        )
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Hands a claimed letter back untried (the worker is stopping): queued as it was.
    pub async fn release_mail(&self, id: i64, worker: &str, now: Millis) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', attempts = attempts - 1, \
             claimed_by = NULL, updated_at = $1 \
             WHERE id = $2 AND status = 'sending' AND claimed_by = $3",
        )
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes back letters stuck in `sending` since before `claimed_before` (their worker died
    /// mid-letter): they are queued again. Such a letter may reach the recipient twice, which
    /// is better than never; the lease is much longer than an SMTP conversation.
    pub async fn requeue_stale_mail(
        &self,
        forum: &str,
        claimed_before: Millis,
        now: Millis,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', claimed_by = NULL, next_attempt_at = $1, \
             updated_at = $1 \
             WHERE forum = $2 AND status = 'sending' AND claimed_at < $3",
        )
        .bind(now)
        .bind(forum)
        .bind(claimed_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The organiser's explicit "send again": a sent or failed letter is queued once more
    /// with a fresh count of attempts. A queued letter stays as it is; one being sent right
    /// now is refused, so a double click cannot make two sends.
    pub async fn resend_mail(
        &self,
        forum: &str,
        id: i64,
        now: Millis,
    ) -> StoreResult<Option<OutboxRow>> {
        let Some(row) = self.mail_letter(forum, id).await? else {
            return Ok(None);
        };
        match row.status.as_str() {
            "queued" => return Ok(Some(row)),
            "sending" => {
                return Err(StoreError::Conflict(
                    "это письмо отправляется прямо сейчас; дождитесь результата".into(),
                ));
            }
            _ => {}
        }
        sqlx::query(
            "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, \
             updated_at = $1, last_error = NULL \
             WHERE forum = $2 AND id = $3 AND status IN ('sent', 'failed')",
        )
        .bind(now)
        .bind(forum)
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.mail_letter(forum, id).await
    }

    pub async fn mail_letter(&self, forum: &str, id: i64) -> StoreResult<Option<OutboxRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM mail_outbox WHERE forum = $1 AND id = $2"
        )))
        .bind(forum)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// The delivery log, newest first, filtered.
    pub async fn mail_log(&self, forum: &str, f: &MailFilter) -> StoreResult<Vec<OutboxRow>> {
        // Unused filters bind NULL and match everything, so one statement serves every mix.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM mail_outbox WHERE forum = $1 \
             AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR status = $3) \
             AND ($4 IS NULL OR viewer = $4) \
             ORDER BY updated_at DESC, id DESC LIMIT $5"
        )))
        .bind(forum)
        .bind(f.kind.clone())
        .bind(f.status.clone())
        .bind(f.viewer.clone())
        .bind(f.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// How many letters of each (kind, status).
    pub async fn mail_counts(&self, forum: &str) -> StoreResult<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n FROM mail_outbox WHERE forum = $1 \
             GROUP BY kind, status ORDER BY kind, status",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }
}

/// Queues one letter inside the caller's transaction unless its key is queued already;
/// returns 1 if it is new.
pub(super) async fn enqueue_in(
    tx: &mut AnyConnection,
    forum: &str,
    l: &NewLetter,
    now: Millis,
) -> StoreResult<u64> {
    Ok(sqlx::query(
        "INSERT INTO mail_outbox (forum, viewer, kind, dedup, email, status, \
         attempts, sends, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, 0, $6, $6, $6) \
         ON CONFLICT (forum, viewer, kind, dedup) DO NOTHING",
    )
    .bind(forum)
    .bind(&l.viewer)
    .bind(&l.kind)
    .bind(&l.dedup)
    .bind(&l.email)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

fn decode(row: &AnyRow) -> StoreResult<OutboxRow> {
    Ok(OutboxRow {
        id: row.try_get("id")?,
        viewer: row.try_get("viewer")?,
        kind: row.try_get("kind")?,
        dedup: row.try_get("dedup")?,
        email: row.try_get("email")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        sends: row.try_get("sends")?,
        last_error: row.try_get("last_error")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}
