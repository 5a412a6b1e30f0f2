//! НМО codes: the commission's pools and the codes issued to viewers.
//!
//! A code must reach exactly one viewer and a viewer gets at most one code per session; the
//! table's unique keys enforce both, and [`Store::save_codes`] writes a whole issuing run in
//! one transaction, so a conflict leaves the stored codes exactly as they were.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{CodeRow, Store, StoreError, StoreResult, is_unique_violation};

impl Store {
    /// The forum's codes: by session, pooled ones in pool order, then by code.
    pub async fn codes(&self, forum: &str) -> StoreResult<Vec<CodeRow>> {
        let rows = sqlx::query(
            "SELECT session, code, viewer, pooled, position, issued_at FROM codes \
             WHERE forum = $1 ORDER BY session, pooled DESC, position, code",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// How many codes each viewer holding any has been issued.
    pub async fn code_counts(
        &self,
        forum: &str,
    ) -> StoreResult<std::collections::HashMap<String, i64>> {
        let rows = sqlx::query(
            "SELECT viewer, CAST(COUNT(*) AS BIGINT) FROM codes \
             WHERE forum = $1 AND viewer IS NOT NULL GROUP BY viewer",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Inserts new pooled and/or issued code rows and marks pooled codes as issued, all in one
    /// transaction: on any conflict nothing is written.
    pub async fn save_codes(&self, forum: &str, rows: &[CodeRow]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for row in rows {
            match save_one(&mut tx, forum, row).await {
                Ok(()) => {}
                // Dropping `tx` rolls back everything this call wrote.
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(conflict_message(row)));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn save_one(conn: &mut AnyConnection, forum: &str, row: &CodeRow) -> sqlx::Result<()> {
    if row.pooled && row.viewer.is_some() {
        // Issuing a code from the pool: the pooled row is there, not yet issued.
        let updated = sqlx::query(
            "UPDATE codes SET viewer = $1, issued_at = $2 \
             WHERE forum = $3 AND code = $4 AND session = $5 AND pooled = 1 AND viewer IS NULL",
        )
        .bind(row.viewer.clone())
        .bind(row.issued_at)
        .bind(forum)
        .bind(&row.code)
        .bind(&row.session)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 1 {
            return Ok(());
        }
    }
    // A new pooled code, a generated code, or a pooled code not stored as pooled before: a
    // code already present (issued or not) fails on the primary key.
    sqlx::query(
        "INSERT INTO codes (forum, code, session, viewer, pooled, position, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(forum)
    .bind(&row.code)
    .bind(&row.session)
    .bind(row.viewer.clone())
    .bind(i32::from(row.pooled))
    .bind(row.position)
    .bind(row.issued_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn conflict_message(row: &CodeRow) -> String {
    match &row.viewer {
        Some(viewer) => format!(
            "код {} сессии «{}» не выдан участнику «{viewer}»: этот код уже есть в базе или \
             участнику уже выдан код этой сессии; ничего не сохранено",
            row.code, row.session
        ),
        None => format!(
            "код {} сессии «{}» уже есть в базе; ничего не сохранено",
            row.code, row.session
        ),
    }
}

fn decode(row: &AnyRow) -> StoreResult<CodeRow> {
    let pooled: i64 = row.try_get("pooled")?;
    Ok(CodeRow {
        session: row.try_get("session")?,
        code: row.try_get("code")?,
        viewer: row.try_get("viewer")?,
        pooled: pooled != 0,
        position: row.try_get("position")?,
        issued_at: row.try_get("issued_at")?,
    })
}
