//! The consent texts, every version kept (see `domain::consent`). Versions count from 1 per
//! forum and text; version 1 is the shipped default, written the first time the forum's texts
//! are read, so every viewer's accepted version names a stored text.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, is_unique_violation};
use crate::domain::consent::{self, ConsentKind, ConsentText, ConsentVersions};
use crate::domain::time::Millis;

/// One stored version of a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextRow {
    pub kind: ConsentKind,
    pub version: i64,
    pub title: String,
    pub body: String,
    pub created_at: Millis,
    /// The organiser who saved it; `None` for the shipped default.
    pub created_by: Option<String>,
}

const COLUMNS: &str = "kind, version, title, body, created_at, created_by";

impl Store {
    /// The current version of a text, writing the shipped default first if the forum has none.
    pub async fn current_text(
        &self,
        forum: &str,
        kind: ConsentKind,
        now: Millis,
    ) -> StoreResult<TextRow> {
        if let Some(row) = self.text(forum, kind, None).await? {
            return Ok(row);
        }
        let shipped = consent::shipped(kind);
        // Several nodes may do this at once: the first insert wins, the rest add nothing.
        sqlx::query(
            "INSERT INTO consent_texts (forum, kind, version, title, body, created_at, created_by) \
             VALUES ($1, $2, 1, $3, $4, $5, NULL) ON CONFLICT (forum, kind, version) DO NOTHING",
        )
        .bind(forum)
        .bind(kind.slug())
        .bind(&shipped.title)
        .bind(&shipped.body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.text(forum, kind, None)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no {} text after writing it", kind.slug())))
    }

    /// The current versions of both texts.
    pub async fn current_versions(&self, forum: &str, now: Millis) -> StoreResult<ConsentVersions> {
        Ok(ConsentVersions {
            personal_data: self
                .current_text(forum, ConsentKind::PersonalData, now)
                .await?
                .version,
            terms: self
                .current_text(forum, ConsentKind::Terms, now)
                .await?
                .version,
        })
    }

    /// One version of a text, or the latest when `version` is `None`.
    pub async fn text(
        &self,
        forum: &str,
        kind: ConsentKind,
        version: Option<i64>,
    ) -> StoreResult<Option<TextRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM consent_texts WHERE forum = $1 AND kind = $2 \
             AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1"
        )))
        .bind(forum)
        .bind(kind.slug())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Every version of a text, newest first, bodies included.
    pub async fn text_history(&self, forum: &str, kind: ConsentKind) -> StoreResult<Vec<TextRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM consent_texts WHERE forum = $1 AND kind = $2 \
             ORDER BY version DESC"
        )))
        .bind(forum)
        .bind(kind.slug())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Saves an edit as the next version, if `base` is still the current version (else
    /// Conflict: another organiser saved meanwhile). An edit equal to the current text saves
    /// nothing. Returns the current version and whether it is new.
    pub async fn save_text(
        &self,
        forum: &str,
        kind: ConsentKind,
        base: i64,
        text: &ConsentText,
        by: &str,
        now: Millis,
    ) -> StoreResult<(TextRow, bool)> {
        let current = self.current_text(forum, kind, now).await?;
        if current.version != base {
            return Err(StoreError::Conflict(format!(
                "Пока вы редактировали, сохранена редакция {} (её сохранил {}). Обновите \
                 страницу, чтобы увидеть её, и внесите правку ещё раз.",
                current.version,
                current.created_by.as_deref().unwrap_or("поставщик")
            )));
        }
        if current.title == text.title && current.body == text.body {
            return Ok((current, false));
        }
        let inserted = sqlx::query(
            "INSERT INTO consent_texts (forum, kind, version, title, body, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(forum)
        .bind(kind.slug())
        .bind(base + 1)
        .bind(&text.title)
        .bind(&text.body)
        .bind(now)
        .bind(by)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            // Two organisers saved on the same base at once: the other one won.
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(format!(
                    "Редакцию {} только что сохранил другой организатор. Обновите страницу и \
                     внесите правку ещё раз.",
                    base + 1
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let row = self
            .text(forum, kind, Some(base + 1))
            .await?
            .ok_or_else(|| StoreError::Corrupt("a saved text is missing".into()))?;
        Ok((row, true))
    }
}

fn decode(row: &AnyRow) -> StoreResult<TextRow> {
    let kind: String = row.try_get("kind")?;
    Ok(TextRow {
        kind: ConsentKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("consent text kind «{kind}»")))?,
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get("created_by")?,
    })
}
