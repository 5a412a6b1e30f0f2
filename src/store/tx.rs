//! Write transactions that cannot poison the pool.
//!
//! sqlx counts each connection's transaction depth itself. When SQLite rolls a transaction
//! back on its own — it does after "disk full" and I/O errors — the `ROLLBACK` that sqlx sends
//! when the `Transaction` is dropped fails ("no transaction is active"), the count stays at one,
//! and the connection goes back to the pool looking healthy. Every later `BEGIN IMMEDIATE` on
//! it then fails with "attempted to call begin_with at non-zero transaction depth", until the
//! process restarts: one full disk broke recording for good.
//!
//! So write transactions are run by hand on a connection of their own: `BEGIN`, statements,
//! `COMMIT`. A transaction that does not commit (an error, a failed `COMMIT`, a dropped future)
//! is rolled back and its connection closed; the pool opens a fresh one when it needs one.
//! A connection that may be half-open is never reused. (This costs a reconnect after a refused
//! write such as a second registration with one e-mail: rare, and cheap next to the outage
//! that reusing a bad connection caused.)

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Executor};

use super::{Store, StoreResult};

/// How long a rollback may take before the connection is given up instead.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// An open write transaction; derefs to its connection. [`WriteTx::commit`] ends it; dropping
/// it rolls back and closes the connection (on a task of its own, since `Drop` cannot wait).
pub(crate) struct WriteTx {
    conn: Option<PoolConnection<Any>>,
}

impl Store {
    /// A transaction that is going to write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later can fail
    /// with "database is locked" without waiting, because its snapshot may be stale.
    pub(crate) async fn begin_write(&self) -> StoreResult<WriteTx> {
        let conn = self.pool.acquire().await?;
        let mut tx = WriteTx { conn: Some(conn) };
        let begin = if self.postgres {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        };
        // On failure `tx` is dropped: rolled back or discarded like any other.
        tx.execute(begin).await?;
        Ok(tx)
    }
}

impl WriteTx {
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let result = self.execute("COMMIT").await;
        match result {
            Ok(_) => {
                // Committed: the connection is clean and goes back to the pool.
                self.conn.take();
                Ok(())
            }
            Err(e) => {
                if let Some(conn) = self.conn.take() {
                    roll_back(conn).await;
                }
                Err(e.into())
            }
        }
    }
}

/// Rolls back (as far as the connection still can) and closes the connection.
async fn roll_back(mut conn: PoolConnection<Any>) {
    if let Ok(Err(e)) = tokio::time::timeout(ROLLBACK_TIMEOUT, conn.execute("ROLLBACK")).await {
        // SQLite says "no transaction is active" when it rolled back by itself.
        tracing::debug!(error = %e, "rollback of a failed transaction failed");
    }
    metrics::counter!("yavka_store_connections_discarded_total").increment(1);
    let _ = tokio::time::timeout(ROLLBACK_TIMEOUT, conn.close()).await;
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(roll_back(conn));
            }
            // No runtime to roll back on: detach and drop, which closes the connection and
            // with it the transaction.
            Err(_) => drop(conn.detach()),
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        self.conn
            .as_ref()
            .expect("an open transaction has its connection")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_mut()
            .expect("an open transaction has its connection")
    }
}
