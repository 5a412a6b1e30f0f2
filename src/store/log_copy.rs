//! The export's read of a big forum's log on Postgres: `COPY (SELECT …) TO STDOUT` in the
//! binary format on a connection of Postgres' own driver, parsed here.
//!
//! A query's rows each come through sqlx's row machinery (a `PgRow` with its column table, a
//! `Decode` per value); `COPY` sends the same values as plain length-prefixed bytes that are
//! read in place, so the only allocations are the event's own strings. `COPY` takes no bound
//! parameters: the forum's id travels as a setting of the session (`set_config`), never
//! spliced into the statement.

use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;

use super::log::StoredRow;
use super::{StoreError, StoreResult};

/// The session setting that carries the forum's id into the `COPY` statements.
const FORUM_SETTING: &str = "yavka.export_forum";

/// Sets the forum whose rows the next `COPY`s read, for this connection's session.
pub(super) async fn choose_forum(conn: &mut PgConnection, forum: &str) -> StoreResult<()> {
    sqlx::query("SELECT set_config($1, $2, false)")
        .bind(FORUM_SETTING)
        .bind(forum)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The forum's rows with `seq` in `from..to`, in `seq` order, each given to `each`.
pub(super) async fn rows(
    conn: &mut PgConnection,
    (from, to): (i64, i64),
    mut each: impl FnMut(&StoredRow) -> StoreResult<()>,
) -> StoreResult<()> {
    // Explicit casts: the binary format's layout is the column's type, so it is fixed here.
    // `(SELECT current_setting…)` is evaluated once, not per row.
    let sql = format!(
        "COPY (SELECT seq::int8, ts::int8, kind::text, viewer::text, conn::text, hall::text, \
         prompt::text, closes::int8, data::text FROM events \
         WHERE forum = (SELECT current_setting('{FORUM_SETTING}')) \
         AND seq >= {from} AND seq < {to} ORDER BY seq) TO STDOUT (FORMAT binary)"
    );
    copy(conn, &sql, |f: &[Option<&[u8]>; 9]| {
        let seq = int(f[0])?.unwrap_or_default();
        each(&StoredRow {
            seq,
            ts: int(f[1])?.ok_or_else(|| StoreError::Corrupt(format!("event {seq}: no time")))?,
            kind: text(f[2])?.unwrap_or_default(),
            viewer: text(f[3])?,
            conn: text(f[4])?,
            hall: text(f[5])?,
            prompt: text(f[6])?,
            closes: int(f[7])?,
            data: text(f[8])?,
        })
    })
    .await
}

/// Every `conn_seen` row of the forum as (connection, last sign of life), given to `each`.
pub(super) async fn last_seen(
    conn: &mut PgConnection,
    mut each: impl FnMut(&str, i64) -> StoreResult<()>,
) -> StoreResult<()> {
    let sql = format!(
        "COPY (SELECT conn::text, last_seen::int8 FROM conn_seen \
         WHERE forum = (SELECT current_setting('{FORUM_SETTING}'))) TO STDOUT (FORMAT binary)"
    );
    copy(conn, &sql, |f: &[Option<&[u8]>; 2]| {
        each(
            text(f[0])?.unwrap_or_default(),
            int(f[1])?.unwrap_or_default(),
        )
    })
    .await
}

/// The smallest and one past the largest `seq` of the whole table (`(0, 0)` when empty).
pub(super) async fn seq_bounds(conn: &mut PgConnection) -> StoreResult<(i64, i64)> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT min(seq)::int8, max(seq)::int8 FROM events")
            .fetch_one(&mut *conn)
            .await?;
    Ok(match (lo, hi) {
        (Some(lo), Some(hi)) => (lo, hi + 1),
        _ => (0, 0),
    })
}

/// Runs a `COPY … TO STDOUT (FORMAT binary)` of `N` columns, each tuple given to `each`.
async fn copy<const N: usize>(
    conn: &mut PgConnection,
    sql: &str,
    mut each: impl FnMut(&[Option<&[u8]>; N]) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut stream = conn.copy_out_raw(sql).await?;
    let mut tuples = Tuples::<N>::default();
    while let Some(chunk) = stream.try_next().await? {
        tuples.feed(&chunk, &mut each)?;
    }
    tuples.finish()
}

/// A parser of the binary `COPY` format fed in chunks, which need not end on a tuple.
/// <https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>
#[derive(Default)]
pub(super) struct Tuples<const N: usize> {
    /// The start of a tuple cut by the end of the last chunk.
    pending: Vec<u8>,
    header: bool,
    ended: bool,
}

