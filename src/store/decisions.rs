//! Organisers' decisions in the store: appended, never changed (the migrations add triggers
//! that refuse UPDATE and DELETE); the latest per (viewer, session) is in force
//! (`domain::decided::InForce`).

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Store, StoreError, StoreResult};
use crate::domain::decided::InForce;
use crate::domain::decisions::{Decision, Outcome};

const COLUMNS: &str = "viewer, session, outcome, reason, decided_by, at, appeal";

impl Store {
    /// Appends one decision.
    pub async fn record_decision(&self, forum: &str, d: &Decision) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        insert_decision(&mut tx, forum, d).await?;
        tx.commit().await
    }

    /// Every decision of the forum, in the order recorded.
    pub async fn decisions(&self, forum: &str) -> StoreResult<Vec<Decision>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM decisions WHERE forum = $1 ORDER BY id"
        )))
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// One viewer's decisions, in the order recorded.
    pub async fn viewer_decisions(&self, forum: &str, viewer: &str) -> StoreResult<Vec<Decision>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM decisions WHERE forum = $1 AND viewer = $2 ORDER BY id"
        )))
        .bind(forum)
        .bind(viewer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The codes a certificate lists: the viewer's issued codes, less those of sessions whose
    /// credit was withdrawn after the code was issued (the code was sent and stays issued, but
    /// the certificate no longer vouches for it).
    pub async fn certified_codes(
        &self,
        forum: &str,
        viewer: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let codes = self.viewer_codes(forum, viewer).await?;
        let in_force = InForce::new(self.viewer_decisions(forum, viewer).await?);
        Ok(codes
            .into_iter()
            .filter(|(session, _)| in_force.credited(viewer, session, true))
            .collect())
    }

    /// Every issued code a certificate lists: session → viewer → code, less the sessions
    /// whose credit was withdrawn (see [`Store::certified_codes`]).
    pub async fn certified_issued_codes(
        &self,
        forum: &str,
    ) -> StoreResult<HashMap<String, HashMap<String, String>>> {
        let mut codes = self.issued_codes(forum).await?;
        let in_force = InForce::new(self.decisions(forum).await?);
        for (session, holders) in codes.iter_mut() {
            holders.retain(|viewer, _| in_force.credited(viewer, session, true));
        }
        codes.retain(|_, holders| !holders.is_empty());
        Ok(codes)
    }
}

pub(super) async fn insert_decision(
    tx: &mut AnyConnection,
    forum: &str,
    d: &Decision,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO decisions (forum, viewer, session, outcome, reason, decided_by, at, appeal) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(forum)
    .bind(&d.viewer)
    .bind(&d.session)
    .bind(d.outcome.code())
    .bind(&d.reason)
    .bind(&d.by)
    .bind(d.at)
    .bind(d.appeal)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn decode(r: &AnyRow) -> StoreResult<Decision> {
    let outcome: String = r.try_get("outcome")?;
    Ok(Decision {
        viewer: r.try_get("viewer")?,
        session: r.try_get("session")?,
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("decision outcome «{outcome}»")))?,
        reason: r.try_get("reason")?,
        by: r.try_get("decided_by")?,
        at: r.try_get("at")?,
        appeal: r.try_get("appeal")?,
    })
}
