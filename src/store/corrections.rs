//! Forum-wide corrections in the store: append one, read a forum's in the order recorded.
//!
//! Append-only like the audit trail: no method changes or removes a correction, and the
//! migration's triggers refuse UPDATE and DELETE.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::decisions::{Change, Correction};

impl Store {
    /// Appends `c` to `forum`'s corrections; returns its id.
    pub async fn append_correction(&self, forum: &str, c: &Correction) -> StoreResult<i64> {
        let (kind, prompt, from, to) = match &c.change {
            Change::VoidPrompt { prompt } => ("void_prompt", Some(prompt.clone()), None, None),
            Change::Exclude { from, to } => ("exclude", None, Some(*from), Some(*to)),
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO corrections (forum, session, change, prompt, from_ms, to_ms, reason, \
             by_login, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(forum)
        .bind(&c.session)
        .bind(kind)
        .bind(prompt)
        .bind(from)
        .bind(to)
        .bind(&c.reason)
        .bind(&c.by)
        .bind(c.at)
        .fetch_one(&mut *tx)
        .await?;
        let id = row.try_get("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// `forum`'s corrections, in the order they were recorded.
    pub async fn corrections(&self, forum: &str) -> StoreResult<Vec<Correction>> {
        let rows = sqlx::query(
            "SELECT session, change, prompt, from_ms, to_ms, reason, by_login, at \
             FROM corrections WHERE forum = $1 ORDER BY id",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }
}

fn decode(r: &AnyRow) -> StoreResult<Correction> {
    let kind: String = r.try_get("change")?;
    let change = match kind.as_str() {
        "void_prompt" => Change::VoidPrompt {
            prompt: r.try_get("prompt")?,
        },
        "exclude" => Change::Exclude {
            from: r.try_get("from_ms")?,
            to: r.try_get("to_ms")?,
        },
        other => {
            return Err(StoreError::Corrupt(format!("correction kind «{other}»")));
        }
    };
    Ok(Correction {
        session: r.try_get("session")?,
        change,
        reason: r.try_get("reason")?,
        by: r.try_get("by_login")?,
        at: r.try_get("at")?,
    })
}
