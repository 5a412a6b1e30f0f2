//! Keys every node of an installation shares (`server_secrets`): made once, by the first node
//! that asks, and the same for every node after, so what one node signs another can check.

use sqlx::Row;

use super::{Store, StoreResult};

impl Store {
    /// The secret called `name`, storing `fresh` as it if there is none yet. `fresh` is made
    /// by the caller (the store has no random source), and only the first one stored counts.
    pub async fn secret(&self, name: &str, fresh: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}
