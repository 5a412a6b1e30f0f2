//! Writing the attendance log: events as multi-row INSERTs into `events`, heartbeats folded
//! into `conn_seen` (see `log.rs` for why a heartbeat is stored as a connection's last sign of
//! life). The reading side is `log.rs` and `log_read.rs`.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AssertSqlSafe};

use super::log::ViewerData;
use super::{StoreResult, to_json};
use crate::domain::log::{Event, EventBody};
use crate::domain::time::Millis;

/// Rows per multi-row INSERT: 9,000 parameters, below SQLite's 32,766 and Postgres' 65,535.
/// Each statement is a round trip to the connection's thread and back, and on a loaded machine
/// each of those waits for the scheduler: a burst's batch of 2,000 events (the writer's
/// `max_batch`) went as 10 inserts of 200, and now as 2. The profile of a burst of 19,000
/// confirms showed the server waiting, not working (0.35 of a core, mostly thread wake-ups).
const ROWS_PER_INSERT: usize = 1_000;

/// Writes events inside the caller's transaction: non-heartbeats as multi-row INSERTs in the
/// given order (so `seq` follows it), heartbeats folded into one `last_seen` upsert per
/// connection. Returns the number of event rows inserted.
pub(super) async fn write_events<'a>(
    conn: &mut AnyConnection,
    forum: &str,
    events: impl IntoIterator<Item = &'a Event>,
) -> StoreResult<usize> {
    // SQLite finds a `$N` parameter's name by a linear walk, at parse and at every bind: with
    // 1,800 parameters per insert that was a tenth of the server's CPU under load (perf).
    // Anonymous `?` costs nothing there; Postgres needs the numbers.
    let numbered = conn.backend_name() == "PostgreSQL";
    let mut seen: BTreeMap<&str, Millis> = BTreeMap::new();
    let mut rows = Vec::new();
    for e in events {
        match &e.body {
            EventBody::Heartbeat { conn } => {
                let t = seen.entry(conn.as_str()).or_insert(e.ts);
                *t = (*t).max(e.ts);
            }
            _ => rows.push(e),
        }
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO events (forum, ts, kind, viewer, conn, hall, prompt, closes, data) \
             VALUES {}",
            placeholders(chunk.len(), 9, numbered)
        );
        // A full chunk's text is always the same, so it is prepared once per connection and
        // kept: a burst of confirms is mostly full chunks, and parsing one costs about as
        // much as running it on an empty table (half a millisecond per 200 rows, measured).
        // Shorter ones vary in length and would only push other statements out of the
        // connection's cache.
        let full = chunk.len() == ROWS_PER_INSERT;
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(full);
        for e in chunk {
            let c = Columns::of(e)?;
            q = q
                .bind(forum)
                .bind(e.ts)
                .bind(e.body.kind())
                .bind(c.viewer)
                .bind(c.conn)
                .bind(c.hall)
                .bind(c.prompt)
                .bind(c.closes)
                .bind(c.data);
        }
        q.execute(&mut *conn).await?;
    }
    let seen: Vec<(&str, Millis)> = seen.into_iter().collect();
    for chunk in seen.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO conn_seen (forum, conn, last_seen) VALUES {} \
             ON CONFLICT (forum, conn) DO UPDATE SET last_seen = CASE \
             WHEN excluded.last_seen > conn_seen.last_seen THEN excluded.last_seen \
             ELSE conn_seen.last_seen END",
            placeholders(chunk.len(), 3, numbered)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).persistent(false);
        for (c, ts) in chunk {
            q = q.bind(forum).bind(*c).bind(*ts);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(rows.len())
}

/// `($1, $2, $3), ($4, $5, $6)` for 2 rows of 3, or `(?, ?, ?), (?, ?, ?)`.
fn placeholders(rows: usize, per_row: usize, numbered: bool) -> String {
    let mut out = String::with_capacity(rows * per_row * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..per_row {
            if c > 0 {
                out.push_str(", ");
            }
            if numbered {
                out.push_str(&format!("${}", r * per_row + c + 1));
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// The nullable columns of one event row.
#[derive(Default)]
struct Columns {
    viewer: Option<String>,
    conn: Option<String>,
    hall: Option<String>,
    prompt: Option<String>,
    closes: Option<Millis>,
    data: Option<String>,
}

impl Columns {
    fn of(e: &Event) -> StoreResult<Columns> {
        let c = |s: &str| Some(s.to_owned());
        Ok(match &e.body {
            EventBody::Viewer {
                viewer,
                name,
                email,
                education,
                specialty,
            } => Columns {
                viewer: c(viewer),
                data: Some(to_json(&ViewerData {
                    name: name.clone(),
                    email: email.clone(),
                    education: *education,
                    specialty: specialty.clone(),
                })?),
                ..Columns::default()
            },
            EventBody::Connect { viewer, conn, hall } => Columns {
                viewer: c(viewer),
                conn: c(conn),
                hall: c(hall),
                data: evidence_json(e)?,
                ..Columns::default()
            },
            EventBody::Heartbeat { conn } | EventBody::Disconnect { conn } => Columns {
                conn: c(conn),
                ..Columns::default()
            },
            EventBody::Prompt {
                prompt,
                hall,
                closes,
            } => Columns {
                hall: c(hall),
                prompt: c(prompt),
                closes: Some(*closes),
                ..Columns::default()
            },
            EventBody::Confirm {
                viewer,
                conn,
                prompt,
            } => Columns {
                viewer: c(viewer),
                conn: c(conn),
                prompt: c(prompt),
                data: evidence_json(e)?,
                ..Columns::default()
            },
            EventBody::WrongAnswer {
                viewer,
                conn,
                prompt,
            } => Columns {
                viewer: c(viewer),
                conn: c(conn),
                prompt: c(prompt),
                ..Columns::default()
            },
        })
    }
}

/// A confirm's or connect's evidence, kept as JSON in `data` (NULL when nothing was observed).
fn evidence_json(e: &Event) -> StoreResult<Option<String>> {
    e.evidence.as_deref().map(to_json).transpose()
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(
            super::placeholders(2, 3, true),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(super::placeholders(1, 2, false), "(?, ?)");
    }
}
