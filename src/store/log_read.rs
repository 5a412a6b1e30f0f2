//! Reading a forum's whole log for an export, fast: millions of rows in a few seconds.
//!
//! Through the store's `Any` pool each row was copied into `Any`'s own values and, on SQLite,
//! handed from the driver's thread to the reader one at a time through a channel: the export
//! of 100,000 viewers (5.5 M rows) took 55–94 s, 52–75 s of it reading; a native sqlx
//! connection did not change that. So the rows are read without sqlx's row machinery: on
//! SQLite through its C interface (`log_sqlite.rs`), on Postgres as a binary `COPY`
//! (`log_copy.rs`), each into the one `StoredRow::event` every read of the log uses. The
//! log is read in `seq` ranges (the primary key, so storage order), one per core, on
//! connections of their own.
//!
//! The synthesized heartbeats are then worked out from the rows just read and the
//! `conn_seen` table, and rows and heartbeats put in the rules' order (`log_beats.rs`),
//! exactly as [`Store::events`] gives them (tests hold this on both backends).

use std::path::Path;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnectOptions;

use super::log_beats::{Lives, SeenRows, in_rules_order};
use super::log_sqlite::{self, Db};
use super::{Store, StoreError, StoreResult, log_copy};
use crate::domain::log::Event;

/// Where to open a native connection; `None` for an in-memory SQLite database, which only the
/// pool's own connection can see.
#[derive(Clone)]
pub(super) enum Native {
    Sqlite(Secret),
    Postgres(Secret),
    None,
}

/// A connection URL, which may hold a password: never shown by `Debug`.
#[derive(Clone)]
pub(super) struct Secret(String);

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Native::Sqlite(_) => "Sqlite(…)",
            Native::Postgres(_) => "Postgres(…)",
            Native::None => "None",
        })
    }
}

impl Store {
    /// The forum's whole log, as [`Store::events`] gives it, read for an export.
    pub(super) async fn whole_log(&self, forum: &str) -> StoreResult<Vec<Event>> {
        match &self.native {
            Native::None => self.events(forum, None).await,
            Native::Sqlite(Secret(url)) => {
                let path = SqliteConnectOptions::from_str(url)?
                    .get_filename()
                    .to_owned();
                let forum = forum.to_owned();
                // Seconds of blocking reads: off the runtime's threads.
                match tokio::task::spawn_blocking(move || from_sqlite(&path, &forum)).await {
                    Ok(read) => read,
                    Err(e) => Err(joined(e)),
                }
            }
            Native::Postgres(Secret(url)) => from_postgres(url, forum).await,
        }
    }
}

/// Below this many `seq`s the log is read in one piece: another reader costs a thread and a
/// connection (milliseconds on Postgres), worth it only for a log of some size.
const ONE_READER_BELOW: i64 = 1_000;

/// `from..to` cut into one range per core (one when small).
fn ranges((from, to): (i64, i64)) -> Vec<(i64, i64)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = if to - from < ONE_READER_BELOW {
        1
    } else {
        cores.clamp(1, 4) as i64
    };
    let step = ((to - from + n - 1) / n).max(1);
    (0..n)
        .map(|i| (from + i * step, (from + (i + 1) * step).min(to)))
        .filter(|(a, b)| a < b)
        .collect()
}

fn from_sqlite(path: &Path, forum: &str) -> StoreResult<Vec<Event>> {
    let db = Db::open(path)?;
    let ranges = ranges(log_sqlite::seq_bounds(&db)?);
    let parts = std::thread::scope(|scope| {
        let readers: Vec<_> = ranges
            .iter()
            .map(|&range| {
                scope.spawn(move || {
                    let db = Db::open(path)?;
                    let mut events = Vec::new();
                    log_sqlite::scan(&db, forum, range, |row| {
                        events.push(row.event()?);
                        Ok(())
                    })?;
                    Ok(events)
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|r| r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<StoreResult<Vec<_>>>()
    })?;
    let events = concat(parts);
    let mut lives = Lives::of(&events);
    log_sqlite::last_seen(&db, forum, |conn, seen| {
        lives.seen(conn, seen);
        Ok(())
    })?;
    let beats = lives.beats();
    Ok(in_rules_order(events, beats))
}

async fn from_postgres(url: &str, forum: &str) -> StoreResult<Vec<Event>> {
    let mut conn = PgConnection::connect(url).await?;
    log_copy::choose_forum(&mut conn, forum).await?;
    let ranges = ranges(log_copy::seq_bounds(&mut conn).await?);
    // Every range but the first on a connection and a task of its own, so its rows are
    // parsed on another core while Postgres sends the first.
    let others: Vec<_> = ranges
        .iter()
        .skip(1)
        .map(|&range| {
            let (url, forum) = (url.to_owned(), forum.to_owned());
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await?;
                log_copy::choose_forum(&mut conn, &forum).await?;
                let events = copy_rows(&mut conn, range).await?;
                conn.close().await?;
                StoreResult::Ok(events)
            })
        })
        .collect();
    // The connections' last signs of life too, for the server to send meanwhile.
    let seen = {
        let (url, forum) = (url.to_owned(), forum.to_owned());
        tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await?;
            log_copy::choose_forum(&mut conn, &forum).await?;
            let mut seen = SeenRows::default();
            log_copy::last_seen(&mut conn, |c, last_seen| {
                seen.push(c, last_seen);
                Ok(())
            })
            .await?;
            conn.close().await?;
            StoreResult::Ok(seen)
        })
    };
    let mut parts = Vec::with_capacity(ranges.len());
    if let Some(&first) = ranges.first() {
        parts.push(copy_rows(&mut conn, first).await?);
    }
    conn.close().await?;
    for other in others {
        parts.push(other.await.map_err(joined)??);
    }
    let seen = seen.await.map_err(joined)??;
    // A second or two of work on millions of events: off the runtime's threads.
    let order = move || {
        let events = concat(parts);
        let mut lives = Lives::of(&events);
        for (c, last_seen) in seen.iter() {
            lives.seen(c, last_seen);
        }
        let beats = lives.beats();
        in_rules_order(events, beats)
    };
    tokio::task::spawn_blocking(order).await.map_err(joined)
}

/// A blocking task that did not finish: its panic goes on; a task cancelled because the
/// runtime is shutting down is an error.
fn joined(e: tokio::task::JoinError) -> StoreError {
    match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(e) => StoreError::Unavailable(e.to_string()),
    }
}

async fn copy_rows(conn: &mut PgConnection, range: (i64, i64)) -> StoreResult<Vec<Event>> {
    let mut events = Vec::new();
    log_copy::rows(conn, range, |row| {
        events.push(row.event()?);
        Ok(())
    })
    .await?;
    Ok(events)
}

/// The pieces read in `seq` order, as one log. Each piece is freed as it is moved, so the
/// log is not held twice.
fn concat(parts: Vec<Vec<Event>>) -> Vec<Event> {
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    for mut part in parts {
        all.append(&mut part);
    }
    all
}
