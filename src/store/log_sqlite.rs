//! The export's read of a big forum's log on SQLite, straight through SQLite's C interface.
//!
//! sqlx's SQLite driver steps every statement on a worker thread of its own, copies each value
//! of each row (`sqlite3_value_dup`, a malloc apiece) and hands rows one at a time to the
//! reader through a channel. For the 5.5 M rows of a 100,000-viewer forum that was most of a
//! 68 s export (perf: malloc/free 33 %, futex waits 27 %, SQLite's own work 15 %). Here a plain
//! thread steps the statement on a connection of its own and reads each column in place: the
//! only allocations are the event's own strings. A log is read in a few `seq` ranges, one
//! thread each, since the rows of one forum are stored in arrival order and a range of the
//! primary key is a sequential read.
//!
//! The unsafe code is confined to this file: a handle and a statement that close themselves,
//! and column reads whose pointers are used before the next step, as SQLite requires.

use std::ffi::{CStr, CString, c_int};
use std::path::Path;
use std::ptr;

use libsqlite3_sys as ffi;

use super::log::StoredRow;
use super::{StoreError, StoreResult};

/// An open database handle, closed on drop.
pub(super) struct Db(*mut ffi::sqlite3);

/// A prepared statement, finalized on drop (before its [`Db`], which it borrows).
struct Stmt<'db> {
    raw: *mut ffi::sqlite3_stmt,
    db: &'db Db,
}

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: every statement borrows the handle, so none is left unfinalized here.
        unsafe {
            ffi::sqlite3_close(self.0);
        }
    }
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from sqlite3_prepare_v2 on this handle and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.raw);
        }
    }
}

impl Db {
    /// Opens the database file read-only, waiting up to 10 s for a writer's lock as the
    /// store's own connections do.
    pub(super) fn open(path: &Path) -> StoreResult<Db> {
        let name = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| failed(format!("database path {} holds a NUL", path.display())))?;
        let mut raw = ptr::null_mut();
        // SAFETY: `name` is a NUL-terminated string; `raw` receives a handle that must be
        // closed even when opening fails, which `Db`'s drop does.
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                name.as_ptr(),
                &mut raw,
                ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_NOMUTEX,
                ptr::null(),
            )
        };
        let db = Db(raw);
        if rc != ffi::SQLITE_OK {
            return Err(db.error("open", rc));
        }
        // SAFETY: a valid open handle.
        unsafe {
            ffi::sqlite3_busy_timeout(db.0, 10_000);
        }
        Ok(db)
    }

    fn prepare(&self, sql: &str) -> StoreResult<Stmt<'_>> {
        let mut raw = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| failed("statement too long".into()))?;
        // SAFETY: `sql` is valid for `len` bytes; the statement is finalized by `Stmt`'s drop.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.0, sql.as_ptr().cast(), len, &mut raw, ptr::null_mut())
        };
        let stmt = Stmt { raw, db: self };
        if rc != ffi::SQLITE_OK {
            return Err(self.error("prepare", rc));
        }
        Ok(stmt)
    }

    /// The handle's last error as a store error (`sqlx`'s, so callers treat both drivers the
    /// same, an outage included).
    fn error(&self, doing: &str, rc: c_int) -> StoreError {
        // SAFETY: sqlite3_errmsg takes a possibly null handle and returns a static or
        // handle-owned NUL-terminated string, copied here at once.
        let message = unsafe {
            let text = ffi::sqlite3_errmsg(self.0);
            if text.is_null() {
                String::new()
            } else {
                CStr::from_ptr(text).to_string_lossy().into_owned()
            }
        };
        failed(format!("sqlite {doing} failed ({rc}): {message}"))
    }
}

fn failed(message: String) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(message))
}

