//! Reading a forum's whole log for an export, on a connection of the backend's own driver.
//!
//! The commission's export of a big forum reads millions of rows. Through the store's `Any`
//! pool each row was copied into `Any`'s own values and, on SQLite, handed from the driver's
//! thread to the reader one at a time through a channel of 50 rows: of the 68 s the export of
//! 100,000 viewers took, about 55 were this fetching (perf: malloc/free of every value, futex
//! wake-ups per row, `sqlite3_value_dup`). And the rows came in time order through the
//! `(forum, ts, seq)` index, one random visit of the table per row, since rows are stored in
//! arrival order, not time order. Here the rows are read in storage order (`seq`, the primary
//! key: a sequential scan) on one native connection opened for the read (text decoded
//! straight from the driver's row, and on SQLite a deep channel so its thread runs ahead of
//! the reader), each through the same [`decode`], then put in time order in memory. The
//! events are exactly those of [`Store::events`] (a test holds this on both backends).

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use super::log::{EVENT_COLUMNS, LAST_SEEN, decode, heartbeat};
use super::{Store, StoreResult};
use crate::domain::log::{Event, sort_events};
use crate::domain::time::Millis;

/// Rows the SQLite driver's thread may decode ahead of the reader.
const ROWS_IN_FLIGHT: usize = 4096;

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

/// The log's rows in storage order (`seq`), the synthesized heartbeats after them, all put
/// in the rules' order by one stable sort on time: rows of one instant keep `seq` order and a
/// heartbeat goes after them, exactly as [`Store::events`] merges them.
macro_rules! read_log {
    ($conn:expr, $forum:expr) => {{
        let beats = sqlx::query(AssertSqlSafe(format!(
            "{LAST_SEEN} ORDER BY s.last_seen, s.conn"
        )))
        .bind($forum)
        .bind(Millis::MIN)
        .bind(Millis::MAX)
        .fetch_all(&mut *$conn)
        .await?;
        let beats: Vec<Event> = beats.iter().map(heartbeat).collect::<StoreResult<_>>()?;
        let mut events = Vec::new();
        // `forum || ''`: no index serves it, so SQLite walks the table in rowid (`seq`) order
        // instead of visiting it row by row from the `(forum, …)` indexes.
        let query =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE forum || '' = $1 ORDER BY seq");
        let mut rows = sqlx::query(AssertSqlSafe(query))
            .bind($forum)
            .fetch(&mut *$conn);
        while let Some(row) = rows.try_next().await? {
            events.push(decode(&row)?);
        }
        drop(rows);
        events.extend(beats);
        sort_events(&mut events);
        StoreResult::Ok(events)
    }};
}

impl Store {
    /// The forum's whole log, as [`Store::events`] gives it, read for an export.
    pub(super) async fn whole_log(&self, forum: &str) -> StoreResult<Vec<Event>> {
        match &self.native {
            Native::None => self.events(forum, None).await,
            Native::Sqlite(Secret(url)) => {
                let options = SqliteConnectOptions::from_str(url)?
                    .busy_timeout(Duration::from_secs(10))
                    .row_buffer_size(ROWS_IN_FLIGHT);
                let mut conn: SqliteConnection = options.connect().await?;
                let events = read_log!(&mut conn, forum);
                conn.close().await?;
                events
            }
            Native::Postgres(Secret(url)) => {
                let mut conn = PgConnection::connect(url).await?;
                let events = read_log!(&mut conn, forum);
                conn.close().await?;
                events
            }
        }
    }
}
