//! Reading a forum's whole log for an export, fast: millions of rows in a few seconds.
//!
//! Through the store's `Any` pool each row was copied into `Any`'s own values and, on SQLite,
//! handed from the driver's thread to the reader one at a time through a channel: the export
//! of 100,000 viewers (5.5 M rows) took 55–94 s, 52–75 s of it reading; a native sqlx
//! connection did not change that. So the rows are read without sqlx's row machinery: on
//! SQLite through its C interface (`log_sqlite.rs`), on Postgres as a binary `COPY`
//! (`log_copy.rs`), each into the one [`StoredRow::event`] every read of the log uses. The
//! log is read in `seq` ranges (the primary key, so storage order), one per core, on
//! connections of their own.
//!
//! The synthesized heartbeats ([`LAST_SEEN`](super::log::LAST_SEEN): one per connection
//! never closed, at its last sign of life) are worked out here from the rows just read and
//! the `conn_seen` table, instead of three index lookups per connection in SQL. Then rows
//! are put in time order (stable: `seq` breaks ties; a log stored in time order is only
//! checked) and the heartbeats merged in after the rows of their instant, exactly as
//! [`Store::events`] gives them (a test holds this on both backends).

use std::path::Path;
use std::str::FromStr;

use rustc_hash::FxHashMap;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnectOptions;

use super::log::sort_beats;
use super::log_sqlite::{self, Db};
use super::{Store, StoreError, StoreResult, log_copy};
use crate::domain::log::{Event, EventBody, sort_events};
use crate::domain::time::Millis;

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
                    Err(e) => match e.try_into_panic() {
                        Ok(panic) => std::panic::resume_unwind(panic),
                        Err(e) => Err(StoreError::Unavailable(e.to_string())),
                    },
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
    let mut parts = Vec::with_capacity(ranges.len());
    if let Some(&first) = ranges.first() {
        parts.push(copy_rows(&mut conn, first).await?);
    }
    for other in others {
        parts.push(
            other
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))??,
        );
    }
    let events = concat(parts);
    let mut lives = Lives::of(&events);
    log_copy::last_seen(&mut conn, |c, seen| {
        lives.seen(c, seen);
        Ok(())
    })
    .await?;
    let beats = lives.beats();
    conn.close().await?;
    Ok(in_rules_order(events, beats))
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

/// What the log's rows say about each connection, to find those [`LAST_SEEN`] gives a
/// heartbeat: the ones whose first connect is before their last sign of life and which no
/// disconnect at or after that connect closed.
///
/// [`LAST_SEEN`]: super::log::LAST_SEEN
struct Lives<'a> {
    conns: FxHashMap<&'a str, Life>,
    beats: Vec<Event>,
}

/// One connection as the rows tell it; 24 bytes, as a big forum has millions.
#[derive(Clone, Copy, Default)]
struct Life {
    /// The earliest connect, when `connects` > 0.
    first_connect: Millis,
    /// How many connect rows have that instant (the query joins each of them, so each gives
    /// a heartbeat).
    connects: u32,
    disconnected: bool,
    /// The latest disconnect, when `disconnected`.
    last_disconnect: Millis,
}

impl<'a> Lives<'a> {
    fn of(events: &'a [Event]) -> Lives<'a> {
        let mut conns: FxHashMap<&'a str, Life> = FxHashMap::default();
        for e in events {
            match &e.body {
                EventBody::Connect { conn, .. } => {
                    let life = conns.entry(conn).or_default();
                    if life.connects == 0 || e.ts < life.first_connect {
                        life.first_connect = e.ts;
                        life.connects = 1;
                    } else if e.ts == life.first_connect {
                        life.connects += 1;
                    }
                }
                EventBody::Disconnect { conn } => {
                    let life = conns.entry(conn).or_default();
                    if !life.disconnected || e.ts > life.last_disconnect {
                        life.last_disconnect = e.ts;
                        life.disconnected = true;
                    }
                }
                _ => {}
            }
        }
        Lives {
            conns,
            beats: Vec::new(),
        }
    }

    /// A `conn_seen` row: the connection's last sign of life.
    fn seen(&mut self, conn: &str, last_seen: Millis) {
        // The query's time range is `MIN..MAX`, which leaves out `MAX` itself.
        if last_seen == Millis::MAX {
            return;
        }
        let Some(life) = self.conns.get(conn) else {
            return;
        };
        let first = life.first_connect;
        let closed = life.disconnected && life.last_disconnect >= first;
        if life.connects > 0 && first < last_seen && !closed {
            for _ in 0..life.connects {
                self.beats.push(Event::new(
                    last_seen,
                    EventBody::Heartbeat {
                        conn: conn.to_owned(),
                    },
                ));
            }
        }
    }

    /// The heartbeats found, in their own order (time, then connection).
    fn beats(self) -> Vec<Event> {
        let mut beats = self.beats;
        sort_beats(&mut beats);
        beats
    }
}

/// Rows in `seq` order and the heartbeats in theirs, as one log in the rules' order.
fn in_rules_order(mut events: Vec<Event>, beats: Vec<Event>) -> Vec<Event> {
    // A live forum's rows arrive nearly in time order and a stored log is often exactly in
    // it; the stable sort keeps `seq` order within an instant.
    if !events.is_sorted_by_key(|e| e.ts) {
        sort_events(&mut events);
    }
    merge_beats(&mut events, beats);
    events
}

/// Puts each heartbeat after the rows of its instant, in place: the rows after a heartbeat
/// move towards the end once, and no second copy of the log is made.
fn merge_beats(events: &mut Vec<Event>, mut beats: Vec<Event>) {
    let mut unplaced = events.len();
    events.resize_with(unplaced + beats.len(), || {
        Event::new(
            0,
            EventBody::Heartbeat {
                conn: String::new(),
            },
        )
    });
    let mut free = events.len();
    while let Some(beat) = beats.pop() {
        while unplaced > 0 && events[unplaced - 1].ts > beat.ts {
            unplaced -= 1;
            free -= 1;
            events.swap(unplaced, free);
        }
        free -= 1;
        events[free] = beat;
    }
}
