//! The attendance log in the `events` table, and heartbeats in `conn_seen`.
//!
//! Heartbeats are most of the log's volume (one per connection every few seconds) but the rules
//! only use each connection's last one, and only while the connection has no disconnect: a
//! connection lives from its connect to its first disconnect, or, if never closed, up to its
//! last heartbeat or confirm. So a heartbeat is stored as `conn_seen.last_seen = max(old, ts)`
//! and read back as one synthesized heartbeat per unclosed connection, which gives the rules
//! exactly the same intervals. (Anomaly counts can differ: a heartbeat for an unknown or closed
//! connection is dropped here instead of being counted.)

use std::sync::LazyLock;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Row, Type};

#[cfg(test)]
mod plan_tests;

use super::log_write::write_events;
use super::{Store, StoreError, StoreResult, from_json};
use crate::domain::forum::Education;
use crate::domain::log::{Event, EventBody, Evidence, Id};
use crate::domain::time::{Millis, Span};

/// Every query that [`decode`]s events selects these, in this order: it reads them by position.
pub(super) const EVENT_COLUMNS: &str = "seq, ts, kind, viewer, conn, hall, prompt, closes, data";

/// Unclosed connections whose last sign of life is after their (first) connect. A disconnect
/// stamped before the first connect is ignored by the rules, so it does not close either.
/// Every lookup goes through `events_by_conn (forum, conn, kind, ts)`, one connection at a
/// time, so the cost follows the number of connections asked about, not the size of the log.
/// On SQLite that index holds connects and disconnects only (migration 0018; Postgres keeps
/// the full index, see its 0018), and SQLite uses a partial index only for a query that
/// repeats its condition word for word: hence every lookup by connection here carries
/// `kind IN ('connect', 'disconnect')` beside its own `kind = …`.
pub(super) const LAST_SEEN: &str = "SELECT s.conn, s.last_seen FROM conn_seen s \
     JOIN events c ON c.forum = s.forum AND c.conn = s.conn AND c.kind = 'connect' \
     AND c.kind IN ('connect', 'disconnect') \
     WHERE s.forum = $1 AND s.last_seen >= $2 AND s.last_seen < $3 \
     AND c.ts = (SELECT MIN(f.ts) FROM events f WHERE f.forum = s.forum AND f.conn = s.conn \
         AND f.kind = 'connect' AND f.kind IN ('connect', 'disconnect')) \
     AND c.ts < s.last_seen \
     AND NOT EXISTS (SELECT 1 FROM events d WHERE d.forum = s.forum AND d.conn = s.conn \
         AND d.kind = 'disconnect' AND d.kind IN ('connect', 'disconnect') AND d.ts >= c.ts)";

/// The same for one viewer, driven from their own connect rows (`events_by_viewer`), shaped
/// as [`EVENT_COLUMNS`] (kind `heartbeat`, seq 0) to be one branch of the viewer's read.
const VIEWER_LAST_SEEN: &str = "SELECT 0, s.last_seen, 'heartbeat', NULL, s.conn, NULL, NULL, \
     NULL, NULL FROM events c \
     JOIN conn_seen s ON s.forum = c.forum AND s.conn = c.conn \
     WHERE c.forum = $1 AND c.viewer = $2 AND c.kind = 'connect' \
     AND c.ts = (SELECT MIN(f.ts) FROM events f WHERE f.forum = c.forum AND f.conn = c.conn \
         AND f.kind = 'connect' AND f.kind IN ('connect', 'disconnect')) \
     AND c.ts < s.last_seen \
     AND NOT EXISTS (SELECT 1 FROM events d WHERE d.forum = c.forum AND d.conn = c.conn \
         AND d.kind = 'disconnect' AND d.kind IN ('connect', 'disconnect') AND d.ts >= c.ts)";