impl Stmt<'_> {
    /// Binds text to parameter `index` (from 1); SQLite copies it.
    fn bind_text(&mut self, index: c_int, value: &str) -> StoreResult<()> {
        let len = c_int::try_from(value.len()).map_err(|_| failed("value too long".into()))?;
        // SAFETY: `value` is valid for `len` bytes; SQLITE_TRANSIENT makes SQLite copy it.
        let rc = unsafe {
            ffi::sqlite3_bind_text(
                self.raw,
                index,
                value.as_ptr().cast(),
                len,
                ffi::SQLITE_TRANSIENT(),
            )
        };
        self.check("bind", rc)
    }

    fn bind_i64(&mut self, index: c_int, value: i64) -> StoreResult<()> {
        // SAFETY: a valid statement.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.raw, index, value) };
        self.check("bind", rc)
    }

    fn check(&self, doing: &str, rc: c_int) -> StoreResult<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.db.error(doing, rc))
        }
    }

    /// Steps to the next row: `true` on a row, `false` when done.
    fn step(&mut self) -> StoreResult<bool> {
        // SAFETY: a valid statement; the column pointers of the previous row are no longer
        // used (each `Columns` borrows the statement mutably).
        match unsafe { ffi::sqlite3_step(self.raw) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.db.error("step", rc)),
        }
    }

    fn is_null(&self, column: c_int) -> bool {
        // SAFETY: a statement on a row; an out-of-range column reads as NULL.
        unsafe { ffi::sqlite3_column_type(self.raw, column) == ffi::SQLITE_NULL }
    }

    fn int(&self, column: c_int) -> Option<i64> {
        // SAFETY: as above.
        (!self.is_null(column)).then(|| unsafe { ffi::sqlite3_column_int64(self.raw, column) })
    }

    /// A text column of the current row, borrowed until the next step.
    fn text(&self, column: c_int) -> StoreResult<Option<&str>> {
        if self.is_null(column) {
            return Ok(None);
        }
        // SAFETY: sqlite3_column_text returns the value as UTF-8, valid until the next step
        // or finalize, both of which need `&mut self`, so the borrow cannot outlive it;
        // sqlite3_column_bytes (called after it, as SQLite asks) gives its length.
        let bytes = unsafe {
            let text = ffi::sqlite3_column_text(self.raw, column);
            let len = ffi::sqlite3_column_bytes(self.raw, column);
            if text.is_null() {
                return Ok(Some(""));
            }
            std::slice::from_raw_parts(text, usize::try_from(len).unwrap_or(0))
        };
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("column {column} is not UTF-8")))
    }
}

/// The forum's rows with `seq` in `from..to`, in `seq` order, each given to `each`.
pub(super) fn scan(
    db: &Db,
    forum: &str,
    (from, to): (i64, i64),
    mut each: impl FnMut(&StoredRow) -> StoreResult<()>,
) -> StoreResult<()> {
    // A range of the primary key: one sequential walk of the table, the forum checked on
    // each row (the store usually holds one forum, so nothing is skipped).
    let mut stmt = db.prepare(
        "SELECT seq, ts, kind, viewer, conn, hall, prompt, closes, data, forum = ?1 \
         FROM events WHERE seq >= ?2 AND seq < ?3 ORDER BY seq",
    )?;
    stmt.bind_text(1, forum)?;
    stmt.bind_i64(2, from)?;
    stmt.bind_i64(3, to)?;
    while stmt.step()? {
        if stmt.int(9) != Some(1) {
            continue;
        }
        let seq = stmt.int(0).unwrap_or_default();
        let row = StoredRow {
            seq,
            ts: stmt
                .int(1)
                .ok_or_else(|| StoreError::Corrupt(format!("event {seq} has no time")))?,
            kind: stmt.text(2)?.unwrap_or_default(),
            viewer: stmt.text(3)?,
            conn: stmt.text(4)?,
            hall: stmt.text(5)?,
            prompt: stmt.text(6)?,
            closes: stmt.int(7),
            data: stmt.text(8)?,
        };
        each(&row)?;
    }
    Ok(())
}

/// The smallest and one past the largest `seq` of the whole table (`(0, 0)` when empty):
/// two lookups at the ends of the primary key.
pub(super) fn seq_bounds(db: &Db) -> StoreResult<(i64, i64)> {
    let mut stmt = db.prepare("SELECT min(seq), max(seq) FROM events")?;
    if !stmt.step()? {
        return Ok((0, 0));
    }
    Ok(match (stmt.int(0), stmt.int(1)) {
        (Some(lo), Some(hi)) => (lo, hi + 1),
        _ => (0, 0),
    })
}

/// Every `conn_seen` row of the forum as (connection, last sign of life), given to `each`.
pub(super) fn last_seen(
    db: &Db,
    forum: &str,
    mut each: impl FnMut(&str, i64) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut stmt = db.prepare("SELECT conn, last_seen FROM conn_seen WHERE forum = ?1")?;
    stmt.bind_text(1, forum)?;
    while stmt.step()? {
        let conn = stmt.text(0)?.unwrap_or_default();
        let seen = stmt.int(1).unwrap_or_default();
        each(conn, seen)?;
    }
    Ok(())
}
