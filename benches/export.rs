//! The commission export at forum scale: 100,000 viewers over the shipped forum (the rules
//! benchmark's crowd), written as streamed CSV and as constant-memory XLSX, with time and
//! peak memory of each stage.
//!
//! ```sh
//! cargo bench --bench export              # 100,000 viewers (about a minute, ~5 GB peak for the log)
//! cargo bench --bench export -- --small   # 5,000 viewers, for a quick look
//! cargo bench --bench export -- --viewers 20000
//! cargo bench --bench export -- --store     # from a filled store, SQLite then Postgres
//! cargo bench --bench export -- --store --backend sqlite   # or postgres: that one alone
//! ```
//!
//! Peak memory is the process's high-water mark (`VmHWM`), reset before each stage through
//! `/proc/self/clear_refs` after `malloc_trim`, so each figure is that stage's own peak on top
//! of what was live before it (the log, which every export reads; the replayed facts are built
//! inside each stage and counted in it). The CSV goes through a
//! bounded channel of 64 KiB chunks to a consumer thread, as the HTTP download does.
//!
//! With `--store`, the log goes into a fresh store of each backend (SQLite in a temporary
//! folder, a fresh Postgres database, dropped afterwards; filling is not measured), the log is
//! dropped from memory, and the export is measured end to end as the download makes it: the
//! log read from the store, replayed and judged, the CSV written. Its peak is over the little
//! that is resident before it, so it is the export's own peak.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use yavka::domain::codes::Code;
use yavka::domain::log::EventBody;
use yavka::domain::rules::{self, Facts, Params};
use yavka::domain::sim::{Crowd, crowd_log};
use yavka::reports::export::{Input, Table, write_csv, write_xlsx};
use yavka::reports::rows::{self, Codes};
use yavka::reports::summary::Registered;

fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

unsafe extern "C" {
    /// glibc: returns freed heap memory to the system.
    fn malloc_trim(pad: usize) -> i32;
}

