//! The audit trail in the store: append an entry, read entries newest first with filters.
//!
//! There is deliberately no method that changes or removes an entry, and the migrations add
//! triggers that refuse UPDATE and DELETE on the table, so the trail is append-only both
//! through this API and in the database.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreResult, from_json, to_json};
use crate::domain::audit::{Entry, Filter, NewEntry};

const COLUMNS: &str = "id, at, forum, actor, role, address, action, description, details";

/// The filter's WHERE clause; parameters $1–$4 are actor, action, from, to (NULL matches all).
const WHERE: &str = "($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
                     AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)";

impl Store {
    /// Appends one entry; returns its id.
    pub async fn append_audit(&self, e: &NewEntry) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO audit_log (at, forum, actor, role, address, action, description, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(e.at)
        .bind(e.forum.clone())
        .bind(&e.actor.login)
        .bind(e.actor.role.map(|r| r.code()))
        .bind(e.actor.address.clone())
        .bind(e.action.code())
        .bind(&e.description)
        .bind(to_json(&e.details)?)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Up to `limit` entries matching `f`, newest first (in the order they were recorded),
    /// older than the entry `before` when given: pages that do not shift as entries arrive.
    pub async fn audit_page(
        &self,
        f: &Filter,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Entry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {WHERE} AND ($5 IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6"
        )))
        .bind(f.actor.clone())
        .bind(f.action.map(|a| a.code()))
        .bind(f.from)
        .bind(f.to)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// How many entries match `f`.
    pub async fn audit_count(&self, f: &Filter) -> StoreResult<i64> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE {WHERE}"
        )))
        .bind(f.actor.clone())
        .bind(f.action.map(|a| a.code()))
        .bind(f.from)
        .bind(f.to)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

fn decode(r: &AnyRow) -> StoreResult<Entry> {
    Ok(Entry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        forum: r.try_get("forum")?,
        actor: r.try_get("actor")?,
        role: r.try_get("role")?,
        address: r.try_get("address")?,
        action: r.try_get("action")?,
        description: r.try_get("description")?,
        details: from_json("audit details", &r.try_get::<String, _>("details")?)?,
    })
}
