//! Organiser accounts and their signed-in sessions.
//!
//! Passwords arrive already hashed (argon2, by the caller) and session tokens as hashes, so
//! the database never holds anything that signs a person in by itself.

use sqlx::Row;

use super::{Store, StoreError, StoreResult, is_unique_violation};
use crate::domain::time::Millis;

impl Store {
    /// Conflict if the login exists.
    pub async fn insert_organiser(
        &self,
        login: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO organisers (login, password_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(login)
        .bind(password_hash)
        .bind(now)
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "организатор с логином «{login}» уже есть"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn organiser_password_hash(&self, login: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM organisers WHERE login = $1")
            .bind(login)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("password_hash")).transpose()?)
    }

    /// Records a sign-in of an existing organiser until `expires`.
    pub async fn insert_login(
        &self,
        token_hash: &str,
        login: &str,
        expires: Millis,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO logins (token_hash, login, expires) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(login)
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The organiser signed in with this session token, if it has not expired at `now`.
    pub async fn login_by_token_hash(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT login FROM logins WHERE token_hash = $1 AND expires > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("login")).transpose()?)
    }

    pub async fn delete_login(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM logins WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives an existing organiser a new password and ends every sign-in of theirs, in one
    /// transaction: a password reset after a leak must also lock out whoever used the old
    /// one. False when there is no such login (nothing changes).
    pub async fn reset_organiser_password(
        &self,
        login: &str,
        password_hash: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE organisers SET password_hash = $1 WHERE login = $2")
            .bind(password_hash)
            .bind(login)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            // Nothing was changed: ending the transaction normally keeps its connection.
            tx.commit().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM logins WHERE login = $1")
            .bind(login)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}
