//! Viewers' appeals in the store: file, edit while open, answer once (with the decision a
//! grant makes and the letter to the viewer, in one transaction), and read them back.
//!
//! "At most one open appeal per (forum, viewer, session)" is a unique partial index, so two
//! tabs filing at once cannot both succeed; "answered once" is `UPDATE … WHERE state =
//! 'open'`, so two organisers answering at once cannot both succeed either.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::decisions::insert_decision;
use super::mail::enqueue_in;
use super::{NewLetter, Store, StoreError, StoreResult, is_unique_violation};
use crate::domain::appeals::{Answer, Appeal, State};
use crate::domain::decisions::Decision;
use crate::domain::time::Millis;

const COLUMNS: &str = "id, viewer, session, text, created_at, updated_at, state, answer_grant, \
                       answer_reason, answered_by, answered_at";

/// What the viewer is told when an open appeal for the session already exists.
const ALREADY_OPEN: &str =
    "По этой сессии уже есть обращение, оно ждёт ответа. Вы можете изменить его текст.";

impl Store {
    /// Files a new open appeal; a second open one for the same session is a conflict.
    pub async fn file_appeal(
        &self,
        forum: &str,
        viewer: &str,
        session: &str,
        text: &str,
        now: Millis,
    ) -> StoreResult<Appeal> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO appeals (forum, viewer, session, text, created_at, updated_at, state) \
             VALUES ($1, $2, $3, $4, $5, $5, 'open') RETURNING {COLUMNS}"
        )))
        .bind(forum)
        .bind(viewer)
        .bind(session)
        .bind(text)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let row = match row {
            Ok(r) => r,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict(ALREADY_OPEN.into()));
            }
            Err(e) => return Err(e.into()),
        };
        let appeal = decode(&row)?;
        tx.commit().await?;
        Ok(appeal)
    }

    /// Changes an open appeal's text; `None` if the viewer has no open appeal with this id.
    pub async fn edit_appeal(
        &self,
        forum: &str,
        viewer: &str,
        id: i64,
        text: &str,
        now: Millis,
    ) -> StoreResult<Option<Appeal>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE appeals SET text = $1, updated_at = $2 \
             WHERE forum = $3 AND viewer = $4 AND id = $5 AND state = 'open' RETURNING {COLUMNS}"
        )))
        .bind(text)
        .bind(now)
        .bind(forum)
        .bind(viewer)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let appeal = row.as_ref().map(decode).transpose()?;
        tx.commit().await?;
        Ok(appeal)
    }

    /// Answers an open appeal: records the answer, appends `decision` (a grant's) and queues
    /// `letter`, all or nothing. `None` if the appeal is not open (answered meanwhile, or
    /// never there).
    pub async fn answer_appeal(
        &self,
        forum: &str,
        id: i64,
        answer: &Answer,
        decision: Option<&Decision>,
        letter: Option<&NewLetter>,
    ) -> StoreResult<Option<Appeal>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE appeals SET state = 'answered', answer_grant = $1, answer_reason = $2, \
             answered_by = $3, answered_at = $4 \
             WHERE forum = $5 AND id = $6 AND state = 'open' RETURNING {COLUMNS}"
        )))
        .bind(i64::from(answer.grant))
        .bind(&answer.reason)
        .bind(&answer.by)
        .bind(answer.at)
        .bind(forum)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let appeal = decode(&row)?;
        if let Some(d) = decision {
            insert_decision(&mut tx, forum, d).await?;
        }
        if let Some(l) = letter {
            enqueue_in(&mut tx, forum, l, answer.at).await?;
        }
        tx.commit().await?;
        Ok(Some(appeal))
    }

    pub async fn appeal(&self, forum: &str, id: i64) -> StoreResult<Option<Appeal>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM appeals WHERE forum = $1 AND id = $2"
        )))
        .bind(forum)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// One viewer's appeals, oldest first.
    pub async fn viewer_appeals(&self, forum: &str, viewer: &str) -> StoreResult<Vec<Appeal>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM appeals WHERE forum = $1 AND viewer = $2 ORDER BY id"
        )))
        .bind(forum)
        .bind(viewer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The organiser's queue: open appeals first, each group oldest first.
    pub async fn appeals(&self, forum: &str) -> StoreResult<Vec<Appeal>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM appeals WHERE forum = $1 \
             ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END, created_at, id"
        )))
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(r: &AnyRow) -> StoreResult<Appeal> {
    let state: String = r.try_get("state")?;
    let state = State::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("appeal state «{state}»")))?;
    let grant: Option<i64> = r.try_get("answer_grant")?;
    let answer = match (grant, state) {
        (Some(g), State::Answered) => Some(Answer {
            grant: g != 0,
            reason: r
                .try_get::<Option<String>, _>("answer_reason")?
                .unwrap_or_default(),
            by: r
                .try_get::<Option<String>, _>("answered_by")?
                .unwrap_or_default(),
            at: r
                .try_get::<Option<i64>, _>("answered_at")?
                .unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Appeal {
        id: r.try_get("id")?,
        viewer: r.try_get("viewer")?,
        session: r.try_get("session")?,
        text: r.try_get("text")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        state,
        answer,
    })
}
