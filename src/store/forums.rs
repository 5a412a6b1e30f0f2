//! Forums as stored, versioned data: the list of forums with their states, and every saved
//! version of each forum's TOML with who saved it and when.
//!
//! `forums.config` holds the latest version as the model (JSON), which is what the server
//! runs; `forum_versions` holds the text as it was sent, comments and all, so an organiser who
//! keeps the file in git gets back what they wrote. Versions are append-only (the migration's
//! triggers refuse UPDATE and DELETE). Validation happens before anything reaches the store:
//! these methods take a [`Forum`] that parsed and the text it parsed from.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, from_json, to_json};
use crate::domain::forum::{Forum, ForumState, Session, apply_frozen};
use crate::domain::time::Millis;

/// Who saved the versions a start of the server records from its configuration file.
pub const SAVED_BY_FILE: &str = "config/forum.toml";

/// A forum in the list.
#[derive(Debug, Clone)]
pub struct ForumRow {
    /// The latest saved version, as configured (frozen sessions not applied).
    pub forum: Forum,
    /// The state last set by hand; see [`ForumState::current`] for the state at a moment.
    pub state: ForumState,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub versions: i64,
    /// When its participants' personal data was removed (see `domain::retention`).
    pub personal_data_removed_at: Option<Millis>,
}

/// One saved version, without its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VersionRow {
    pub version: i64,
    pub saved_by: String,
    pub saved_at: Millis,
}

/// Whether a save makes a new forum or a new version of an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    Create,
    Replace,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The version now latest (the previous one when nothing changed).
    pub version: i64,
    /// False when the text was the same as the latest version's: nothing was written.
    pub changed: bool,
    /// A Russian line for every started session whose rules the edit would change: those
    /// sessions keep their frozen rules (as at a start of the server, see `sync_forum`).
    pub ignored_changes: Vec<String>,
}

const ROW: &str = "SELECT f.id, f.config, f.state, f.created_at, f.updated_at, f.personal_data_removed_at, \
     (SELECT COUNT(*) FROM forum_versions v WHERE v.forum = f.id) AS versions FROM forums f";

