//! Registered viewers and their personal-link tokens.
//!
//! Only a hash of a viewer's token is stored, so a leaked database does not leak working links.
//! The registration itself is also a `viewer` event in the log, written in the same
//! transaction, because the rules read profiles from the log and nothing else.

use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::log_write::write_events;
use super::{Store, StoreError, StoreResult, ViewerRow, is_unique_violation};
use crate::domain::consent::ConsentVersions;
use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody};
use crate::domain::registration::Registration;
use crate::domain::time::Millis;

const VIEWER_COLUMNS: &str = "SELECT id, name, email, phone, education, specialty, snils, consent_at, \
     consent_personal_data_version, consent_terms_version, created_at FROM viewers";

impl Store {
    /// Inserts a viewer with their personal-link token hash, and appends their `viewer` event,
    /// in one transaction; no consent versions are recorded (stores and benchmarks that make
    /// viewers directly). Conflict (Russian message) if the e-mail is already registered.
    pub async fn insert_viewer(
        &self,
        forum: &str,
        id: &str,
        reg: &Registration,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<ViewerRow> {
        self.insert_viewer_consenting(forum, id, reg, None, token_hash, now)
            .await
    }

    /// [`Store::insert_viewer`] recording which versions of the consent texts were accepted.
    pub async fn insert_viewer_consenting(
        &self,
        forum: &str,
        id: &str,
        reg: &Registration,
        consents: Option<ConsentVersions>,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<ViewerRow> {
        let mut tx = self.begin_write().await?;
        let row = match insert_viewer_in(&mut tx, forum, id, reg, consents, token_hash, now).await {
            Ok(row) => row,
            Err(StoreError::Db(e)) if is_unique_violation(&e) => {
                drop(tx);
                let row = new_row(id, reg, consents, now);
                return Err(self.viewer_conflict(forum, &row).await);
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        Ok(row)
    }

    /// Says which uniqueness rule a refused viewer broke.
    async fn viewer_conflict(&self, forum: &str, row: &ViewerRow) -> StoreError {
        let email_taken = sqlx::query("SELECT 1 FROM viewers WHERE forum = $1 AND email = $2")
            .bind(forum)
            .bind(&row.email)
            .fetch_optional(&self.pool)
            .await;
        match email_taken {
            Ok(Some(_)) => StoreError::Conflict(format!(
                "участник с адресом {} уже зарегистрирован",
                row.email
            )),
            Ok(None) => StoreError::Conflict(format!(
                "участник с идентификатором «{}» или такой ссылкой уже есть",
                row.id
            )),
            Err(e) => e.into(),
        }
    }

    /// The forum a personal link's token belongs to, whichever forum that is (a token is
    /// unique across forums): how a request with a link is served by its own forum.
    pub async fn forum_of_token_hash(&self, token_hash: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT forum FROM viewers WHERE token_hash = $1 \
             UNION ALL SELECT forum FROM viewer_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("forum")).transpose()?)
    }

    pub async fn viewer_by_token_hash(
        &self,
        forum: &str,
        token_hash: &str,
    ) -> StoreResult<Option<ViewerRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEWER_COLUMNS} WHERE forum = $1 AND token_hash = $2"
        )))
        .bind(forum)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            return row.as_ref().map(decode).transpose();
        }
        // A link minted for a letter (see `viewer_tokens`); looked up second so the usual
        // case stays one indexed query.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEWER_COLUMNS} WHERE forum = $1 AND id = \
             (SELECT viewer FROM viewer_tokens WHERE token_hash = $2 AND forum = $1)"
        )))
        .bind(forum)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    pub async fn viewer(&self, forum: &str, id: &str) -> StoreResult<Option<ViewerRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEWER_COLUMNS} WHERE forum = $1 AND id = $2"
        )))
        .bind(forum)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// All viewers of the forum, by id.
    pub async fn viewers(&self, forum: &str) -> StoreResult<Vec<ViewerRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{VIEWER_COLUMNS} WHERE forum = $1 ORDER BY id"
        )))
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Replaces a viewer's token hash: the old link, and every link e-mailed to them, stops
    /// working. False if no such viewer.
    pub async fn set_token_hash(
        &self,
        forum: &str,
        viewer: &str,
        token_hash: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE viewers SET token_hash = $1 WHERE forum = $2 AND id = $3")
            .bind(token_hash)
            .bind(forum)
            .bind(viewer)
            .execute(&mut *tx)
            .await;
        if matches!(&done, Ok(r) if r.rows_affected() == 1) {
            sqlx::query("DELETE FROM viewer_tokens WHERE forum = $1 AND viewer = $2")
                .bind(forum)
                .bind(viewer)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        match done {
            Ok(r) => Ok(r.rows_affected() == 1),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(
                "такая ссылка уже выдана другому участнику".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }
}

fn new_row(
    id: &str,
    reg: &Registration,
    consents: Option<ConsentVersions>,
    now: Millis,
) -> ViewerRow {
    ViewerRow {
        id: id.to_string(),
        name: reg.name.clone(),
        email: reg.email.trim().to_lowercase(),
        phone: reg.phone.clone(),
        education: reg.education,
        specialty: reg.specialty.clone(),
        snils: reg.snils.clone(),
        consent_at: now,
        consents,
        created_at: now,
    }
}

/// Inserts a viewer and their `viewer` event inside the caller's transaction. A unique
/// violation comes back as [`StoreError::Db`], for the caller to explain.
pub(super) async fn insert_viewer_in(
    tx: &mut AnyConnection,
    forum: &str,
    id: &str,
    reg: &Registration,
    consents: Option<ConsentVersions>,
    token_hash: &str,
    now: Millis,
) -> StoreResult<ViewerRow> {
    let row = new_row(id, reg, consents, now);
    sqlx::query(
        "INSERT INTO viewers (forum, id, name, email, phone, education, specialty, snils, \
         consent_at, consent_personal_data_version, consent_terms_version, created_at, \
         token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(forum)
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.email)
    .bind(&row.phone)
    .bind(row.education.as_str())
    .bind(&row.specialty)
    .bind(row.snils.clone())
    .bind(row.consent_at)
    .bind(consents.map(|c| c.personal_data))
    .bind(consents.map(|c| c.terms))
    .bind(row.created_at)
    .bind(token_hash)
    .execute(&mut *tx)
    .await?;
    let event = Event::new(
        now,
        EventBody::Viewer {
            viewer: row.id.as_str().into(),
            name: row.name.clone(),
            email: row.email.clone(),
            education: row.education,
            specialty: row.specialty.clone(),
        },
    );
    write_events(tx, forum, &[event]).await?;
    Ok(row)
}

fn decode(row: &AnyRow) -> StoreResult<ViewerRow> {
    let education: String = row.try_get("education")?;
    Ok(ViewerRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        education: Education::parse(&education)
            .ok_or_else(|| StoreError::Corrupt(format!("education «{education}»")))?,
        specialty: row.try_get("specialty")?,
        snils: row.try_get("snils")?,
        consent_at: row.try_get("consent_at")?,
        consents: match (
            row.try_get::<Option<i64>, _>("consent_personal_data_version")?,
            row.try_get::<Option<i64>, _>("consent_terms_version")?,
        ) {
            (Some(personal_data), Some(terms)) => Some(ConsentVersions {
                personal_data,
                terms,
            }),
            _ => None,
        },
        created_at: row.try_get("created_at")?,
    })
}