/// Gives freed memory back (so the resident size is what is live, not what an earlier stage
/// left in the allocator's free lists) and resets the high-water mark to it (Linux ≥ 4.0).
fn reset_peak() {
    // SAFETY: malloc_trim only releases free pages of glibc's own heap; no pointer is involved.
    unsafe {
        malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `f` and prints its time, its peak above the resident size before it, and `what`.
fn stage<T>(name: &str, f: impl FnOnce() -> T) -> T {
    reset_peak();
    let before = status_kib("VmRSS:");
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    let peak = status_kib("VmHWM:");
    println!(
        "{name:<44} {:>8.2} s   peak {:>7.0} MiB (+{:>6.0} MiB over {:>6.0} MiB resident)",
        took.as_secs_f64(),
        mib(peak),
        mib(peak.saturating_sub(before)),
        mib(before)
    );
    out
}

/// The HTTP download's shape: 64 KiB chunks through a channel of 8 to another thread.
struct Pipe {
    tx: mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for Pipe {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(64 * 1024));
            self.tx.send(chunk).map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

/// Writes through a [`Pipe`] to a thread that counts bytes; returns (rows, bytes).
fn piped(write: impl FnOnce(&mut Pipe) -> anyhow::Result<u64>) -> (u64, u64) {
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(8);
    let drain = std::thread::spawn(move || rx.iter().map(|c| c.len() as u64).sum::<u64>());
    let mut pipe = Pipe {
        tx,
        buf: Vec::with_capacity(64 * 1024),
    };
    let rows = write(&mut pipe).expect("the export writes");
    pipe.flush().unwrap();
    drop(pipe);
    (rows, drain.join().unwrap())
}

/// Events stored per transaction while filling a store: big enough to be quick, small enough
/// that one transaction never holds the whole log.
const FILL_BATCH: usize = 100_000;

/// Drops the secondary indexes of the `events` table; returns the statements that create them
/// again. Inserting 7.3 M rows into four B-trees keyed by viewer, connection and time, in log
/// order, touches pages all over each of them (712 s for SQLite); one sort per index after the
/// fill is far quicker and gives the same store.
async fn drop_event_indexes(url: &str) -> Vec<String> {
    let pool = sqlx::AnyPool::connect(url).await.expect("connects");
    let listing = if url.starts_with("sqlite") {
        "SELECT name, sql AS def FROM sqlite_master \
         WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
    } else {
        "SELECT i.indexname::text AS name, i.indexdef AS def FROM pg_indexes i \
         WHERE i.tablename = 'events' AND i.schemaname = current_schema() \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    };
    let rows = sqlx::query(listing)
        .fetch_all(&pool)
        .await
        .expect("the indexes are listed");
    let mut create = Vec::new();
    for row in rows {
        use sqlx::Row;
        let name: String = row.get("name");
        create.push(row.get::<String, _>("def"));
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .execute(&pool)
            .await
            .expect("the index is dropped");
    }
    pool.close().await;
    assert!(!create.is_empty(), "the events table has its indexes");
    create
}

async fn run_sql(url: &str, statements: &[String]) {
    let pool = sqlx::AnyPool::connect(url).await.expect("connects");
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&pool)
            .await
            .expect("the statement runs");
    }
    pool.close().await;
}

/// The export from a store of each backend, end to end; prints one `result:` line each.
/// `only`: `sqlite` or `postgres` to fill and export from that backend alone.
fn from_store(
    forum: &yavka::domain::forum::Forum,
    events: Vec<yavka::domain::log::Event>,
    only: Option<&str>,
) {
    use support::TestDb;
    use yavka::store::Store;
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let viewers = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Viewer { .. }))
        .count();
    let dbs = rt.block_on(async {
        let mut dbs = Vec::new();
        if only != Some("postgres") {
            dbs.push(TestDb::sqlite());
        }
        if only != Some("sqlite") {
            dbs.push(TestDb::postgres_named("yavka_bench").await);
        }
        dbs
    });
    let mut stores = Vec::new();
    for db in &dbs {
        let store = stage(
            &format!("fill the {} store (not measured)", db.backend),
            || {
                rt.block_on(async {
                    let store = Store::connect(&db.url).await.expect("the store opens");
                    store
                        .sync_forum(forum, 0)
                        .await
                        .expect("the forum is stored");
                    // The log's indexes are built once after the fill, not row by row:
                    // the same rows and the same schema, in minutes instead of 712 s.
                    let indexes = drop_event_indexes(&db.url).await;
                    for batch in events.chunks(FILL_BATCH) {
                        store
                            .append(&forum.id, batch)
                            .await
                            .expect("the log is stored");
                    }
                    run_sql(&db.url, &indexes).await;
                    store
                })
            },
        );
        if db.backend == "postgres" {
            // Fresh statistics, as autovacuum would have gathered after a day of a forum.
            rt.block_on(async {
                let pool = sqlx::AnyPool::connect(&db.url).await.expect("connects");
                sqlx::query("ANALYZE")
                    .execute(&pool)
                    .await
                    .expect("analyses");
                pool.close().await;
            });
        }
        stores.push(store);
    }
    // Only the store holds the log now, as in the server.
    drop(events);
    for (db, store) in dbs.iter().zip(&stores) {
        let mut events_read = 0;
        let mut reading = Duration::ZERO;
        let mut took = Duration::ZERO;
        // Timed from the first read to the last byte out, as the download's client sees it:
        // not the allocator's trim before the stage (`reset_peak`, seconds after the bench
        // freed its own log) nor freeing the log after the last byte (in the stage's line).
        let (rows, bytes) = stage(
            &format!("export from the {} store, CSV", db.backend),
            || {
                let started = Instant::now();
                let read = rt
                    .block_on(store.export_input(&forum.id))
                    .expect("the store reads");
                reading = started.elapsed();
                let input = Input::from_store(read, Default::default());
                events_read = input.events.len();
                let written =
                    piped(|out| write_csv(out, forum, &input, None, b';', Table::Participants));
                took = started.elapsed();
                written
            },
        );
        let peak = mib(status_kib("VmHWM:"));
        println!(
            "  {events_read} events read back (heartbeats folded) in {:.2} s, the last byte \
             out at {:.2} s; {rows} rows, {:.1} MB",
            reading.as_secs_f64(),
            took.as_secs_f64(),
            bytes as f64 / 1e6
        );
        println!(
            "result: export_csv_from_{}_{viewers}_viewers {:.2} s, peak {peak:.0} MiB",
            db.backend,
            took.as_secs_f64()
        );
        rt.block_on(store.close());
    }
    rt.block_on(async {
        for db in dbs {
            db.drop().await;
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let viewers = if args.iter().any(|a| a == "--small") {
        5_000
    } else {
        args.iter()
            .position(|a| a == "--viewers")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000)
    };
    let forum =
        yavka::forum_file::load(Path::new("config/forum.toml")).expect("the shipped forum loads");
    println!(
        "export benchmark: {viewers} viewers over the shipped forum, {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let events = stage("generate the log (not part of an export)", || {
        let mut events = crowd_log(
            &forum,
            &Crowd {
                viewers,
                connections: 20,
                diligence: 90,
                seed: 1,
            },
        );
        yavka::domain::log::sort_events(&mut events);
        events
    });

    if args.iter().any(|a| a == "--store") {
        let only = args
            .iter()
            .position(|a| a == "--backend")
            .and_then(|i| args.get(i + 1));
        return from_store(&forum, events, only.map(String::as_str));
    }

    // Codes for everyone eligible, and registrations by specialty, as the store would hold.
    let (codes, registered) = stage("issue codes (not part of an export)", || {
        let facts = Facts::build(&events);
        let mut codes = Codes::new();
        let mut rng = rand::rng();
        for o in rows::outcomes(&forum, &facts, Params::default(), &Default::default(), None) {
            if o.eligible {
                codes
                    .entry(forum.sessions[o.session as usize].id.clone())
                    .or_default()
                    .insert(
                        facts.viewers[o.viewer as usize].id.to_owned(),
                        Code::generate(&mut rng).as_str().to_owned(),
                    );
            }
        }
        let mut counts: std::collections::BTreeMap<_, u64> = Default::default();
        for e in &events {
            if let EventBody::Viewer {
                education,
                specialty,
                ..
            } = &e.body
            {
                *counts.entry((*education, specialty.clone())).or_default() += 1;
            }
        }
        let registered: Vec<Registered> = counts
            .into_iter()
            .map(|((education, specialty), count)| Registered {
                education,
                specialty,
                count,
            })
            .collect();
        (codes, registered)
    });
    let issued: usize = codes.values().map(|m| m.len()).sum();
    println!("log: {} events; {issued} codes issued", events.len());
    let input = Input {
        events,
        codes,
        decisions: Vec::new(),
        registered,
        rules: Params::default(),
    };

    // The floor under every export: the rules need the replayed log in memory.
    let facts_only = stage("replay and judge only (no output)", || {
        let facts = Facts::build(&input.events);
        rows::outcomes(&forum, &facts, Params::default(), &Default::default(), None).len()
    });
    println!("  {facts_only} outcomes of 40 bytes");

    let (rows_csv, bytes_csv) = stage("CSV, whole forum, streamed", || {
        piped(|out| write_csv(out, &forum, &input, None, b';', Table::Participants))
    });
    println!("  {rows_csv} rows, {:.1} MB", bytes_csv as f64 / 1e6);

    let session = forum.sessions[0].id.clone();
    let (rows_one, _) = stage("CSV, one session, streamed", || {
        piped(|out| {
            write_csv(
                out,
                &forum,
                &input,
                Some(&session),
                b';',
                Table::Participants,
            )
        })
    });
    println!("  {rows_one} rows of session {session}");

    let (rows_sum, _) = stage("CSV summary", || {
        piped(|out| write_csv(out, &forum, &input, None, b';', Table::Summary))
    });
    println!("  {rows_sum} summary rows");

    let (rows_xlsx, bytes_xlsx) = stage("XLSX, whole forum, constant memory", || {
        piped(|out| write_xlsx(out, &forum, &input, None))
    });
    println!("  {rows_xlsx} rows, {:.1} MB", bytes_xlsx as f64 / 1e6);

    // For comparison: what holding every row as text would cost (the rules' own Verdicts,
    // with names and reasons, all at once) — what the streamed export avoids.
    let held = stage("for comparison: all Verdicts held at once", || {
        let facts = Facts::build(&input.events);
        rules::verdicts(&forum, &facts).len()
    });
    println!("  {held} verdicts");
}
