//! Load benchmark (issue 6): the real server (`yavka serve`, one or several processes) and a bare
//! broadcast server on the same stack, each loaded by the same websocket generator on this
//! machine over loopback. It reports connections held, server memory per connection, prompt
//! delivery latency over all viewers, confirmations acknowledged per second and whether every
//! confirmation sent was recorded, and our figures as ratios to the bare server's.
//!
//! ```sh
//! cargo bench --bench load -- --viewers 19000                      # one node, SQLite
//! cargo bench --bench load -- --viewers 45000 --nodes 3            # three nodes, Postgres + Redis
//! ```
//! Options (environment in brackets):
//! - `--viewers N` [`YAVKA_BENCH_VIEWERS`], default 2000;
//! - `--nodes K` [`YAVKA_BENCH_NODES`], default 1; K > 1 needs Postgres and passes `REDIS_URL`;
//! - `--postgres` [`YAVKA_BENCH_DB=postgres`]: a fresh database `yavka_bench_<hex>` on the local
//!   server, dropped at the end (always so with K > 1); otherwise SQLite in a temporary folder;
//! - `--redis URL` [`REDIS_URL`], default `redis://127.0.0.1:6379`;
//! - `--only yavka|bare`: measure one of the two; `--server-env KEY=VALUE` (repeatable): extra
//!   environment for the yavka servers, e.g. `YAVKA__HUB__READ_BUFFER=1024` or
//!   `MALLOC_ARENA_MAX=2`, for memory experiments;
//! - `--confirm-spread-ms D`: each viewer confirms after a random pause of up to D ms (default
//!   0: on arrival, the worst case, where confirms compete with the fan-out);
//! - `--sources S` (default 4: 127.0.0.2 …), `--per-worker M` (default 10000 viewers per
//!   generator process), `--connect-parallel P` (default 200), `--timeout-secs T` (default 60);
//! - `--close-window-secs W` (default 60): the prompt's window.
//!
//! Viewers go to the nodes round-robin, every viewer in `hall-1`. Per target: one warm-up
//! connection per node opens and closes (lazily built state goes into the baseline), each
//! node's RSS is read, the generator workers connect every viewer, RSS is read again; the
//! organiser fires one prompt on node 0 (the bare servers: all at once), every viewer confirms
//! it on arrival, and the bench waits for every viewer's prompt and answer. Delivery latency is
//! from just before the POST to each arrival, on CLOCK_MONOTONIC, shared by all processes.
//! Afterwards the store is asked how many `confirm` events that prompt has. Then (our server
//! only: the bare one keeps no tally) the bench waits for the prompt to close and measures the
//! time until every viewer of the hall has the tally pushed when it does (from the close
//! instant: the bench's instant before the POST plus the window), and the servers' processor
//! time from one second before the close to the last tally.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "load/bare.rs"]
mod bare;
#[path = "load/generator.rs"]
mod generator;
#[path = "load/sys.rs"]
mod sys;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, watch};

use generator::{Collector, Command, ViewerSpec, WorkerConfig, WorkerReady, WorkerResult};
use support::TestDb;
use support::process::{ServerProcess, free_port, start_with};
use sys::{mono_ns, rss_kib, rss_split_kib};
use yavka::api::auth::{hash_password, new_token, token_hash};
use yavka::domain::forum::Education;
use yavka::domain::log::EventBody;
use yavka::domain::registration::Registration;
use yavka::store::Store;

const HALL: &str = "hall-1";
const INSERT_PARALLEL: usize = 16;
const ORG_LOGIN: &str = "bench";
const ORG_PASSWORD: &str = "bench-password-123";

#[derive(Debug, Clone)]
struct Options {
    viewers: usize,
    nodes: usize,
    postgres: bool,
    redis_url: String,
    yavka: bool,
    bare: bool,
    server_env: Vec<(String, String)>,
    sources: usize,
    per_worker: usize,
    connect_parallel: usize,
    confirm_spread_ms: u64,
    timeout: Duration,
    /// The prompt's window: after the burst the bench waits for it to close, then for the
    /// tally every viewer of the hall is pushed when it does.
    close_window_secs: u64,
}

