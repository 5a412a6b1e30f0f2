//! Integrity evidence read back (issue 15): the confirms and connects that carry evidence, for
//! `domain::flags`, and organisers' reviews of flags (append-only; the latest per viewer is
//! shown, all of them are the history).

use sqlx::{AssertSqlSafe, Row};

use super::log::{EVENT_COLUMNS, decode};
use super::{Store, StoreResult};
use crate::domain::log::Event;
use crate::domain::time::Millis;

/// One review of a viewer's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagReview {
    pub id: i64,
    pub viewer: String,
    pub note: String,
    pub reviewed_by: String,
    pub at: Millis,
}

impl Store {
    /// The forum's confirms and connects that carry evidence, in the log's order. Only those:
    /// heartbeats and older events without evidence are most of a log and tell flags nothing.
    pub async fn evidence_events(&self, forum: &str) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE forum = $1 \
             AND kind IN ('confirm', 'connect') AND data IS NOT NULL ORDER BY seq"
        )))
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Every review of the forum's flags, oldest first.
    pub async fn flag_reviews(&self, forum: &str) -> StoreResult<Vec<FlagReview>> {
        let rows = sqlx::query(
            "SELECT id, viewer, note, reviewed_by, at FROM flag_reviews WHERE forum = $1 \
             ORDER BY id",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FlagReview {
                    id: r.try_get("id")?,
                    viewer: r.try_get("viewer")?,
                    note: r.try_get("note")?,
                    reviewed_by: r.try_get("reviewed_by")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Appends a review of `viewer`'s flags.
    pub async fn add_flag_review(
        &self,
        forum: &str,
        viewer: &str,
        note: &str,
        reviewed_by: &str,
        at: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO flag_reviews (forum, viewer, note, reviewed_by, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(forum)
        .bind(viewer)
        .bind(note)
        .bind(reviewed_by)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
