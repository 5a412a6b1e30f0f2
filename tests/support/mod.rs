//! Test databases: a fresh, empty database per test on each backend the store supports.
//!
//! - SQLite: a file in a temporary folder, removed with the folder.
//! - Postgres: a new database `yavka_t_<random hex>` on the local server (127.0.0.1:5432, trust
//!   auth, connecting as the OS user), dropped at the end. If the server is down it is started
//!   with `pg_ctlcluster`, so a fresh CI machine passes without setup.
//!
//! ```ignore
//! for db in TestDb::all().await {
//!     let store = Store::connect(&db.url).await.unwrap();
//!     // ...
//!     store.close().await;
//!     db.drop().await;
//! }
//! ```
//! Dropping a `TestDb` without calling [`TestDb::drop`] cleans up too (synchronously).

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tempfile::TempDir;

/// The local server, as the OS user. The user is spelled out because sqlx's own default
/// comes from `$USER` and falls back to "anonymous" where that is unset (CI shells, cron).
fn pg_server() -> String {
    static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| {
            let user = ["PGUSER", "USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                .or_else(|| {
                    let out = Command::new("id").arg("-un").output().ok()?;
                    let name = String::from_utf8(out.stdout).ok()?.trim().to_string();
                    (!name.is_empty()).then_some(name)
                })
                .unwrap_or_else(|| "postgres".into());
            format!("postgres://{user}@127.0.0.1:5432")
        })
        .clone()
}

pub struct TestDb {
    /// What `Store::connect` takes.
    pub url: String,
    /// `sqlite` or `postgres`, for assertion messages.
    pub backend: &'static str,
    kind: Kind,
}

enum Kind {
    Sqlite(Option<TempDir>),
    /// The database name, until it is dropped.
    Postgres(Option<String>),
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary folder");
        // A subfolder that does not exist yet: the store must create it.
        let url = format!("sqlite://{}/data/yavka.db", dir.path().display());
        TestDb {
            url,
            backend: "sqlite",
            kind: Kind::Sqlite(Some(dir)),
        }
    }

    pub async fn postgres() -> TestDb {
        TestDb::postgres_named("yavka_t").await
    }

    /// A fresh Postgres database `<prefix>_<random hex>` (the load bench uses `yavka_bench`).
    pub async fn postgres_named(prefix: &str) -> TestDb {
        ensure_postgres_running().await;
        let name = format!("{prefix}_{:016x}", rand::random::<u64>());
        let mut admin = admin_connection().await;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = admin.close().await;
        TestDb {
            url: format!("{}/{name}", pg_server()),
            backend: "postgres",
            kind: Kind::Postgres(Some(name)),
        }
    }

    /// One fresh database on every backend.
    pub async fn all() -> Vec<TestDb> {
        vec![TestDb::sqlite(), TestDb::postgres().await]
    }

    /// Removes the database now. Close every pool on it first (Postgres drops it anyway,
    /// `WITH (FORCE)`, but a pool left open would log errors).
    pub async fn drop(mut self) {
        match &mut self.kind {
            Kind::Sqlite(dir) => drop(dir.take()),
            Kind::Postgres(name) => {
                if let Some(name) = name.take() {
                    drop_pg_database(&name).await;
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Kind::Postgres(name) = &mut self.kind
            && let Some(name) = name.take()
        {
            // Drop cannot await; a helper thread with its own runtime does the async work,
            // and works whether or not this thread is inside a runtime.
            let _ = std::thread::spawn(move || match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(drop_pg_database(&name)),
                Err(e) => eprintln!("cannot drop test database {name}: {e}"),
            })
            .join();
        }
    }
}

async fn drop_pg_database(name: &str) {
    let mut admin = admin_connection().await;
    if let Err(e) = admin
        .execute(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
    {
        eprintln!("DROP DATABASE {name}: {e}");
    }
    let _ = admin.close().await;
}

async fn admin_connection() -> PgConnection {
    PgConnection::connect(&format!("{}/postgres", pg_server()))
        .await
        .unwrap_or_else(|e| panic!("connecting to {}/postgres: {e}", pg_server()))
}

/// Starts the local cluster if nothing answers on the port, and waits until it accepts
/// connections. Tests run in parallel, so only one of them starts it.
async fn ensure_postgres_running() {
    static STARTING: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);
    if PgConnection::connect(&format!("{}/postgres", pg_server()))
        .await
        .is_ok()
    {
        return;
    }
    let mut started = STARTING.lock().await;
    if !*started {
        *started = true;
        let out = Command::new("sh")
            .arg("-c")
            .arg("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
            .output();
        match out {
            Ok(o) if o.status.success() => eprintln!("started the local Postgres cluster"),
            Ok(o) => eprintln!(
                "pg_ctlcluster: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("pg_ctlcluster: {e}"),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match PgConnection::connect(&format!("{}/postgres", pg_server())).await {
            Ok(c) => {
                let _ = c.close().await;
                return;
            }
            Err(e) if Instant::now() > deadline => {
                panic!("Postgres at {} is not available: {e}", pg_server())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
pub mod forum;
pub mod offline;
pub mod process;
pub mod redis;
pub mod server;
pub mod smtp;
pub mod store;

/// Runs a story once on every backend (SQLite, then Postgres), each on a fresh database with its
/// own server, stopping both afterwards. The one copy of this loop for every test file:
/// - `on_every_backend!(anonymous story)`: `story(&app)`, nobody signed in;
/// - `on_every_backend!(story)`: `story(&app, backend)` with the organiser signed in;
/// - `on_every_backend!(story, tweak)`: the same on the test forum at 5 minutes before its start,
///   with `tweak(&mut settings)` applied first;
/// - `on_every_backend!(story after prepare)`: `story(&app, &prepare(&app).await, backend)`.
#[macro_export]
macro_rules! on_every_backend {
    (@each |$db:ident| $spawn:expr, |$app:ident| $body:expr) => {
        for $db in $crate::support::TestDb::all().await {
            let $app = $spawn;
            $body;
            $app.stop().await;
            $db.drop().await;
        }
    };
    (anonymous $story:ident) => {
        $crate::on_every_backend!(@each |db| $crate::support::server::TestApp::spawn(&db.url).await,
            |app| $story(&app).await)
    };
    ($story:ident after $prepare:ident) => {
        $crate::on_every_backend!(@each |db| $crate::support::server::TestApp::spawn(&db.url).await,
            |app| {
                app.sign_in_organiser().await;
                let prepared = $prepare(&app).await;
                $story(&app, &prepared, db.backend).await
            })
    };
    ($story:ident, $tweak:expr) => {
        $crate::on_every_backend!(@each |db| {
            let mut settings = $crate::support::server::test_settings(&db.url);
            ($tweak)(&mut settings);
            $crate::support::server::TestApp::spawn_with(
                settings,
                $crate::support::server::test_forum(),
                $crate::support::server::at(-5),
            )
            .await
        }, |app| {
            app.sign_in_organiser().await;
            $story(&app, db.backend).await
        })
    };
    ($story:ident) => {
        $crate::on_every_backend!(@each |db| $crate::support::server::TestApp::spawn(&db.url).await,
            |app| {
                app.sign_in_organiser().await;
                $story(&app, db.backend).await
            })
    };
}