impl Options {
    fn parse(args: &[String]) -> Options {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut o = Options {
            viewers: env("YAVKA_BENCH_VIEWERS").map_or(2000, |v| v.parse().expect("viewers")),
            nodes: env("YAVKA_BENCH_NODES").map_or(1, |v| v.parse().expect("nodes")),
            postgres: env("YAVKA_BENCH_DB").is_some_and(|v| v == "postgres"),
            redis_url: env("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            yavka: true,
            bare: true,
            server_env: Vec::new(),
            sources: 4,
            per_worker: 10_000,
            connect_parallel: 200,
            confirm_spread_ms: 0,
            timeout: Duration::from_secs(60),
            close_window_secs: 60,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| panic!("{a} needs a value"))
                    .clone()
            };
            let number = |v: String| -> usize {
                v.replace(['_', ','], "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{a}: not a number"))
            };
            match a.as_str() {
                "--viewers" => o.viewers = number(value()),
                "--nodes" => o.nodes = number(value()),
                "--postgres" => o.postgres = true,
                "--redis" => o.redis_url = value(),
                "--only" => match value().as_str() {
                    "yavka" => o.bare = false,
                    "bare" => o.yavka = false,
                    other => panic!("--only yavka|bare, not {other}"),
                },
                "--server-env" => {
                    let kv = value();
                    let (k, v) = kv.split_once('=').expect("--server-env KEY=VALUE");
                    o.server_env.push((k.to_owned(), v.to_owned()));
                }
                "--sources" => o.sources = number(value()).clamp(1, 250),
                "--per-worker" => o.per_worker = number(value()).clamp(1, 19_000),
                "--connect-parallel" => o.connect_parallel = number(value()),
                "--confirm-spread-ms" => o.confirm_spread_ms = number(value()) as u64,
                "--timeout-secs" => o.timeout = Duration::from_secs(number(value()) as u64),
                "--close-window-secs" => o.close_window_secs = number(value()).max(5) as u64,
                // `cargo bench` passes `--bench`; libtest-style filters are not used here.
                "--bench" => {}
                other => panic!("unknown option {other} (see benches/load.rs)"),
            }
        }
        assert!(
            o.viewers > 0 && o.nodes > 0,
            "--viewers and --nodes must be > 0"
        );
        if o.nodes > 1 {
            o.postgres = true;
        }
        o
    }

    fn source(&self, i: usize) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % self.sources) as u8))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--worker") => return generator::worker_main(),
        Some("--bare-server") => return bare::bare_main(),
        _ => {}
    }
    let opts = Options::parse(&args);
    let (soft, hard) = sys::raise_nofile();
    println!("open files: soft {soft}, hard {hard} (servers and generator workers inherit it)");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run(opts));
}

// ---------------------------------------------------------------------------------------------
// The servers under test.

/// A server process: the real one (`ServerProcess`, killed on drop) or a bare one.
enum Proc {
    Yavka(ServerProcess),
    Bare(Child),
}

impl Proc {
    fn pid(&self) -> u32 {
        match self {
            Proc::Yavka(s) => s.child.id(),
            Proc::Bare(c) => c.id().unwrap_or(0),
        }
    }
}

/// One measured target: its processes, how viewers reach them, how to fire and check.
struct Target {
    name: &'static str,
    procs: Vec<Proc>,
    servers: Vec<SocketAddr>,
    /// One warm-up path per node, then one path per viewer (node = index % nodes).
    warm_paths: Vec<String>,
    paths: Vec<String>,
    kind: Kind,
}

enum Kind {
    Yavka {
        http: reqwest::Client,
        db_url: String,
        forum: String,
    },
    Bare {
        http: reqwest::Client,
    },
}

impl Target {
    fn base(&self, node: usize) -> String {
        format!("http://{}", self.servers[node])
    }

    /// Fires one prompt in `hall-1` open for `window_secs`; returns its id and the instant
    /// just before the request.
    async fn fire(&self, window_secs: u64) -> (String, u64, Duration) {
        match &self.kind {
            Kind::Yavka { http, .. } => {
                let url = format!("{}/api/org/prompts", self.base(0));
                let fired = mono_ns();
                let r = http
                    .post(url)
                    .json(&json!({"hall": HALL, "window_seconds": window_secs}))
                    .send()
                    .await
                    .expect("POST /api/org/prompts");
                let took = Duration::from_nanos(mono_ns() - fired);
                assert_eq!(r.status(), 200, "prompt fired");
                let info: Value = r.json().await.unwrap();
                (info["id"].as_str().unwrap().to_owned(), fired, took)
            }
            Kind::Bare { http } => {
                let id = format!("bare{:012x}", rand::random::<u64>() >> 16);
                let fired = mono_ns();
                let posts = (0..self.servers.len()).map(|node| {
                    http.post(format!("{}/fire?id={id}", self.base(node)))
                        .send()
                });
                for r in futures_util::future::join_all(posts).await {
                    assert_eq!(r.expect("POST /fire").status(), 200);
                }
                let took = Duration::from_nanos(mono_ns() - fired);
                (id, fired, took)
            }
        }
    }

