//! Soak benchmark (issue 11): a few thousand viewers connecting, confirming and leaving for a
//! long time against the real server (`yavka serve`), to see that memory, open files and the
//! event writer's queue level off instead of creeping up.
//!
//! ```sh
//! cargo bench --bench soak                 # 3,000 viewers for 30 minutes, SQLite
//! cargo bench --bench soak -- --quick      # the same for 2 minutes
//! cargo bench --bench soak -- --viewers 5000 --minutes 60 --postgres
//! cargo bench --bench soak -- --minutes 20 --prompt-every-secs 180   # prompts as a session has them
//! ```
//! Each viewer (the load bench's generator, `benches/load/generator.rs`, in this process) opens
//! a tab in hall 1 or 2 at a random moment of the ramp, stays a random while (20–60 s with
//! `--quick`, 1–10 min otherwise), closes it, comes back after 1–5 s, and so on; it confirms
//! every prompt it sees within 20 s. The organiser fires a prompt in each hall every 20 s
//! (`--quick`) or minute. Every sample (5 s / 30 s) prints the server's RSS, its open files,
//! the writer's queue and held events (`/metrics`), the tabs open and the counts so far; the
//! `result:` line compares the last third of the run with the middle third (RSS within 10 %,
//! open files within 5 % + 20: "levelled off") and checks that every acknowledged confirm is
//! in the store.

#[path = "../tests/support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "load/generator.rs"]
mod generator;
#[allow(dead_code)]
#[path = "load/sys.rs"]
mod sys;

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};

use generator::{Report, ViewerSpec};
use support::TestDb;
use support::process::{free_port, start};
use yavka::api::auth::{hash_password, new_token, token_hash};
use yavka::domain::forum::Education;
use yavka::domain::log::EventBody;
use yavka::domain::registration::Registration;
use yavka::store::Store;

const FORUM: &str = "soak-forum";
const ORG: (&str, &str) = ("soak", "soak-password-123");

struct Options {
    viewers: usize,
    run: Duration,
    ramp: Duration,
    stay: (u64, u64),
    prompt_every: Duration,
    sample_every: Duration,
    postgres: bool,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let mut o = if quick {
            Options {
                viewers: 3_000,
                run: Duration::from_secs(120),
                ramp: Duration::from_secs(15),
                stay: (20, 60),
                prompt_every: Duration::from_secs(20),
                sample_every: Duration::from_secs(5),
                postgres: false,
            }
        } else {
            Options {
                viewers: 3_000,
                run: Duration::from_secs(30 * 60),
                ramp: Duration::from_secs(60),
                stay: (60, 600),
                prompt_every: Duration::from_secs(60),
                sample_every: Duration::from_secs(30),
                postgres: false,
            }
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut number = || -> u64 {
                let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
                v.replace(['_', ','], "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{a}: not a number"))
            };
            match a.as_str() {
                "--viewers" => o.viewers = number() as usize,
                "--minutes" => o.run = Duration::from_secs(number() * 60),
                "--prompt-every-secs" => o.prompt_every = Duration::from_secs(number().max(1)),
                "--postgres" => o.postgres = true,
                "--quick" | "--bench" => {}
                other => panic!("unknown option {other} (see benches/soak.rs)"),
            }
        }
        o
    }
}

fn main() {
    let opts = Options::parse();
    let (soft, _) = sys::raise_nofile();
    assert!(
        soft as usize > opts.viewers + 1_000,
        "the open-file limit ({soft}) is too low for {} viewers",
        opts.viewers
    );
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run(opts));
}

/// Viewers registered straight in the store, and the organiser; their personal tokens.
async fn register(db_url: &str, n: usize) -> Vec<String> {
    let store = Store::connect(db_url).await.expect("the store opens");
    let now = jiff::Timestamp::now().as_millisecond();
    let tokens: Vec<String> = (0..n).map(|_| new_token()).collect();
    futures_util::stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| {
            let store = store.clone();
            async move {
                let reg = Registration {
                    name: format!("Зрителева Анна {i}"),
                    email: format!("soak{i}@example.org"),
                    phone: format!("+7916{i:07}"),
                    education: Education::Higher,
                    specialty: "рентгенология".into(),
                    snils: None,
                };
                let id = format!("v-{i}");
                store
                    .insert_viewer(FORUM, &id, &reg, &token_hash(token), now)
                    .await
                    .expect("a viewer is inserted");
            }
        })
        .buffer_unordered(16)
        .collect::<()>()
        .await;
    let hash = hash_password(ORG.1).unwrap();
    store.insert_organiser(ORG.0, &hash, now).await.unwrap();
    store.close().await;
    tokens
}

/// What the viewers did so far.
#[derive(Default)]
struct Tally {
    open: AtomicUsize,
    connects: AtomicUsize,
    failed: AtomicUsize,
}