/// One viewer's read for [`Store::viewer_events_since`] (`$1` forum, `$2` viewer, `$3` since):
/// their own rows, the disconnects of their connections, and their synthesized heartbeats.
static VIEWER_EVENTS: LazyLock<String> = LazyLock::new(|| {
    // Disconnect rows carry only the connection; its owner is on the connect row. Two
    // indexed halves rather than one `viewer = $2 OR …`, which no index can serve: this
    // runs on every new websocket, so it must not read the whole log.
    let cols = |t: &str| {
        EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("{t}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // No ORDER BY and a CROSS JOIN (SQLite keeps that join order): with an ORDER BY on
    // time, SQLite chose to walk the forum's whole log in time order, and the join from the
    // disconnect side, so each new websocket read every event (found with perf at 8,000
    // viewers). The few rows are put in order here instead. `IS DISTINCT FROM` rather than
    // `d.viewer IS NULL`, which Postgres served from events_by_viewer, reading every
    // disconnect of the forum.
    format!(
        "SELECT {own} FROM events e WHERE e.forum = $1 AND e.viewer = $2 \
             AND e.kind <> 'prompt' \
             AND (e.ts >= $3 OR e.kind = 'viewer' OR (e.kind = 'connect' AND NOT EXISTS \
                 (SELECT 1 FROM events x WHERE x.forum = e.forum AND x.conn = e.conn \
                  AND x.kind = 'disconnect' AND x.kind IN ('connect', 'disconnect') \
                  AND x.ts >= e.ts AND x.ts < $3))) \
         UNION ALL \
         SELECT {closed} FROM events c CROSS JOIN events d \
         WHERE c.forum = $1 AND c.viewer = $2 AND c.kind = 'connect' \
             AND d.forum = c.forum AND d.conn = c.conn AND d.kind = 'disconnect' \
             AND d.kind IN ('connect', 'disconnect') \
             AND d.viewer IS DISTINCT FROM c.viewer AND d.ts >= $3 \
         UNION ALL {VIEWER_LAST_SEEN}",
        own = cols("e"),
        closed = cols("d"),
    )
});

/// The profile fields of a `viewer` event, kept as JSON in `data`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct ViewerData {
    pub(super) name: String,
    pub(super) email: String,
    pub(super) education: Education,
    pub(super) specialty: String,
}

impl Store {
    /// Appends events in one transaction.
    pub async fn append(&self, forum: &str, events: &[Event]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        write_events(&mut tx, forum, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The forum's log in the rules' order (ts, then insertion), optionally only events with
    /// `ts` in `range`. Heartbeats are kept as each connection's last sign of life and come back
    /// as one heartbeat per connection without a disconnect, which the rules treat identically.
    pub async fn events(&self, forum: &str, range: Option<Span>) -> StoreResult<Vec<Event>> {
        use futures_util::TryStreamExt;
        let span = range.unwrap_or(Span::new(Millis::MIN, Millis::MAX));
        // The synthesized heartbeats first (one per unclosed connection, few), then the rows
        // streamed and decoded one at a time: holding every row of a big forum's log as
        // database values before decoding it took gigabytes (the export benchmark).
        let beats = sqlx::query(AssertSqlSafe(format!(
            "{LAST_SEEN} ORDER BY s.last_seen, s.conn"
        )))
        .bind(forum)
        .bind(span.start)
        .bind(span.end)
        .fetch_all(&self.pool)
        .await?;
        let mut beats: Vec<Event> = beats.iter().map(heartbeat).collect::<StoreResult<_>>()?;
        sort_beats(&mut beats);
        let mut merged = Merge::new(beats);
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE forum = $1 AND ts >= $2 AND ts < $3 \
             ORDER BY ts, seq"
        );
        let mut rows = sqlx::query(AssertSqlSafe(query))
            .bind(forum)
            .bind(span.start)
            .bind(span.end)
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            merged.push(decode(&row)?)?;
        }
        merged.finish()
    }

    /// One viewer's own events: their `viewer` records, their connections' connect, heartbeat
    /// (as above), disconnect, their confirms and wrong answers. No prompts.
    pub async fn viewer_events(&self, forum: &str, viewer: &str) -> StoreResult<Vec<Event>> {
        self.viewer_events_since(forum, viewer, Millis::MIN).await
    }

    /// [`Store::viewer_events`] as the live state needs them from `since` on: every `viewer`
    /// record, the connections still open at `since` or opened later (a connect before `since`
    /// counts while no disconnect closed it before `since`), and every other event at or after
    /// `since`. What is left out is what the live state would prune at once (`LiveViewer::
    /// prune`): a socket's welcome then reads the current sessions, not the viewer's history.
    pub async fn viewer_events_since(
        &self,
        forum: &str,
        viewer: &str,
        since: Millis,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(AssertSqlSafe(VIEWER_EVENTS.as_str()))
            .bind(forum)
            .bind(viewer)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        // The synthesized heartbeats come in the same answer (one round trip per new socket,
        // not two), told apart by their kind: no stored row is a heartbeat (see the top).
        let mut own: Vec<(Millis, i64, &AnyRow)> = Vec::with_capacity(rows.len());
        let mut beats: Vec<Event> = Vec::new();
        for r in &rows {
            let ts: Millis = r.try_get(1)?;
            if r.try_get::<&str, _>(2)? == "heartbeat" {
                let conn = r.try_get::<&str, _>(4)?.into();
                beats.push(Event::new(ts, EventBody::Heartbeat { conn }));
            } else {
                own.push((ts, r.try_get(0)?, r));
            }
        }
        own.sort_by_key(|(ts, seq, _)| (*ts, *seq));
        sort_beats(&mut beats);
        merge(own.into_iter().map(|(_, _, r)| r), beats)
    }

    /// Prompt events of the forum with `ts >= since`, in order.
    pub async fn prompts_since(&self, forum: &str, since: Millis) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE forum = $1 AND kind = 'prompt' \
             AND ts >= $2 ORDER BY ts, seq"
        )))
        .bind(forum)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }
}