    /// How many confirms of `prompt` the server kept: (rows, distinct viewers).
    async fn recorded(&self, prompt: &str) -> (usize, usize) {
        match &self.kind {
            Kind::Yavka { db_url, forum, .. } => {
                let store = Store::connect(db_url).await.expect("the store opens");
                let events = store.events(forum, None).await.expect("the log reads");
                store.close().await;
                let viewers: Vec<&str> = events
                    .iter()
                    .filter_map(|e| match &e.body {
                        EventBody::Confirm {
                            viewer, prompt: p, ..
                        } if p == prompt => Some(viewer.as_str()),
                        _ => None,
                    })
                    .collect();
                let distinct: std::collections::HashSet<&str> = viewers.iter().copied().collect();
                (viewers.len(), distinct.len())
            }
            Kind::Bare { http } => {
                let mut total = 0;
                for node in 0..self.servers.len() {
                    let v: Value = http
                        .get(format!("{}/stats", self.base(node)))
                        .send()
                        .await
                        .expect("GET /stats")
                        .json()
                        .await
                        .unwrap();
                    total += v["confirms"].as_u64().unwrap_or(0) as usize;
                }
                (total, total)
            }
        }
    }
}

fn live_forum(dir: &Path, forum: &str) {
    std::fs::write(
        dir.join("forum.toml"),
        yavka::domain::sim::live_forum_toml(forum, jiff::Timestamp::now().as_millisecond()),
    )
    .unwrap();
}

/// `n` viewers registered straight in the store, and the organiser; their personal tokens.
async fn register(db_url: &str, forum: &str, n: usize) -> Vec<String> {
    let store = Store::connect(db_url).await.expect("the store opens");
    let now = jiff::Timestamp::now().as_millisecond();
    let started = std::time::Instant::now();
    let tokens: Vec<String> = (0..n).map(|_| new_token()).collect();
    futures_util::stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| {
            let store = store.clone();
            async move {
                let reg = Registration {
                    name: format!("Зрителева Анна {i}"),
                    email: format!("viewer{i}@example.org"),
                    phone: format!("+7916{i:07}"),
                    education: Education::Higher,
                    specialty: "рентгенология".into(),
                    snils: None,
                };
                store
                    .insert_viewer(forum, &format!("v-{i}"), &reg, &token_hash(token), now)
                    .await
                    .expect("a viewer is inserted");
            }
        })
        .buffer_unordered(INSERT_PARALLEL)
        .collect::<()>()
        .await;
    let hash = hash_password(ORG_PASSWORD).unwrap();
    store
        .insert_organiser(ORG_LOGIN, &hash, now)
        .await
        .expect("the organiser is inserted");
    store.close().await;
    println!(
        "registered {n} viewers and one organiser in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    tokens
}