/// One person (`v-{i}`): opens a tab, stays, leaves, comes back, until `end`. Reports go to
/// the collector tagged with the person's number.
async fn person(
    i: usize,
    token: String,
    server: SocketAddr,
    opts: Arc<(Duration, (u64, u64), Instant)>,
    permits: Arc<Semaphore>,
    reports: mpsc::UnboundedSender<(usize, Report)>,
    tally: Arc<Tally>,
) {
    let (ramp, (stay_min, stay_max), end) = *opts;
    let start = rand::random_range(0..ramp.as_millis().max(1) as u64);
    tokio::time::sleep(Duration::from_millis(start)).await;
    let spec = ViewerSpec {
        node: 0,
        path: format!("/ws?token={token}&hall=hall-{}", 1 + i % 2),
        source: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % 4) as u8)),
    };
    while Instant::now() < end {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (tab_tx, mut tab_rx) = mpsc::unbounded_channel();
        let tab = tokio::spawn(generator::viewer(
            spec.clone(),
            server,
            20_000,
            permits.clone(),
            tab_tx,
            stop_rx,
        ));
        let forward = reports.clone();
        let counts = tally.clone();
        let relay = tokio::spawn(async move {
            let mut opened = false;
            while let Some(r) = tab_rx.recv().await {
                match r {
                    Report::Ready { result: Ok(()), .. } => {
                        opened = true;
                        counts.open.fetch_add(1, Ordering::Relaxed);
                        counts.connects.fetch_add(1, Ordering::Relaxed);
                    }
                    Report::Ready { result: Err(_), .. } => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        let _ = forward.send((i, other));
                    }
                }
            }
            if opened {
                counts.open.fetch_sub(1, Ordering::Relaxed);
            }
        });
        let stay = Duration::from_secs(rand::random_range(stay_min..=stay_max));
        tokio::time::sleep(stay.min(end.saturating_duration_since(Instant::now()))).await;
        stop_tx.send_replace(true);
        let _ = tab.await;
        let _ = relay.await;
        tokio::time::sleep(Duration::from_millis(rand::random_range(1_000..5_000))).await;
    }
}

/// What came back from the tabs.
#[derive(Default)]
struct Answers {
    sent: usize,
    /// (viewer, prompt) of every `confirmed`.
    acked: HashSet<(String, String)>,
    errors: BTreeMap<String, usize>,
    closed_by_server: usize,
}

impl Answers {
    fn note(&mut self, (i, r): (usize, Report)) {
        match r {
            Report::Prompt { sent: Some(_), .. } => self.sent += 1,
            Report::Confirmed { id, .. } => {
                self.acked.insert((format!("v-{i}"), id));
            }
            Report::Error { code, .. } => *self.errors.entry(code).or_default() += 1,
            Report::Closed { .. } => self.closed_by_server += 1,
            _ => {}
        }
    }
}