/// The evidence kept in a row's `data`, if any.
fn evidence_of(data: Option<&str>) -> StoreResult<Evidence> {
    match data {
        Some(text) => from_json("evidence", text),
        None => Ok(Evidence::default()),
    }
}

/// One row of [`EVENT_COLUMNS`] as an event, on any driver (`Any` for the store's everyday
/// reads). Text is borrowed from the row and copied once, into the event.
pub(super) fn decode<'r, R: Row>(row: &'r R) -> StoreResult<Event>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    StoredRow {
        seq: row.try_get(0)?,
        ts: row.try_get(1)?,
        kind: row.try_get(2)?,
        viewer: row.try_get(3)?,
        conn: row.try_get(4)?,
        hall: row.try_get(5)?,
        prompt: row.try_get(6)?,
        closes: row.try_get(7)?,
        data: row.try_get(8)?,
    }
    .event()
}

/// One stored row of the log ([`EVENT_COLUMNS`]), its text borrowed from wherever it was
/// read: a driver's row ([`decode`]) or the export's own readers (`log_sqlite.rs`,
/// `log_copy.rs`). Every read of the log makes its events here, so all give the same events.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredRow<'r> {
    pub(super) seq: i64,
    pub(super) ts: Millis,
    pub(super) kind: &'r str,
    pub(super) viewer: Option<&'r str>,
    pub(super) conn: Option<&'r str>,
    pub(super) hall: Option<&'r str>,
    pub(super) prompt: Option<&'r str>,
    pub(super) closes: Option<Millis>,
    pub(super) data: Option<&'r str>,
}

