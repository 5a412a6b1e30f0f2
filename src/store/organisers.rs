//! Organiser accounts, their roles and their signed-in sessions.
//!
//! Passwords arrive already hashed (argon2, by the caller) and session tokens as hashes, so
//! the database never holds anything that signs a person in by itself. A session counts only
//! while its account is enabled, and it carries the account's role as it is now: a role
//! changed or an account disabled takes effect at the next request.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, is_unique_violation};
use crate::domain::roles::Role;
use crate::domain::time::Millis;

/// An account as the accounts page lists it (never its password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub login: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Millis,
    /// Sign-ins that have not expired.
    pub sessions: i64,
}

/// Who a session token belongs to, as of now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub login: String,
    pub role: Role,
}

/// An account with its sign-ins unexpired at $1.
const ACCOUNT: &str = "SELECT o.login, o.role, o.disabled, o.created_at, \
     (SELECT COUNT(*) FROM logins l WHERE l.login = o.login AND l.expires > $1) AS sessions \
     FROM organisers o";

fn decode_account(r: &AnyRow) -> StoreResult<Account> {
    Ok(Account {
        login: r.try_get("login")?,
        role: role_of(&r.try_get::<String, _>("role")?)?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        sessions: r.try_get("sessions")?,
    })
}

fn role_of(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown organiser role {text}")))
}

impl Store {
    /// An administrator account. Conflict if the login exists.
    pub async fn insert_organiser(
        &self,
        login: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<()> {
        self.insert_organiser_as(login, password_hash, Role::Admin, now)
            .await
    }

    /// An account with `role`. Conflict if the login exists.
    pub async fn insert_organiser_as(
        &self,
        login: &str,
        password_hash: &str,
        role: Role,
        now: Millis,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO organisers (login, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(login)
        .bind(password_hash)
        .bind(role.code())
        .bind(now)
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "Организатор с логином «{login}» уже есть"
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

    /// One account, with its sign-ins unexpired at `now`.
    pub async fn account(&self, login: &str, now: Millis) -> StoreResult<Option<Account>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ACCOUNT} WHERE o.login = $2")))
            .bind(now)
            .bind(login)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_account).transpose()
    }

    /// Every account, by login.
    pub async fn accounts(&self, now: Millis) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{ACCOUNT} ORDER BY o.login")))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_account).collect()
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

    /// The enabled organiser signed in with this session token, with their current role, if
    /// the sign-in has not expired at `now`.
    pub async fn signed_in(&self, token_hash: &str, now: Millis) -> StoreResult<Option<SignedIn>> {
        let row = sqlx::query(
            "SELECT o.login, o.role FROM logins l JOIN organisers o ON o.login = l.login \
             WHERE l.token_hash = $1 AND l.expires > $2 AND o.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SignedIn {
                login: r.try_get("login")?,
                role: role_of(&r.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    /// [`Store::signed_in`]'s login.
    pub async fn login_by_token_hash(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<String>> {
        Ok(self.signed_in(token_hash, now).await?.map(|s| s.login))
    }

    pub async fn delete_login(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM logins WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