/// The real server: `nodes` processes on one store (and Redis when more than one).
async fn start_yavka(opts: &Options, dir: &Path, db: &TestDb, forum: &str) -> Target {
    let nodes = opts.nodes;
    let mut tokens = register(&db.url, forum, opts.viewers + nodes).await;
    let warm: Vec<String> = tokens.drain(opts.viewers..).collect();
    let path = |t: &str| format!("/ws?token={t}&hall={HALL}");
    let mut env = opts.server_env.clone();
    if nodes > 1 {
        env.push(("REDIS_URL".into(), opts.redis_url.clone()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut procs = Vec::new();
    let mut servers = Vec::new();
    // One after another: each start-up syncs the forum into the shared store.
    for node in 0..nodes {
        let port = free_port();
        let server = start_with(dir, &db.url, port, &env).await;
        println!(
            "yavka node {node}: pid {}, port {port}, open-file limit {}",
            server.child.id(),
            sys::nofile_of(server.child.id())
        );
        servers.push(SocketAddr::from(([127, 0, 0, 1], port)));
        procs.push(Proc::Yavka(server));
    }
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = http
        .post(format!("http://{}/api/org/login", servers[0]))
        .json(&json!({"login": ORG_LOGIN, "password": ORG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "organiser login");
    Target {
        name: "yavka",
        procs,
        servers,
        warm_paths: warm.iter().map(|t| path(t)).collect(),
        paths: tokens.iter().map(|t| path(t)).collect(),
        kind: Kind::Yavka {
            http,
            db_url: db.url.clone(),
            forum: forum.to_owned(),
        },
    }
}

/// `nodes` bare servers (each a `--bare-server` child of this binary).
async fn start_bare(opts: &Options) -> Target {
    let exe = std::env::current_exe().unwrap();
    let mut procs = Vec::new();
    let mut servers = Vec::new();
    for node in 0..opts.nodes {
        let mut child = tokio::process::Command::new(&exe)
            .arg("--bare-server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the bare server starts");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let port: u16 = out
            .next_line()
            .await
            .unwrap()
            .expect("the bare server prints its port")
            .trim()
            .parse()
            .unwrap();
        println!(
            "bare node {node}: pid {}, port {port}",
            child.id().unwrap_or(0)
        );
        servers.push(SocketAddr::from(([127, 0, 0, 1], port)));
        procs.push(Proc::Bare(child));
    }
    let http = reqwest::Client::new();
    for s in &servers {
        for _ in 0..100 {
            if http
                .get(format!("http://{s}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Target {
        name: "bare",
        procs,
        servers,
        warm_paths: vec!["/ws".to_owned(); opts.nodes],
        paths: vec!["/ws".to_owned(); opts.viewers],
        kind: Kind::Bare { http },
    }
}

// ---------------------------------------------------------------------------------------------
// The generator workers.

struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    async fn spawn(config: &WorkerConfig) -> Worker {
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .arg("--worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("a generator worker starts");
        let mut stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut line = serde_json::to_string(config).unwrap();
        line.push('\n');
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        Worker {
            child,
            stdin: Some(stdin),
            stdout,
        }
    }

    async fn read<T: serde::de::DeserializeOwned>(&mut self) -> T {
        let line = self
            .stdout
            .next_line()
            .await
            .expect("worker stdout readable")
            .expect("the worker answered (see its stderr above if it died)");
        serde_json::from_str(&line).expect("a worker report")
    }

    async fn ask(&mut self, cmd: &Command) -> WorkerResult {
        let mut line = serde_json::to_string(cmd).unwrap();
        line.push('\n');
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        self.read().await
    }

    /// Closes stdin (the worker closes its sockets and exits).
    async fn finish(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One measurement.

#[derive(Debug, Clone, Default)]
struct NodeMem {
    held: usize,
    before_kib: u64,
    after_kib: u64,
    anon_before_kib: u64,
    anon_after_kib: u64,
    file_after_kib: u64,
    peak_kib: u64,
}

impl NodeMem {
    fn per_conn_kib(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) / self.held.max(1) as f64
    }
}

#[derive(Debug, Clone, Default)]
struct Figures {
    name: &'static str,
    n: usize,
    held: usize,
    failed: usize,
    failures: Vec<String>,
    connect_secs: f64,
    nodes: Vec<NodeMem>,
    generator_rss_kib: u64,
    post: Duration,
    /// Viewers still connected at the end, and how many of them got the prompt (per node).
    expected: usize,
    latencies_ms: Vec<f64>,
    delivered_by_node: Vec<usize>,
    confirms_sent: usize,
    acks: usize,
    ack_rtts_ms: Vec<f64>,
    acks_per_sec: f64,
    confirm_window_secs: f64,
    errors: BTreeMap<String, usize>,
    recorded: usize,
    recorded_viewers: usize,
    closed: usize,
    closes: Vec<String>,
    timed_out: bool,
    /// After the prompt closed: each viewer's new tally, ms after the close (sorted); how many
    /// viewers were held; the servers' processor seconds meanwhile.
    close_ms: Vec<f64>,
    close_expected: usize,
    close_cpu_secs: Option<f64>,
}

impl Figures {
    /// Server memory per connection over all nodes.
    fn per_conn_kib(&self) -> f64 {
        let grown: f64 = self
            .nodes
            .iter()
            .map(|m| m.after_kib as f64 - m.before_kib as f64)
            .sum();
        grown / self.nodes.iter().map(|m| m.held).sum::<usize>().max(1) as f64
    }

    /// Percentile of delivery over every connected viewer; a viewer without the prompt counts
    /// as never, so fewer deliveries than the percentile asks for gives `None`.
    fn latency(&self, p: f64) -> Option<f64> {
        percentile_of_all(&self.latencies_ms, self.expected, p)
    }

    fn every_confirm_recorded(&self) -> bool {
        self.confirms_sent > 0
            && self.recorded == self.confirms_sent
            && self.recorded_viewers == self.confirms_sent
    }
}

fn percentile_of_all(sorted: &[f64], all: usize, p: f64) -> Option<f64> {
    if all == 0 {
        return None;
    }
    let rank = ((p / 100.0) * all as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

async fn measure(opts: &Options, target: &Target) -> Figures {
    let nodes = target.servers.len();
    let name = target.name;

    // Warm-up: one connection per node through the whole path, then closed.
    let (tx, rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let warm = WorkerConfig {
        servers: target.servers.clone(),
        viewers: target
            .warm_paths
            .iter()
            .enumerate()
            .map(|(node, path)| ViewerSpec {
                node,
                path: path.clone(),
                source: opts.source(node),
            })
            .collect(),
        connect_parallel: nodes,
        confirm_spread_ms: 0,
    };
    generator::spawn_viewers(&warm, &tx, &stop_rx);
    drop(tx);
    let ready = Collector::new(rx, nodes).connect_phase(nodes).await;
    assert_eq!(
        ready.failed, 0,
        "{name}: the warm-up connection failed: {:?}",
        ready.failures
    );
    stop_tx.send_replace(true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut mem: Vec<NodeMem> = target
        .procs
        .iter()
        .map(|p| {
            let (anon, _) = rss_split_kib(p.pid());
            NodeMem {
                before_kib: rss_kib(p.pid()),
                anon_before_kib: anon,
                ..NodeMem::default()
            }
        })
        .collect();

    // The viewers, round-robin over the nodes, in workers of at most `per_worker`.
    let specs: Vec<ViewerSpec> = target
        .paths
        .iter()
        .enumerate()
        .map(|(i, path)| ViewerSpec {
            node: i % nodes,
            path: path.clone(),
            source: opts.source(i),
        })
        .collect();
    let workers_n = specs.len().div_ceil(opts.per_worker);
    let per_worker = specs.len().div_ceil(workers_n);
    let parallel = (opts.connect_parallel / workers_n).max(10);
    println!(
        "{name}: connecting {} viewers to {nodes} node(s) from {workers_n} generator process(es), \
         {} source addresses …",
        specs.len(),
        opts.sources.min(specs.len())
    );
    let started = mono_ns();
    let mut workers = Vec::new();
    for chunk in specs.chunks(per_worker) {
        let config = WorkerConfig {
            servers: target.servers.clone(),
            viewers: chunk.to_vec(),
            connect_parallel: parallel,
            confirm_spread_ms: opts.confirm_spread_ms,
        };
        workers.push(Worker::spawn(&config).await);
    }
    let readies: Vec<WorkerReady> =
        futures_util::future::join_all(workers.iter_mut().map(|w| w.read::<WorkerReady>())).await;
    let connected = readies
        .iter()
        .map(|r| r.finished_ns)
        .max()
        .unwrap_or(started);
    let connect_secs = (connected - started) as f64 / 1e9;
    let mut fig = Figures {
        name,
        n: specs.len(),
        connect_secs,
        ..Figures::default()
    };
    for r in &readies {
        for (node, h) in r.held.iter().enumerate() {
            mem[node].held += h;
        }
        fig.failed += r.failed;
        fig.generator_rss_kib += r.rss_kib;
        for f in &r.failures {
            if fig.failures.len() < 5 {
                fig.failures.push(f.clone());
            }
        }
    }
    fig.held = mem.iter().map(|m| m.held).sum();
    println!(
        "{name}: {} of {} connected in {connect_secs:.1} s ({:.0}/s), {} failed",
        fig.held,
        fig.n,
        fig.held as f64 / connect_secs.max(1e-9),
        fig.failed
    );
    for f in &fig.failures {
        println!("  failure: {f}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (m, p) in mem.iter_mut().zip(&target.procs) {
        m.after_kib = rss_kib(p.pid());
        (m.anon_after_kib, m.file_after_kib) = rss_split_kib(p.pid());
        println!(
            "{name}: pid {} RSS {} → {} KiB with {} connections: {:.2} KiB each \
             (anonymous {} → {} KiB, file-backed {} KiB)",
            p.pid(),
            m.before_kib,
            m.after_kib,
            m.held,
            m.per_conn_kib(),
            m.anon_before_kib,
            m.anon_after_kib,
            m.file_after_kib
        );
    }

    // The prompt, its delivery, the confirms and their answers.
    let (prompt, fired, post) = target.fire(opts.close_window_secs).await;
    fig.post = post;
    let cmd = Command {
        prompt: prompt.clone(),
        timeout_ms: opts.timeout.as_millis() as u64,
        tallies_after_ns: None,
    };
    let results: Vec<WorkerResult> =
        futures_util::future::join_all(workers.iter_mut().map(|w| w.ask(&cmd))).await;
    fig.delivered_by_node = vec![0; nodes];
    let mut first_sent: Option<u64> = None;
    let mut last_ack = 0u64;
    for r in &results {
        fig.expected += r.held;
        fig.latencies_ms
            .extend(r.arrivals.iter().map(|a| ms(a.saturating_sub(fired))));
        for (node, k) in r.arrivals_by_node.iter().enumerate() {
            fig.delivered_by_node[node] += k;
        }
        fig.confirms_sent += r.confirms_sent;
        first_sent = match (first_sent, r.first_sent_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last_ack = last_ack.max(r.acks.iter().copied().max().unwrap_or(0));
        fig.acks += r.acks.len();
        fig.ack_rtts_ms.extend(r.ack_rtts.iter().map(|&n| ms(n)));
        for (code, k) in &r.errors {
            *fig.errors.entry(code.clone()).or_default() += k;
        }
        fig.closed += r.closed;
        fig.closes.extend(r.closes.iter().take(3).cloned());
        fig.timed_out |= r.timed_out;
    }
    fig.latencies_ms.sort_by(f64::total_cmp);
    fig.ack_rtts_ms.sort_by(f64::total_cmp);
    if let Some(first) = first_sent
        && last_ack > first
    {
        fig.confirm_window_secs = (last_ack - first) as f64 / 1e9;
        fig.acks_per_sec = fig.acks as f64 / fig.confirm_window_secs;
    }
    for (m, p) in mem.iter_mut().zip(&target.procs) {
        m.peak_kib = sys::kib_field(&format!("/proc/{}/status", p.pid()), "VmHWM:");
    }
    fig.nodes = mem;

    // Confirms still in flight when the wait ended would be recorded within the writer's delay.
    tokio::time::sleep(Duration::from_secs(1)).await;
    (fig.recorded, fig.recorded_viewers) = target.recorded(&prompt).await;
    println!(
        "{name}: prompt {prompt} reached {} of {} in {:.0} ms (max); {} confirms sent, {} \
         acknowledged, {} recorded",
        fig.latencies_ms.len(),
        fig.expected,
        fig.latencies_ms.last().copied().unwrap_or(0.0),
        fig.confirms_sent,
        fig.acks,
        fig.recorded
    );
    if matches!(target.kind, Kind::Yavka { .. }) {
        close_push(opts, target, &mut workers, fired, &mut fig).await;
    }
    for w in workers {
        w.finish().await;
    }
    fig
}

/// The prompt closes: the time until every viewer of the hall has its new tally, and the
/// processor time the servers spend meanwhile. The server's `closes` is its clock at the POST
/// plus the window, so measuring from the bench's instant before the POST overstates the
/// figure by at most the POST's own time.
async fn close_push(
    opts: &Options,
    target: &Target,
    workers: &mut [Worker],
    fired: u64,
    fig: &mut Figures,
) {
    let closes = fired + opts.close_window_secs * 1_000_000_000;
    let now = mono_ns();
    if closes < now + 1_000_000_000 {
        println!(
            "{}: the prompt closed before the burst ended; no closing figure",
            target.name
        );
        return;
    }
    tokio::time::sleep(Duration::from_nanos(closes - now - 1_000_000_000)).await;
    let cpu_before: f64 = target.procs.iter().map(|p| sys::cpu_secs(p.pid())).sum();
    let cmd = Command {
        prompt: String::new(),
        timeout_ms: 1_000 + opts.timeout.as_millis() as u64,
        tallies_after_ns: Some(closes),
    };
    let results: Vec<WorkerResult> =
        futures_util::future::join_all(workers.iter_mut().map(|w| w.ask(&cmd))).await;
    let cpu_after: f64 = target.procs.iter().map(|p| sys::cpu_secs(p.pid())).sum();
    let mut arrivals: Vec<f64> = results
        .iter()
        .flat_map(|r| r.tally_arrivals.iter().map(|&a| ms(a - closes)))
        .collect();
    arrivals.sort_by(f64::total_cmp);
    let last = arrivals.last().copied().unwrap_or(0.0);
    fig.close_expected = results.iter().map(|r| r.held).sum();
    fig.close_ms = arrivals;
    // From a second before the close to the last tally: the push's work and the idle second.
    fig.close_cpu_secs = Some(cpu_after - cpu_before);
    println!(
        "{}: the prompt closed; {} of {} viewers had their new tally within {last:.0} ms; \
         servers used {:.2} s of processor time from 1 s before the close to the last tally",
        target.name,
        fig.close_ms.len(),
        fig.close_expected,
        cpu_after - cpu_before
    );
}

// ---------------------------------------------------------------------------------------------
// The run and the report.

async fn run(opts: Options) {
    let machine = sys::machine();
    println!("machine: {machine}");
    println!(
        "viewers {}, nodes {}, store {}, {}",
        opts.viewers,
        opts.nodes,
        if opts.postgres { "Postgres" } else { "SQLite" },
        if opts.nodes > 1 {
            format!("broker REDIS_URL={}", opts.redis_url)
        } else {
            "in-process broker".into()
        }
    );
    if opts.confirm_spread_ms > 0 {
        println!(
            "viewers confirm after a random pause of up to {} ms",
            opts.confirm_spread_ms
        );
    }
    if !opts.server_env.is_empty() {
        println!("extra server environment: {:?}", opts.server_env);
    }
    let mut results: Vec<Figures> = Vec::new();
    if opts.bare {
        let target = start_bare(&opts).await;
        results.push(measure(&opts, &target).await);
        drop(target);
    }
    let mut db = None;
    if opts.yavka {
        let dir = tempfile::tempdir().unwrap();
        let forum = format!("bench-{:08x}", rand::random::<u32>());
        live_forum(dir.path(), &forum);
        let store = if opts.postgres {
            TestDb::postgres_named("yavka_bench").await
        } else {
            TestDb::sqlite()
        };
        println!("store: {}", store.url);
        let target = start_yavka(&opts, dir.path(), &store, &forum).await;
        results.push(measure(&opts, &target).await);
        drop(target);
        db = Some((store, dir));
    }
    if let Some((store, _dir)) = db {
        store.drop().await;
    }
    report(&opts, &machine, &results);
}

fn kib(v: f64) -> String {
    format!("{v:.1} KiB")
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "not delivered".into(), |v| format!("{v:.0} ms"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".into(),
    }
}

fn report(opts: &Options, machine: &str, results: &[Figures]) {
    let find = |n: &str| results.iter().find(|f| f.name == n);
    let (ours, bare) = (find("yavka"), find("bare"));
    println!();
    println!(
        "=== load: {} viewers, {} node(s), confirms {} ===",
        opts.viewers,
        opts.nodes,
        if opts.confirm_spread_ms > 0 {
            format!("spread over {} ms", opts.confirm_spread_ms)
        } else {
            "on arrival".to_owned()
        }
    );
    println!("machine: {machine}");
    let cols: Vec<&Figures> = [ours, bare].into_iter().flatten().collect();
    let row = |label: &str, f: &dyn Fn(&Figures) -> String, r: String| {
        let mut line = format!("{label:<34}");
        for c in &cols {
            line += &format!("{:>22}", f(c));
        }
        if ours.is_some() && bare.is_some() {
            line += &format!("{r:>14}");
        }
        println!("{}", line.trim_end());
    };
    let both = |f: &dyn Fn(&Figures) -> Option<f64>| ratio(ours.and_then(f), bare.and_then(f));
    row(
        "",
        &|f| f.name.to_owned(),
        if ours.is_some() && bare.is_some() {
            "yavka / bare".into()
        } else {
            String::new()
        },
    );
    row(
        "connections held",
        &|f| format!("{} of {}", f.held, f.n),
        String::new(),
    );
    row(
        "connect time",
        &|f| format!("{:.1} s", f.connect_secs),
        both(&|f| Some(f.connect_secs)),
    );
    row(
        "server memory per connection",
        &|f| kib(f.per_conn_kib()),
        both(&|f| Some(f.per_conn_kib())),
    );
    for node in 0..opts.nodes {
        row(
            &format!("  node {node}: RSS before → after"),
            &|f| {
                f.nodes.get(node).map_or(String::new(), |m| {
                    format!(
                        "{:.0}→{:.0} MiB",
                        m.before_kib as f64 / 1024.0,
                        m.after_kib as f64 / 1024.0
                    )
                })
            },
            String::new(),
        );
        row(
            &format!("  node {node}: per connection"),
            &|f| {
                f.nodes.get(node).map_or(String::new(), |m| {
                    format!("{} ({})", kib(m.per_conn_kib()), m.held)
                })
            },
            String::new(),
        );
    }
    row(
        "prompt delivered to",
        &|f| format!("{} of {}", f.latencies_ms.len(), f.expected),
        String::new(),
    );
    if opts.nodes > 1 {
        row(
            "  per node",
            &|f| {
                f.delivered_by_node
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(" / ")
            },
            String::new(),
        );
    }
    row(
        "POST answered after",
        &|f| format!("{:.0} ms", f.post.as_secs_f64() * 1e3),
        String::new(),
    );
    for (label, p) in [("delivery p50 (from POST)", 50.0), ("delivery p99", 99.0)] {
        row(label, &|f| opt_ms(f.latency(p)), both(&|f| f.latency(p)));
    }
    row(
        "delivery max",
        &|f| opt_ms(f.latency(100.0)),
        both(&|f| f.latency(100.0)),
    );
    row(
        "confirms sent / acknowledged",
        &|f| format!("{} / {}", f.confirms_sent, f.acks),
        String::new(),
    );
    row(
        "confirms acknowledged per second",
        &|f| format!("{:.0}/s in {:.1} s", f.acks_per_sec, f.confirm_window_secs),
        both(&|f| Some(f.acks_per_sec)),
    );
    row(
        "confirm round trip p50 / p99",
        &|f| {
            format!(
                "{:.0} / {:.0} ms",
                percentile_of_all(&f.ack_rtts_ms, f.ack_rtts_ms.len(), 50.0).unwrap_or(0.0),
                percentile_of_all(&f.ack_rtts_ms, f.ack_rtts_ms.len(), 99.0).unwrap_or(0.0)
            )
        },
        String::new(),
    );
    row(
        "confirms recorded (store / count)",
        &|f| {
            format!(
                "{} {}",
                f.recorded,
                if f.every_confirm_recorded() {
                    "= all"
                } else {
                    "≠ sent"
                }
            )
        },
        String::new(),
    );
    row(
        "close: new tally p50 / p99",
        &|f| match f.close_cpu_secs {
            None => "—".to_owned(),
            Some(_) => format!(
                "{} / {}",
                opt_ms(percentile_of_all(&f.close_ms, f.close_expected, 50.0)),
                opt_ms(percentile_of_all(&f.close_ms, f.close_expected, 99.0))
            ),
        },
        String::new(),
    );
    row(
        "close: tallies received, server CPU",
        &|f| match f.close_cpu_secs {
            None => "— (no tally)".to_owned(),
            Some(cpu) => format!("{} of {}, {cpu:.2} s", f.close_ms.len(), f.close_expected),
        },
        String::new(),
    );
    row(
        "generator RSS (all workers)",
        &|f| format!("{:.0} MiB", f.generator_rss_kib as f64 / 1024.0),
        String::new(),
    );
    for f in &cols {
        if !f.errors.is_empty() {
            println!("{}: confirm errors {:?}", f.name, f.errors);
        }
        if f.closed > 0 {
            println!(
                "{}: {} connections closed: {:?}",
                f.name, f.closed, f.closes
            );
        }
        if f.timed_out {
            println!(
                "{}: stopped waiting after {} s: not every viewer got the prompt and an answer",
                f.name,
                opts.timeout.as_secs()
            );
        }
    }

    if let Some(o) = ours {
        println!();
        let held_all = o.held == o.n && o.failed == 0;
        if opts.nodes == 1 {
            let mem_ok = o.per_conn_kib() <= 10.0;
            let p99_ok = o.latency(99.0).is_some_and(|p| p <= 300.0);
            println!(
                "target (one process): {} viewers held: {}; ≤ 10 KiB per viewer: {} ({:.1} KiB); \
                 prompt to all with p99 ≤ 300 ms: {} ({})",
                o.n,
                yes(held_all),
                yes(mem_ok),
                o.per_conn_kib(),
                yes(p99_ok && o.latencies_ms.len() == o.expected),
                opt_ms(o.latency(99.0))
            );
        } else {
            println!(
                "target ({} processes through Redis): {} viewers held: {}; prompt reached all: {} \
                 ({} of {}); every confirmation sent was recorded: {} ({} sent, {} recorded)",
                opts.nodes,
                o.n,
                yes(held_all),
                yes(o.latencies_ms.len() == o.expected),
                o.latencies_ms.len(),
                o.expected,
                yes(o.every_confirm_recorded()),
                o.confirms_sent,
                o.recorded
            );
        }
    }
    // One line for scripts and for BENCHMARKS.md.
    let json_of = |f: &Figures| {
        json!({
            "held": f.held, "n": f.n, "connect_s": f.connect_secs,
            "kib_per_conn": f.per_conn_kib(),
            "kib_per_conn_by_node": f.nodes.iter().map(NodeMem::per_conn_kib).collect::<Vec<_>>(),
            "delivered": f.latencies_ms.len(), "expected": f.expected,
            "p50_ms": f.latency(50.0), "p99_ms": f.latency(99.0), "max_ms": f.latency(100.0),
            "post_ms": f.post.as_secs_f64() * 1e3,
            "confirms_sent": f.confirms_sent, "acks": f.acks, "acks_per_s": f.acks_per_sec,
            "recorded": f.recorded, "all_recorded": f.every_confirm_recorded(),
            "close_push_p50_ms": percentile_of_all(&f.close_ms, f.close_expected, 50.0),
            "close_push_p99_ms": percentile_of_all(&f.close_ms, f.close_expected, 99.0),
            "close_push_received": f.close_ms.len(), "close_push_cpu_s": f.close_cpu_secs,
        })
    };
    let mut line = json!({
        "viewers": opts.viewers, "nodes": opts.nodes, "machine": machine,
        "confirm_spread_ms": opts.confirm_spread_ms,
    });
    for f in &cols {
        line[f.name] = json_of(f);
    }
    println!("result: {line}");
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}