impl Store {
    /// Every forum, oldest first.
    pub async fn forums(&self) -> StoreResult<Vec<ForumRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ROW} ORDER BY f.created_at, f.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// One forum, if there is one with this id.
    pub async fn forum_row(&self, id: &str) -> StoreResult<Option<ForumRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ROW} WHERE f.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// The versions of a forum, oldest first.
    pub async fn forum_versions(&self, id: &str) -> StoreResult<Vec<VersionRow>> {
        let rows = sqlx::query(
            "SELECT version, saved_by, saved_at FROM forum_versions WHERE forum = $1 \
             ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(VersionRow {
                    version: r.try_get("version")?,
                    saved_by: r.try_get("saved_by")?,
                    saved_at: r.try_get("saved_at")?,
                })
            })
            .collect()
    }

    /// The text of version `version` of a forum (the latest with `None`), with its number.
    pub async fn forum_toml(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> StoreResult<Option<(i64, String)>> {
        let row =
            match version {
                Some(n) => sqlx::query(
                    "SELECT version, toml FROM forum_versions WHERE forum = $1 AND version = $2",
                )
                .bind(id)
                .bind(n)
                .fetch_optional(&self.pool)
                .await?,
                None => {
                    sqlx::query(
                        "SELECT version, toml FROM forum_versions WHERE forum = $1 \
                     ORDER BY version DESC LIMIT 1",
                    )
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                }
            };
        row.map(|r| Ok::<_, StoreError>((r.try_get("version")?, r.try_get("toml")?)))
            .transpose()
    }

    /// Saves `toml` (which parsed into `forum`) as the next version of `forum.id`, saved by
    /// `by` at `now`. A new forum starts as a draft. Refused with [`StoreError::Conflict`] when
    /// `Create` finds the id taken or `Replace` does not find it.
    pub async fn save_forum(
        &self,
        forum: &Forum,
        toml: &str,
        mode: SaveMode,
        by: &str,
        now: Millis,
    ) -> StoreResult<Saved> {
        // Read before the write transaction: on SQLite it holds the write lock.
        let ignored_changes = apply_frozen(forum, self.frozen_sessions(&forum.id).await?).1;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM forums WHERE id = $1")
            .bind(&forum.id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        match (mode, exists) {
            (SaveMode::Create, true) => {
                return Err(StoreError::Conflict(format!(
                    "Форум «{}» уже есть. Чтобы сохранить новую версию, отправьте её \
                     запросом PUT /api/org/forums/{}, или дайте новому форуму другой id.",
                    forum.id, forum.id
                )));
            }
            (SaveMode::Replace, false) => {
                return Err(StoreError::Conflict(format!(
                    "Форума «{}» нет; новый форум создаётся запросом POST /api/org/forums.",
                    forum.id
                )));
            }
            _ => {}
        }
        let latest = sqlx::query(
            "SELECT version, toml FROM forum_versions WHERE forum = $1 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(&forum.id)
        .fetch_optional(&mut *tx)
        .await?;
        let latest: Option<(i64, String)> = latest
            .map(|r| Ok::<_, StoreError>((r.try_get("version")?, r.try_get("toml")?)))
            .transpose()?;
        if let Some((version, text)) = &latest
            && text == toml
        {
            return Ok(Saved {
                version: *version,
                changed: false,
                ignored_changes,
            });
        }
        if mode == SaveMode::Create {
            sqlx::query(
                "INSERT INTO forums (id, config, updated_at, state, created_at) \
                 VALUES ($1, $2, $3, 'draft', $4)",
            )
            .bind(&forum.id)
            .bind(to_json(forum)?)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE forums SET config = $1, updated_at = $2 WHERE id = $3")
                .bind(to_json(forum)?)
                .bind(now)
                .bind(&forum.id)
                .execute(&mut *tx)
                .await?;
        }
        let version = latest.map_or(1, |(v, _)| v + 1);
        sqlx::query(
            "INSERT INTO forum_versions (forum, version, toml, saved_by, saved_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&forum.id)
        .bind(version)
        .bind(toml)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Saved {
            version,
            changed: true,
            ignored_changes,
        })
    }

    /// Whether anyone has been in `hall` of `forum`: a hall with a recorded event is part of
    /// someone's attendance and may not be removed from the forum.
    pub async fn hall_was_watched(&self, forum: &str, hall: &str) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 AS one FROM events WHERE forum = $1 AND hall = $2 LIMIT 1")
                .bind(forum)
                .bind(hall)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// The rules of the forum's sessions that have started, frozen as they started.
    pub async fn frozen_rules(&self, forum: &str) -> StoreResult<Vec<Session>> {
        self.frozen_sessions(forum).await
    }

    /// Records the state set by hand; false when there is no such forum. The caller checks
    /// the change is allowed ([`ForumState::change`]).
    pub async fn set_forum_state(
        &self,
        id: &str,
        state: ForumState,
        now: Millis,
    ) -> StoreResult<bool> {
        let n = sqlx::query("UPDATE forums SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(state.code())
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Appends `toml` as a version saved by the configuration file, unless another node just
    /// did (first writer wins). For `sync_forum`, which has decided the text is new.
    pub(super) async fn append_file_version(
        &self,
        forum: &str,
        toml: &str,
        now: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO forum_versions (forum, version, toml, saved_by, saved_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM forum_versions \
             WHERE forum = $1 ON CONFLICT (forum, version) DO NOTHING",
        )
        .bind(forum)
        .bind(toml)
        .bind(SAVED_BY_FILE)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn decode(r: &AnyRow) -> StoreResult<ForumRow> {
    let id: String = r.try_get("id")?;
    let state: String = r.try_get("state")?;
    Ok(ForumRow {
        forum: from_json(&format!("forum «{id}»"), &r.try_get::<String, _>("config")?)?,
        state: ForumState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("forum «{id}» state «{state}»")))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        versions: r.try_get("versions")?,
        personal_data_removed_at: r.try_get("personal_data_removed_at")?,
    })
}
