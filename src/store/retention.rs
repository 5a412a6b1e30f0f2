//! Removing a forum's personal data once its retention period is over (see
//! `domain::retention`): names masked, e-mails replaced by placeholders, phones and СНИЛС
//! erased, connections' addresses and browsers dropped — in the registrations, in the log's
//! profile and connection records and in the mail outbox — in one
//! transaction, so a purge is never half done. Viewer ids, verdicts and codes stay, so `/verify`
//! still answers for every code, with the masked name.

use sqlx::Row;

use super::log::ViewerData;
use super::{Store, StoreResult, from_json, to_json};
use crate::domain::retention::{MASKED_EMAIL_SUFFIX, mask_name, masked_email};
use crate::domain::time::Millis;

/// What a purge changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    pub viewers: u64,
    /// Profile records, and connection records with an address, of the attendance log.
    pub records: u64,
    pub letters: u64,
}

impl Store {
    /// Masks or erases the personal data of every participant of `forum` and notes the time.
    /// Running it again changes nothing more (a masked name masks to itself).
    pub async fn purge_personal_data(&self, forum: &str, now: Millis) -> StoreResult<Purged> {
        let mut tx = self.begin_write().await?;
        let viewers = sqlx::query("SELECT id, name FROM viewers WHERE forum = $1 ORDER BY id")
            .bind(forum)
            .fetch_all(&mut *tx)
            .await?;
        let mut purged = Purged::default();
        for row in &viewers {
            let id: String = row.try_get("id")?;
            let name: String = row.try_get("name")?;
            purged.viewers += sqlx::query(
                "UPDATE viewers SET name = $3, email = $4, phone = '', snils = NULL \
                 WHERE forum = $1 AND id = $2",
            )
            .bind(forum)
            .bind(&id)
            .bind(mask_name(&name))
            .bind(masked_email(&id))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let records = sqlx::query(
            "SELECT seq, viewer, data FROM events WHERE forum = $1 AND kind = 'viewer' ORDER BY seq",
        )
        .bind(forum)
        .fetch_all(&mut *tx)
        .await?;
        for row in &records {
            let seq: i64 = row.try_get("seq")?;
            let viewer: String = row.try_get("viewer")?;
            let data: String = row.try_get("data")?;
            let mut d: ViewerData = from_json("viewer event data", &data)?;
            d.name = mask_name(&d.name);
            d.email = masked_email(&viewer);
            purged.records += sqlx::query("UPDATE events SET data = $2 WHERE seq = $1")
                .bind(seq)
                .bind(to_json(&d)?)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        // A connection's evidence is its address and browser: personal, and of no use once
        // the forum's flags are years past review.
        purged.records += sqlx::query(
            "UPDATE events SET data = NULL WHERE forum = $1 AND kind = 'connect' AND data IS NOT NULL",
        )
        .bind(forum)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        purged.letters = sqlx::query(
            "UPDATE mail_outbox SET email = viewer || $2, last_error = NULL WHERE forum = $1",
        )
        .bind(forum)
        .bind(MASKED_EMAIL_SUFFIX)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE forums SET personal_data_removed_at = $2 WHERE id = $1")
            .bind(forum)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(forum, viewers = purged.viewers, "personal data removed");
        Ok(purged)
    }

    /// When `forum`'s personal data was removed, if it was.
    pub async fn personal_data_removed_at(&self, forum: &str) -> StoreResult<Option<Millis>> {
        let row = sqlx::query("SELECT personal_data_removed_at FROM forums WHERE id = $1")
            .bind(forum)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<i64>, _>(0)?,
            None => None,
        })
    }
}