/// One sample of the server.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    fds: usize,
    queue: f64,
    held: f64,
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A gauge's value in a Prometheus text page.
fn gauge(page: &str, name: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn run(opts: Options) {
    println!(
        "soak: {} viewers for {} s on {}; machine: {}",
        opts.viewers,
        opts.run.as_secs(),
        if opts.postgres { "Postgres" } else { "SQLite" },
        sys::machine()
    );
    let db = if opts.postgres {
        TestDb::postgres_named("yavka_soak").await
    } else {
        TestDb::sqlite()
    };
    let dir = tempfile::tempdir().unwrap();
    let forum = yavka::domain::sim::live_forum_toml(FORUM, jiff::Timestamp::now().as_millisecond());
    std::fs::write(dir.path().join("forum.toml"), forum).unwrap();
    // Migrations and the forum first, then the viewers, then the server on the same store.
    let port = free_port();
    let server = start(dir.path(), &db.url, port).await;
    let tokens = register(&db.url, opts.viewers).await;
    let pid = server.child.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = http
        .post(format!("{base}/api/org/login"))
        .json(&json!({"login": ORG.0, "password": ORG.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "organiser login");

    let started = Instant::now();
    let end = started + opts.run;
    let shared = Arc::new((opts.ramp, opts.stay, end));
    let permits = Arc::new(Semaphore::new(100));
    let tally = Arc::new(Tally::default());
    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let server_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let people: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            tokio::spawn(person(
                i,
                token,
                server_addr,
                shared.clone(),
                permits.clone(),
                report_tx.clone(),
                tally.clone(),
            ))
        })
        .collect();
    drop(report_tx);

    let mut answers = Answers::default();
    let mut prompts = 0usize;
    let mut samples: Vec<Sample> = Vec::new();
    let mut next_prompt = started + opts.prompt_every;
    let mut next_sample = started;
    println!("     t   open  opened  failed  prompts  acked  errors  rss MiB  files  queue  held");
    while Instant::now() < end {
        let now = Instant::now();
        if now >= next_prompt {
            next_prompt += opts.prompt_every;
            for hall in ["hall-1", "hall-2"] {
                let r = http
                    .post(format!("{base}/api/org/prompts"))
                    .json(&json!({"hall": hall}))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status() == 200) {
                    prompts += 1;
                }
            }
        }
        if now >= next_sample {
            next_sample += opts.sample_every;
            let page = match http.get(format!("{base}/metrics")).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let s = Sample {
                rss_kib: sys::rss_kib(pid),
                fds: open_files(pid),
                queue: gauge(&page, "yavka_writer_queue"),
                held: gauge(&page, "yavka_writer_held"),
            };
            println!(
                "{:>6.0} {:>6} {:>7} {:>7} {:>8} {:>6} {:>7} {:>8.1} {:>6} {:>6} {:>5}",
                now.duration_since(started).as_secs_f64(),
                tally.open.load(Ordering::Relaxed),
                tally.connects.load(Ordering::Relaxed),
                tally.failed.load(Ordering::Relaxed),
                prompts,
                answers.acked.len(),
                answers.errors.values().sum::<usize>(),
                s.rss_kib as f64 / 1024.0,
                s.fds,
                s.queue,
                s.held
            );
            samples.push(s);
        }
        let wait = next_sample.min(next_prompt).min(end);
        while let Ok(Some(r)) = tokio::time::timeout_at(wait.into(), reports.recv()).await {
            answers.note(r);
        }
    }
    for p in people {
        let _ = p.await;
    }
    while let Some(r) = reports.recv().await {
        answers.note(r);
    }
    // Let the writer commit the last disconnects, then compare with what the store kept.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let store = Store::connect(&db.url).await.expect("the store opens");
    let events = store.events(FORUM, None).await.expect("the log reads");
    store.close().await;
    let stored: HashSet<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Confirm { viewer, prompt, .. } => {
                Some((viewer.to_string(), prompt.to_string()))
            }
            _ => None,
        })
        .collect();
    let count = |f: fn(&EventBody) -> bool| events.iter().filter(|e| f(&e.body)).count();
    let confirms = count(|b| matches!(b, EventBody::Confirm { .. }));
    let connects = count(|b| matches!(b, EventBody::Connect { .. }));
    let disconnects = count(|b| matches!(b, EventBody::Disconnect { .. }));
    let lost = answers.acked.difference(&stored).count();
    drop(server);
    drop(db);

    let third = samples.len() / 3;
    let max_of = |xs: &[Sample], f: fn(&Sample) -> f64| xs.iter().map(f).fold(0.0, f64::max);
    let (mid, last) = (&samples[third..2 * third], &samples[2 * third..]);
    let rss = |s: &Sample| s.rss_kib as f64 / 1024.0;
    let fds = |s: &Sample| s.fds as f64;
    let (rss_mid, rss_last) = (max_of(mid, rss), max_of(last, rss));
    let (fds_mid, fds_last) = (max_of(mid, fds), max_of(last, fds));
    let levelled = rss_last <= rss_mid * 1.10 && fds_last <= fds_mid * 1.05 + 20.0;
    // How fast RSS still grows in each third, MiB per minute: a level run tends to zero.
    let per_min = |xs: &[Sample]| match (xs.first(), xs.last()) {
        (Some(a), Some(b)) if xs.len() > 1 => {
            (rss(b) - rss(a)) / ((xs.len() - 1) as f64 * opts.sample_every.as_secs_f64() / 60.0)
        }
        _ => 0.0,
    };
    let (slope_mid, slope_last) = (per_min(mid), per_min(last));
    let queue_max = max_of(&samples, |s| s.queue);
    let held_max = max_of(&samples, |s| s.held);
    println!(
        "result: viewers={} seconds={} tabs_opened={} tabs_failed={} closed_by_server={} \
         connects_stored={connects} disconnects_stored={disconnects} prompts={prompts} \
         confirms_sent={} confirms_acked={} confirms_stored={confirms} acked_but_lost={lost} \
         errors={:?} rss_mib_mid_max={rss_mid:.1} rss_mib_last_max={rss_last:.1} \
         rss_mib_per_min_mid={slope_mid:.1} rss_mib_per_min_last={slope_last:.1} \
         files_mid_max={fds_mid} files_last_max={fds_last} writer_queue_max={queue_max} \
         writer_held_max={held_max} levelled_off={}",
        opts.viewers,
        opts.run.as_secs(),
        tally.connects.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        answers.closed_by_server,
        answers.sent,
        answers.acked.len(),
        answers.errors,
        if levelled { "yes" } else { "NO" },
    );
}
