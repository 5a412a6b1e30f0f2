//! The store: the durable attendance log and everything else that must survive a restart,
//! on SQLite (embedded default) or Postgres, behind one type with the same behaviour on both.
//!
//! One code base serves both backends through sqlx's `Any` driver: the same SQL text (with
//! `$1` placeholders) runs on each, and only the migrations differ (`migrations/sqlite`,
//! `migrations/postgres`). `Any` moves only integers, floats, text and bytes, so times are
//! Unix milliseconds, flags are integers and structured values are JSON text.
//!
//! Layout: this file holds the shared types and connecting; the methods of [`Store`] live
//! beside their tables — `log.rs` (events, heartbeats; written by `log_write.rs`, the whole
//! log read for exports by `log_read.rs`), `forum.rs` (the served forum, frozen
//! rules, schedules, prompt claims), `forums.rs` (every forum, its state and saved versions),
//! `viewers.rs`, `links.rs` (self-registration and «send my link again», with their
//! per-address limit), `texts.rs` (versioned consent texts), `organisers.rs` and
//! `accounts.rs` (accounts, roles, sign-ins), `audit.rs` (the append-only audit trail),
//! `codes.rs`, `appeals.rs` and `decisions.rs` (viewers' appeals, organisers' decisions),
//! `mail.rs` (the outbox and delivery log), `reports.rs` (reads for exports and
//! certificates, e-mailed link tokens), `history.rs` (the dashboard's per-minute hall
//! figures) — `writer.rs` is the batched event writer and `tx.rs` the write transactions that
//! survive a failing disk or database.

mod accounts;
mod appeals;
mod audit;
mod codes;
mod corrections;
mod decisions;
mod evidence;
mod forum;
mod forums;
mod history;
mod links;
mod log;
mod log_beats;
mod log_copy;
mod log_read;
mod log_sqlite;
mod log_write;
mod mail;
mod organisers;
pub mod reports;
mod retention;
mod secrets;
mod texts;
mod tx;
mod viewers;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::domain::consent::ConsentVersions;
use crate::domain::forum::{Education, Forum};
use crate::domain::schedule::Seed;
use crate::domain::time::Millis;

pub use accounts::Changed;
pub use evidence::FlagReview;
pub use forums::{ForumRow, SAVED_BY_FILE, SaveMode, Saved, VersionRow};
pub use history::{HallMinute, HistoryRow};
pub use links::{LinkRequest, Registered, kinds as letter_kinds};
pub use mail::{MailFilter, NewLetter, OutboxRow};
pub use organisers::{Account, SignedIn};
pub use reports::IssuedRow;
pub use retention::Purged;
pub use texts::TextRow;
pub use writer::{EventWriter, WriterConfig, WriterState, WriterStatus};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A uniqueness rule refused the write; the message says which (in Russian, shown to organisers).
    #[error("{0}")]
    Conflict(String),
    #[error("the event writer has stopped")]
    WriterClosed,
    /// The event writer could not commit within its `give_up_ms`; the event is not recorded.
    #[error("the event writer could not commit: {0}")]
    Unavailable(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// A registered viewer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ViewerRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub education: Education,
    pub specialty: String,
    pub snils: Option<String>,
    /// When the consents were given (Unix ms).
    pub consent_at: Millis,
    /// The versions of the consent texts accepted; `None` for viewers registered before
    /// versions were kept.
    pub consents: Option<ConsentVersions>,
    pub created_at: Millis,
}

/// What loading a forum configuration into the store did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The forum to run: the configuration, with every frozen session's stored rules in place
    /// of its configured ones.
    pub effective: Forum,
    /// Sessions frozen by this call (they had started and were not frozen yet).
    pub newly_frozen: Vec<String>,
    /// Frozen sessions whose configuration now differs from their frozen rules, in Russian.
    pub ignored_changes: Vec<String>,
}

/// A planned prompt schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub session: String,
    pub seed: Seed,
    pub times: Vec<Millis>,
}

/// A stored НМО code row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub session: String,
    pub code: String,
    /// `None` for a pooled code not issued yet.
    pub viewer: Option<String>,
    /// Imported from the commission's pool (true) or generated (false).
    pub pooled: bool,
    /// Position in its pool, for pooled codes.
    pub position: Option<i64>,
    pub issued_at: Option<Millis>,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
    /// Where a connection of the backend's own driver goes, for the few reads too big for
    /// `Any` (the whole log, `log_read.rs`).
    native: log_read::Native,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How the store's connection pool behaves when the database is slow or away.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a query waits for a connection (including reconnecting) before it fails.
    pub acquire_timeout: Duration,
    /// Connections in the pool; 0: the backend's default.
    pub connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            acquire_timeout: Duration::from_secs(5),
            connections: 0,
        }
    }
}

/// The pool's size: the configured one, else the backend's default.
fn pool_size(configured: u32, default: u32) -> u32 {
    if configured == 0 { default } else { configured }
}

