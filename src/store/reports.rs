//! Reads for documents made after a forum (exports, certificates, the public code check) and
//! the extra personal-link tokens minted for e-mailed links.

use std::collections::HashMap;

use sqlx::Row;

use super::{Store, StoreError, StoreResult};
use crate::domain::forum::Education;
use crate::domain::time::Millis;

/// Everything an export reads from the store: the log in the rules' order, the issued codes
/// (session → viewer → code) and the registered viewers per (education, specialty).
#[derive(Debug, Clone, Default)]
pub struct ExportRead {
    pub events: Vec<crate::domain::log::Event>,
    pub codes: HashMap<String, HashMap<String, String>>,
    pub registered: Vec<(Education, String, u64)>,
    /// Organisers' decisions, in the order recorded.
    pub decisions: Vec<crate::domain::decisions::Decision>,
}

/// An issued code and whom it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRow {
    pub session: String,
    pub viewer: String,
    pub code: String,
    pub issued_at: Option<Millis>,
}

impl Store {
    /// Everything an export reads: the log, the issued codes and the registration counts.
    pub async fn export_input(&self, forum: &str) -> StoreResult<ExportRead> {
        Ok(ExportRead {
            events: self.whole_log(forum).await?,
            codes: self.issued_codes(forum).await?,
            registered: self.registered_counts(forum).await?,
            decisions: self.decisions(forum).await?,
        })
    }

    /// Every issued code of the forum: session → viewer → code.
    pub async fn issued_codes(
        &self,
        forum: &str,
    ) -> StoreResult<HashMap<String, HashMap<String, String>>> {
        let rows = sqlx::query(
            "SELECT session, viewer, code FROM codes WHERE forum = $1 AND viewer IS NOT NULL",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
        for r in &rows {
            out.entry(r.try_get("session")?)
                .or_default()
                .insert(r.try_get("viewer")?, r.try_get("code")?);
        }
        Ok(out)
    }

    /// One viewer's issued codes as (session, code), by session.
    pub async fn viewer_codes(
        &self,
        forum: &str,
        viewer: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT session, code FROM codes WHERE forum = $1 AND viewer = $2 ORDER BY session",
        )
        .bind(forum)
        .bind(viewer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("session")?, r.try_get("code")?)))
            .collect()
    }

    /// Who holds an issued code; `None` for a code never issued (pooled codes not yet given to
    /// anyone included: the public check must not reveal the commission's pool).
    pub async fn issued_code(&self, forum: &str, code: &str) -> StoreResult<Option<IssuedRow>> {
        let row = sqlx::query(
            "SELECT session, viewer, code, issued_at FROM codes \
             WHERE forum = $1 AND code = $2 AND viewer IS NOT NULL",
        )
        .bind(forum)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(IssuedRow {
                session: r.try_get("session")?,
                viewer: r.try_get("viewer")?,
                code: r.try_get("code")?,
                issued_at: r.try_get("issued_at")?,
            })
        })
        .transpose()
    }

    /// Registered viewers counted by (education, specialty as registered).
    pub async fn registered_counts(
        &self,
        forum: &str,
    ) -> StoreResult<Vec<(Education, String, u64)>> {
        let rows = sqlx::query(
            "SELECT education, specialty, COUNT(*) AS n FROM viewers WHERE forum = $1 \
             GROUP BY education, specialty ORDER BY education, specialty",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let education: String = r.try_get("education")?;
                let n: i64 = r.try_get("n")?;
                Ok((
                    Education::parse(&education)
                        .ok_or_else(|| StoreError::Corrupt(format!("education «{education}»")))?,
                    r.try_get("specialty")?,
                    n.max(0) as u64,
                ))
            })
            .collect()
    }

    /// Adds a personal-link token for `viewer` besides the one they have (see `viewer_tokens`
    /// in the migration): e-mailing a link must not break the one already open in a tab.
    pub async fn add_viewer_token(
        &self,
        forum: &str,
        viewer: &str,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO viewer_tokens (token_hash, forum, viewer, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(forum)
        .bind(viewer)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Withdraws a token minted for a letter that was never delivered.
    pub async fn remove_viewer_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM viewer_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
