//! The served forum's configuration, frozen session rules, prompt schedules and prompt claims.
//!
//! Everything here is decided "first writer wins": insert if absent, then read back what is
//! stored. That is how several processes sharing one database agree without locks on which
//! rules a session runs under, which schedule it follows and who fires each planned prompt.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, StoredSchedule, SyncReport, from_json, to_json};
use crate::domain::forum::config::to_toml;
use crate::domain::forum::{Forum, Session, apply_frozen};
use crate::domain::schedule::Seed;
use crate::domain::time::Millis;

impl Store {
    /// Stores the forum configuration and freezes the rules of every session that has started
    /// by `now`. A frozen session's rules never change afterwards.
    ///
    /// The file is also a version of the forum (see `forums.rs`): when what it says differs
    /// from what is stored, or nothing is stored yet, its text is appended as a version saved
    /// by «config/forum.toml». A forum first stored here is published: it is being served.
    pub async fn sync_forum(&self, forum: &Forum, now: Millis) -> StoreResult<SyncReport> {
        let config = to_json(forum)?;
        let stored: Option<String> = sqlx::query("SELECT config FROM forums WHERE id = $1")
            .bind(&forum.id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("config"))
            .transpose()?;
        sqlx::query(
            "INSERT INTO forums (id, config, updated_at, state, created_at) \
             VALUES ($1, $2, $3, 'registration', $4) \
             ON CONFLICT (id) DO UPDATE SET config = excluded.config, \
             updated_at = excluded.updated_at",
        )
        .bind(&forum.id)
        .bind(&config)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if stored.as_deref() != Some(config.as_str())
            || self.forum_toml(&forum.id, None).await?.is_none()
        {
            self.append_file_version(&forum.id, &to_toml(forum), now)
                .await?;
        }

        let newly_frozen = self.freeze_started(forum, now).await?;

        let frozen = self.frozen_sessions(&forum.id).await?;
        let (effective, ignored_changes) = apply_frozen(forum, frozen);
        Ok(SyncReport {
            effective,
            newly_frozen,
            ignored_changes,
        })
    }

    /// Freezes the rules of every session of `forum` that has started by `now` and is not
    /// frozen yet, as configured now; the ids of those it froze. Whoever freezes first wins
    /// (several nodes may start the same forum at once).
    pub async fn freeze_started(&self, forum: &Forum, now: Millis) -> StoreResult<Vec<String>> {
        let mut newly_frozen = Vec::new();
        for s in forum.sessions.iter().filter(|s| s.starts <= now) {
            let inserted = sqlx::query(
                "INSERT INTO sessions_frozen (forum, session, rules, frozen_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (forum, session) DO NOTHING",
            )
            .bind(&forum.id)
            .bind(&s.id)
            .bind(to_json(s)?)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                tracing::info!(forum = forum.id, session = s.id, "session rules frozen");
                newly_frozen.push(s.id.clone());
            }
        }
        Ok(newly_frozen)
    }

    /// The forum as the server judges it, without changing anything: the configuration with
    /// every frozen session's stored rules in its place. For commands that read the store
    /// while (or after) a server runs, such as exports.
    pub async fn effective_forum(&self, forum: &Forum) -> StoreResult<Forum> {
        let frozen = self.frozen_sessions(&forum.id).await?;
        Ok(apply_frozen(forum, frozen).0)
    }

    pub(super) async fn frozen_sessions(&self, forum: &str) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(
            "SELECT session, rules FROM sessions_frozen WHERE forum = $1 \
             ORDER BY frozen_at, session",
        )
        .bind(forum)
        .fetch_all(&self.pool)
        .await?;
        let mut frozen: Vec<Session> = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("session")?;
            let rules: String = row.try_get("rules")?;
            frozen.push(from_json(&format!("frozen rules of «{id}»"), &rules)?);
        }
        Ok(frozen)
    }

    /// Replaces the times of a session's stored schedule (its seed stays): a session moved
    /// before it started is planned again from the same seed, so every node writes the same
    /// times.
    pub async fn reschedule(
        &self,
        forum: &str,
        session: &str,
        times: &[crate::domain::time::Millis],
    ) -> StoreResult<()> {
        sqlx::query("UPDATE schedules SET times = $1 WHERE forum = $2 AND session = $3")
            .bind(to_json(&times)?)
            .bind(forum)
            .bind(session)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a session's schedule unless one is stored already; returns the stored one
    /// (first writer wins, so several nodes agree on one schedule).
    pub async fn schedule_or_insert(
        &self,
        forum: &str,
        schedule: &StoredSchedule,
    ) -> StoreResult<StoredSchedule> {
        sqlx::query(
            "INSERT INTO schedules (forum, session, seed, times) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (forum, session) DO NOTHING",
        )
        .bind(forum)
        .bind(&schedule.session)
        .bind(schedule.seed.to_hex())
        .bind(to_json(&schedule.times)?)
        .execute(&self.pool)
        .await?;
        let row =
            sqlx::query("SELECT seed, times FROM schedules WHERE forum = $1 AND session = $2")
                .bind(forum)
                .bind(&schedule.session)
                .fetch_one(&self.pool)
                .await?;
        let seed: String = row.try_get("seed")?;
        let times: String = row.try_get("times")?;
        Ok(StoredSchedule {
            session: schedule.session.clone(),
            seed: Seed::from_hex(&seed).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            times: from_json("schedule times", &times)?,
        })
    }

    /// Claims planned prompt `index` of `session` for firing as `prompt_id`; true for exactly
    /// one caller, however many nodes try.
    pub async fn claim_planned_prompt(
        &self,
        forum: &str,
        session: &str,
        index: u32,
        prompt_id: &str,
    ) -> StoreResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO planned_prompts (forum, session, idx, prompt_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (forum, session, idx) DO NOTHING",
        )
        .bind(forum)
        .bind(session)
        .bind(i64::from(index))
        .bind(prompt_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
