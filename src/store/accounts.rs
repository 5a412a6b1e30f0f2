//! Changes to organiser accounts: role, disabled, password. Each runs in one transaction with
//! what it implies for sign-ins (a disabled account's end; a new password ends the others),
//! and none leaves the installation without an enabled administrator.

use sqlx::{AnyConnection, Row};

use super::tx::WriteTx;
use super::{Store, StoreError, StoreResult};
use crate::domain::roles::Role;

/// What a change found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed<T> {
    pub before: T,
    /// Sign-ins the change ended.
    pub sessions_ended: u64,
}

impl Store {
    /// Account changes run one at a time: two administrators demoting each other at once must
    /// not leave nobody in charge. SQLite's `BEGIN IMMEDIATE` already serialises writers; on
    /// Postgres the table is locked against other writers (readers, i.e. sign-ins, go on).
    async fn begin_account_change(&self) -> StoreResult<WriteTx> {
        let mut tx = self.begin_write().await?;
        if self.postgres {
            sqlx::query("LOCK TABLE organisers IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Sets `login`'s role; its current role, or `None` when there is no such account.
    pub async fn set_role(&self, login: &str, role: Role) -> StoreResult<Option<Changed<Role>>> {
        let mut tx = self.begin_account_change().await?;
        let Some((before, disabled)) = state_of(&mut tx, login).await? else {
            return Ok(None);
        };
        if before == Role::Admin && role != Role::Admin && !disabled {
            last_admin_guard(&mut tx, login, "сменить роль").await?;
        }
        sqlx::query("UPDATE organisers SET role = $1 WHERE login = $2")
            .bind(role.code())
            .bind(login)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Changed {
            before,
            sessions_ended: 0,
        }))
    }

    /// Disables or enables `login`; disabling ends every sign-in of theirs. Whether it was
    /// disabled before, or `None` when there is no such account.
    pub async fn set_disabled(
        &self,
        login: &str,
        disabled: bool,
    ) -> StoreResult<Option<Changed<bool>>> {
        let mut tx = self.begin_account_change().await?;
        let Some((role, before)) = state_of(&mut tx, login).await? else {
            return Ok(None);
        };
        if disabled && !before && role == Role::Admin {
            last_admin_guard(&mut tx, login, "отключить").await?;
        }
        sqlx::query("UPDATE organisers SET disabled = $1 WHERE login = $2")
            .bind(i32::from(disabled))
            .bind(login)
            .execute(&mut *tx)
            .await?;
        let sessions_ended = if disabled {
            sqlx::query("DELETE FROM logins WHERE login = $1")
                .bind(login)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(Some(Changed {
            before,
            sessions_ended,
        }))
    }

    /// Gives `login` a new password and ends their sign-ins, all but the one whose token hash
    /// is `keep` (a person changing their own password stays signed in where they did it).
    /// `None` when there is no such account.
    pub async fn set_password(
        &self,
        login: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<Option<Changed<()>>> {
        let mut tx = self.begin_account_change().await?;
        let updated = sqlx::query("UPDATE organisers SET password_hash = $1 WHERE login = $2")
            .bind(password_hash)
            .bind(login)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        let sessions_ended =
            sqlx::query("DELETE FROM logins WHERE login = $1 AND token_hash <> $2")
                .bind(login)
                .bind(keep.unwrap_or(""))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(Some(Changed {
            before: (),
            sessions_ended,
        }))
    }
}

/// `login`'s role and whether it is disabled.
async fn state_of(tx: &mut AnyConnection, login: &str) -> StoreResult<Option<(Role, bool)>> {
    let row = sqlx::query("SELECT role, disabled FROM organisers WHERE login = $1")
        .bind(login)
        .fetch_optional(&mut *tx)
        .await?;
    row.map(|r| {
        let role: String = r.try_get("role")?;
        let role = Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown organiser role {role}")))?;
        Ok((role, r.try_get::<i64, _>("disabled")? != 0))
    })
    .transpose()
}

/// Refuses a change that would leave no enabled administrator but `login`.
async fn last_admin_guard(tx: &mut AnyConnection, login: &str, what: &str) -> StoreResult<()> {
    let others: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM organisers WHERE role = 'admin' AND disabled = 0 AND login <> $1",
    )
    .bind(login)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    if others == 0 {
        return Err(StoreError::Conflict(format!(
            "Нельзя {what} «{login}»: это единственный действующий администратор. Сначала \
             назначьте администратором другую учётную запись."
        )));
    }
    Ok(())
}