impl Store {
    /// Connects to `sqlite://path/to/file.db` (created with its folder if missing) or
    /// `postgres://…`, and runs the migrations for that backend.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Store::connect_with(url, &StoreOptions::default()).await
    }

    /// [`Store::connect`] with pool options.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> StoreResult<Store> {
        install_default_drivers();
        let postgres = url.starts_with("postgres:") || url.starts_with("postgresql:");
        let store = if postgres {
            let pool = AnyPoolOptions::new()
                .max_connections(pool_size(options.connections, 10))
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            let native = log_read::Native::Postgres(url.into());
            Store {
                pool,
                postgres,
                native,
            }
        } else {
            let (url, file) = sqlite_url(url)?;
            // An in-memory database exists only inside the pool's connection.
            let native = match &file {
                Some(_) => log_read::Native::Sqlite(url.clone().into()),
                None if url.contains(":memory:") => log_read::Native::None,
                None => log_read::Native::Sqlite(url.clone().into()),
            };
            // SQLite has one writer at a time; a few connections serve concurrent readers
            // (WAL lets them read while the writer commits) without piling up lock waits.
            let pool = AnyPoolOptions::new()
                .min_connections(1)
                .max_connections(pool_size(options.connections, 6))
                .acquire_timeout(options.acquire_timeout)
                .after_connect(move |conn, _meta| {
                    let file = file.clone();
                    Box::pin(async move {
                        if let Some(file) = &file {
                            refuse_read_only(file)?;
                        }
                        // FULL: a committed confirmation survives a power cut, not only a crash.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            Store {
                pool,
                postgres,
                native,
            }
        };
        tracing::info!(backend = store.backend(), "store connected");
        Ok(store)
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    fn backend(&self) -> &'static str {
        if self.postgres { "postgres" } else { "sqlite" }
    }

    /// Cheap round trip for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// SQLite opens a database it cannot write to read-only, silently, and such a connection stays
/// read-only after the cause is gone (a file made writable again, a disk back from I/O errors):
/// a pool would keep it and fail writes on it for as long as it lives. So a new connection is
/// refused unless the database and its WAL open for writing; the pool tries again later.
fn refuse_read_only(file: &Path) -> sqlx::Result<()> {
    let wal = file.with_file_name(format!(
        "{}-wal",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    for f in [file, wal.as_path()] {
        match std::fs::OpenOptions::new().write(true).open(f) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(sqlx::Error::Io(e)),
        }
    }
    Ok(())
}

/// Adds `mode=rwc` (create if missing) to a SQLite URL and creates the file's folder; gives
/// the file's path too (`None` in memory).
fn sqlite_url(url: &str) -> StoreResult<(String, Option<PathBuf>)> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| {
            StoreError::Db(sqlx::Error::Configuration(
                format!("unsupported database URL «{url}»: use sqlite://… or postgres://…").into(),
            ))
        })?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(dir) = Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let file = (path != ":memory:" && !query.contains("mode=ro")).then(|| PathBuf::from(path));
    let url = if query.contains("mode=") {
        url.to_string()
    } else if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{query}&mode=rwc")
    };
    Ok((url, file))
}

impl StoreError {
    /// Whether this is the database being away, full or failing (worth a retry later, and
    /// a 503 for whoever asked) rather than a bug or a refused write.
    pub fn is_outage(&self) -> bool {
        match self {
            StoreError::Db(e) => is_outage(e),
            StoreError::Unavailable(_) | StoreError::WriterClosed => true,
            StoreError::Migrate(_) | StoreError::Conflict(_) | StoreError::Corrupt(_) => false,
        }
    }
}

fn is_outage(e: &sqlx::Error) -> bool {
    use sqlx::Error::*;
    match e {
        Io(_) | Tls(_) | PoolTimedOut | PoolClosed | WorkerCrashed | Protocol(_) => true,
        Database(d) => {
            let code = d.code().unwrap_or_default();
            // SQLite's primary result code is the low byte: BUSY 5, LOCKED 6, NOMEM 7,
            // READONLY 8, IOERR 10, FULL 13, CANTOPEN 14.
            let sqlite = code
                .parse::<i32>()
                .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14));
            // Postgres: connection exceptions (08), insufficient resources (53), operator
            // intervention such as a shutdown (57), system errors (58).
            let postgres = ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c));
            sqlite || postgres
        }
        _ => false,
    }
}

/// Whether `e` is a unique-constraint violation (turned into [`StoreError::Conflict`]).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("JSON: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let url = format!("sqlite://{}/a/b.db", dir.display());
        assert_eq!(
            sqlite_url(&url).unwrap(),
            (
                format!("sqlite://{}/a/b.db?mode=rwc", dir.display()),
                Some(dir.join("a/b.db"))
            )
        );
        assert!(dir.join("a").is_dir());
        assert_eq!(
            sqlite_url("sqlite::memory:").unwrap(),
            ("sqlite://:memory:?mode=rwc".into(), None)
        );
        assert_eq!(
            sqlite_url("sqlite://x.db?mode=ro").unwrap(),
            ("sqlite://x.db?mode=ro".into(), None)
        );
        assert!(sqlite_url("mysql://x").is_err());
    }
}