impl<'r> StoredRow<'r> {
    /// The event this row stores; a missing column its kind needs is a corrupt row.
    pub(super) fn event(&self) -> StoreResult<Event> {
        let (seq, kind) = (self.seq, self.kind);
        let need = |value: Option<&'r str>, name: &str| -> StoreResult<&'r str> {
            value.ok_or_else(|| StoreError::Corrupt(format!("event {seq} ({kind}) has no {name}")))
        };
        // Ids are held inline (`Id`): no allocation for the millions of them in a big export.
        let text = |value, name| need(value, name).map(Id::from);
        let viewer = || text(self.viewer, "viewer");
        let conn = || text(self.conn, "conn");
        let hall = || text(self.hall, "hall");
        let prompt = || text(self.prompt, "prompt");
        let mut evidence = Evidence::default();
        let body = match kind {
            "viewer" => {
                let d: ViewerData = from_json("viewer event data", need(self.data, "data")?)?;
                EventBody::Viewer {
                    viewer: viewer()?,
                    name: d.name,
                    email: d.email,
                    education: d.education,
                    specialty: d.specialty,
                }
            }
            "connect" => {
                evidence = evidence_of(self.data)?;
                EventBody::Connect {
                    viewer: viewer()?,
                    conn: conn()?,
                    hall: hall()?,
                }
            }
            "heartbeat" => EventBody::Heartbeat { conn: conn()? },
            "disconnect" => EventBody::Disconnect { conn: conn()? },
            "prompt" => EventBody::Prompt {
                prompt: prompt()?,
                hall: hall()?,
                closes: self.closes.ok_or_else(|| {
                    StoreError::Corrupt(format!("prompt event {seq} has no closes"))
                })?,
            },
            "confirm" => {
                evidence = evidence_of(self.data)?;
                EventBody::Confirm {
                    viewer: viewer()?,
                    conn: conn()?,
                    prompt: prompt()?,
                }
            }
            "wrong_answer" => EventBody::WrongAnswer {
                viewer: viewer()?,
                conn: conn()?,
                prompt: prompt()?,
            },
            other => {
                return Err(StoreError::Corrupt(format!(
                    "event {seq} has unknown kind «{other}»"
                )));
            }
        };
        Ok(Event::with_evidence(self.ts, body, evidence))
    }
}

/// Stored rows and synthesized heartbeats, both sorted by time, merged in the rules' order.
/// A heartbeat goes after rows of the same instant; there it changes nothing for the rules,
/// since its connection has no disconnect and only its latest sign of life counts.
fn merge<'a>(
    rows: impl ExactSizeIterator<Item = &'a AnyRow>,
    beats: Vec<Event>,
) -> StoreResult<Vec<Event>> {
    let mut merged = Merge::new(beats);
    merged.out.reserve(rows.len());
    for row in rows {
        merged.push(decode(row)?)?;
    }
    merged.finish()
}

/// [`merge`] one row at a time, for rows that are streamed; the synthesized heartbeats
/// (`beats`, from [`heartbeat`]) in time order.
struct Merge {
    beats: std::iter::Peekable<std::vec::IntoIter<Event>>,
    out: Vec<Event>,
}

impl Merge {
    fn new(beats: Vec<Event>) -> Merge {
        Merge {
            out: Vec::with_capacity(beats.len()),
            beats: beats.into_iter().peekable(),
        }
    }

    fn push(&mut self, e: Event) -> StoreResult<()> {
        while let Some(b) = self.beats.next_if(|b| b.ts < e.ts) {
            self.out.push(b);
        }
        self.out.push(e);
        Ok(())
    }

    fn finish(mut self) -> StoreResult<Vec<Event>> {
        self.out.extend(self.beats);
        Ok(self.out)
    }
}

/// Synthesized heartbeats in one order on every backend: by time, then by the connection's
/// id byte by byte (Postgres' `ORDER BY` follows the database's collation, which may not).
pub(super) fn sort_beats(beats: &mut [Event]) {
    fn conn(e: &Event) -> &str {
        match &e.body {
            EventBody::Heartbeat { conn } => conn,
            _ => "",
        }
    }
    beats.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| conn(a).cmp(conn(b))));
}

/// A row of [`LAST_SEEN`] (`conn, last_seen`) as the heartbeat it stands for.
pub(super) fn heartbeat<'r, R: Row>(row: &'r R) -> StoreResult<Event>
where
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Event::new(
        row.try_get(1)?,
        EventBody::Heartbeat {
            conn: row.try_get::<&str, _>(0)?.into(),
        },
    ))
}