/// The binary format's signature, first in its header.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl<const N: usize> Tuples<N> {
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        each: &mut impl FnMut(&[Option<&[u8]>; N]) -> StoreResult<()>,
    ) -> StoreResult<()> {
        if self.pending.is_empty() {
            let used = self.parse(chunk, each)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(chunk);
            let used = self.parse(&buf, each)?;
            buf.drain(..used);
            self.pending = buf;
        }
        Ok(())
    }

    /// Every complete tuple at the start of `buf`; returns how many bytes they took.
    fn parse(
        &mut self,
        buf: &[u8],
        each: &mut impl FnMut(&[Option<&[u8]>; N]) -> StoreResult<()>,
    ) -> StoreResult<usize> {
        let mut at = 0;
        if !self.header {
            // Signature, flags (i32), header extension length (i32) and the extension.
            let Some(extension) = be_i32(buf, SIGNATURE.len() + 4) else {
                return Ok(0);
            };
            if &buf[..SIGNATURE.len()] != SIGNATURE {
                return Err(bad("no binary COPY signature"));
            }
            let end =
                SIGNATURE.len() + 8 + usize::try_from(extension).map_err(|_| bad("header"))?;
            if buf.len() < end {
                return Ok(0);
            }
            at = end;
            self.header = true;
        }
        while !self.ended {
            let Some(count) = be_i16(buf, at) else { break };
            if count == -1 {
                self.ended = true;
                at += 2;
                break;
            }
            if usize::try_from(count).ok() != Some(N) {
                return Err(bad("unexpected number of columns"));
            }
            let mut fields = [None; N];
            let mut next = at + 2;
            let mut whole = true;
            for field in &mut fields {
                let Some(len) = be_i32(buf, next) else {
                    whole = false;
                    break;
                };
                next += 4;
                if len < 0 {
                    continue;
                }
                let len = len as usize;
                let Some(value) = buf.get(next..next + len) else {
                    whole = false;
                    break;
                };
                *field = Some(value);
                next += len;
            }
            if !whole {
                break;
            }
            each(&fields)?;
            at = next;
        }
        Ok(at)
    }

    /// Checks that the stream ended with the format's trailer, not in the middle.
    pub(super) fn finish(self) -> StoreResult<()> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(bad("the COPY stream ended early"))
        }
    }
}

fn be_i16(buf: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn be_i32(buf: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn bad(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("binary COPY: {what}")))
}

/// An `int8` value.
fn int(field: Option<&[u8]>) -> StoreResult<Option<i64>> {
    field
        .map(|b| {
            b.try_into()
                .map(i64::from_be_bytes)
                .map_err(|_| bad("an int8 that is not 8 bytes"))
        })
        .transpose()
}

/// A `text` value (the database's encoding is UTF-8, as the store creates it).
fn text(field: Option<&[u8]>) -> StoreResult<Option<&str>> {
    field
        .map(|b| std::str::from_utf8(b).map_err(|_| StoreError::Corrupt("text not UTF-8".into())))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of (int8, text) tuples, as Postgres writes it.
    fn stream(rows: &[(Option<i64>, Option<&str>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend(0i32.to_be_bytes());
        out.extend(4i32.to_be_bytes());
        out.extend(b"ext!");
        for (n, s) in rows {
            out.extend(2i16.to_be_bytes());
            match n {
                Some(n) => {
                    out.extend(8i32.to_be_bytes());
                    out.extend(n.to_be_bytes());
                }
                None => out.extend((-1i32).to_be_bytes()),
            }
            match s {
                Some(s) => {
                    out.extend((s.len() as i32).to_be_bytes());
                    out.extend(s.as_bytes());
                }
                None => out.extend((-1i32).to_be_bytes()),
            }
        }
        out.extend((-1i16).to_be_bytes());
        out
    }

    fn parse_in_chunks(bytes: &[u8], size: usize) -> StoreResult<Vec<(Option<i64>, String)>> {
        let mut got = Vec::new();
        let mut tuples = Tuples::<2>::default();
        for chunk in bytes.chunks(size) {
            tuples.feed(chunk, &mut |f: &[Option<&[u8]>; 2]| {
                got.push((int(f[0])?, text(f[1])?.unwrap_or("NULL").to_owned()));
                Ok(())
            })?;
        }
        tuples.finish()?;
        Ok(got)
    }

    #[test]
    fn tuples_cut_anywhere_between_chunks_read_the_same() {
        let rows = [
            (Some(1), Some("a;b,\"c\"\n")),
            (None, Some("")),
            (Some(-7), None),
            (Some(i64::MAX), Some("Иванов — «ёлка»")),
        ];
        let bytes = stream(&rows);
        let expected: Vec<(Option<i64>, String)> = rows
            .iter()
            .map(|(n, s)| (*n, s.unwrap_or("NULL").to_owned()))
            .collect();
        for size in [1, 2, 3, 5, 7, 19, 64, bytes.len()] {
            assert_eq!(parse_in_chunks(&bytes, size).unwrap(), expected, "{size}");
        }
    }

    #[test]
    fn a_stream_cut_short_is_an_error_not_a_shorter_log() {
        let bytes = stream(&[(Some(1), Some("a")), (Some(2), Some("b"))]);
        for cut in [bytes.len() - 1, bytes.len() - 2, bytes.len() - 5, 10] {
            assert!(parse_in_chunks(&bytes[..cut], 4).is_err(), "{cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(parse_in_chunks(&wrong, 64).is_err());
    }
}
