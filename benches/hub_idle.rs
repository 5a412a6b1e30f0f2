//! Server memory per idle viewer websocket, and prompt fan-out latency, measured against the
//! real server binary (`yavka serve`) on loopback.
//!
//! `cargo bench --bench hub_idle` (N from `YAVKA_BENCH_VIEWERS`, default 5000). The server and
//! this load generator each hold N sockets: keep N below the 20,000 open files per process.
//!
//! Steps: a forum whose session is live now; N viewers registered straight in the store; the
//! server started as a child process; one warm-up connection, the server's RSS; N websockets
//! that each read `welcome` and `tally` and then idle (still answering protocol pings); RSS again.
//! Then an organiser fires a prompt in `hall-1` and every connection reports when it arrives;
//! then every connection confirms it and the `confirmed` acknowledgements are counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use yavka::api::auth::{hash_password, new_token, token_hash};
use yavka::domain::forum::Education;
use yavka::domain::registration::Registration;
use yavka::store::Store;

#[path = "../tests/support/process.rs"]
mod process;
use process::free_port;

const FORUM_ID: &str = "bench-forum";
const HALL: &str = "hall-1";
const CONNECT_PARALLEL: usize = 200;
const INSERT_PARALLEL: usize = 16;
const ORG_LOGIN: &str = "bench";
const ORG_PASSWORD: &str = "bench-password-123";

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    status_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

fn status_field(path: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kib = status_field("/proc/meminfo", "MemTotal:");
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or_else(|| "?".to_owned(), |m| m.trim().to_owned());
    format!(
        "{cpus} CPU ({model}), {:.1} GiB RAM",
        mem_kib as f64 / 1024.0 / 1024.0
    )
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// What a connection's task tells the bench.
enum Report {
    /// `welcome` and `tally` read (or why not).
    Ready(Result<(), String>),
    Prompt {
        id: String,
        at: Instant,
    },
    Confirmed {
        prompt: String,
        at: Instant,
    },
    Error {
        code: String,
    },
    Closed {
        why: String,
    },
}

fn ws_config() -> WebSocketConfig {
    // Small client buffers: the generator holds N sockets too and shares the machine.
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096)
}

fn text_of(msg: &Message) -> Option<Value> {
    match msg {
        Message::Text(t) => serde_json::from_str(t.as_str()).ok(),
        _ => None,
    }
}

/// One viewer tab: connect, read `welcome` and `tally`, then idle, reporting prompts and
/// acknowledgements, and confirming the prompt the bench names on `confirm`.
async fn viewer(
    url: String,
    permits: Arc<Semaphore>,
    reports: mpsc::UnboundedSender<Report>,
    mut confirm: watch::Receiver<Option<String>>,
) {
    let permit = permits.acquire_owned().await.unwrap();
    let setup = async {
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(ws_config()), true)
                .await
                .map_err(|e| format!("connect: {e}"))?;
        let (tx, mut rx) = ws.split();
        let (mut welcome, mut tally) = (false, false);
        while !(welcome && tally) {
            let msg = rx
                .next()
                .await
                .ok_or("closed before welcome and tally")?
                .map_err(|e| format!("read: {e}"))?;
            if let Message::Close(c) = &msg {
                return Err(format!("closed: {c:?}"));
            }
            match text_of(&msg).as_ref().and_then(|v| v["type"].as_str()) {
                Some("welcome") => welcome = true,
                Some("tally") => tally = true,
                Some("error") => return Err(format!("error message: {msg}")),
                _ => {}
            }
        }
        Ok::<_, String>((tx, rx))
    };
    let setup = tokio::time::timeout(Duration::from_secs(60), setup)
        .await
        .unwrap_or_else(|_| Err("timeout waiting for welcome and tally".into()));
    drop(permit);
    let (mut tx, mut rx) = match setup {
        Ok(halves) => {
            let _ = reports.send(Report::Ready(Ok(())));
            halves
        }
        Err(e) => {
            let _ = reports.send(Report::Ready(Err(e)));
            return;
        }
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        tokio::select! {
            msg = rx.next() => {
                let msg = match msg {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        let _ = reports.send(Report::Closed { why: format!("read: {e}") });
                        return;
                    }
                    None => {
                        let _ = reports.send(Report::Closed { why: "end of stream".into() });
                        return;
                    }
                };
                if let Message::Close(c) = &msg {
                    let _ = reports.send(Report::Closed { why: format!("close: {c:?}") });
                    return;
                }
                let at = Instant::now();
                let Some(v) = text_of(&msg) else { continue };
                match v["type"].as_str() {
                    Some("prompt") => {
                        let id = v["id"].as_str().unwrap_or_default().to_owned();
                        let ask = v["challenge"]["ask"].as_str().unwrap_or_default().to_owned();
                        seen.push((id.clone(), ask));
                        let _ = reports.send(Report::Prompt { id, at });
                    }
                    Some("confirmed") => {
                        let prompt = v["prompt"].as_str().unwrap_or_default().to_owned();
                        let _ = reports.send(Report::Confirmed { prompt, at });
                    }
                    Some("error") => {
                        let code = v["code"].as_str().unwrap_or_default().to_owned();
                        let _ = reports.send(Report::Error { code });
                    }
                    _ => {}
                }
            }
            changed = confirm.changed() => {
                if changed.is_err() {
                    // The bench is over: leave the socket to be dropped.
                    return;
                }
                let wanted = confirm.borrow_and_update().clone();
                let Some(wanted) = wanted else { continue };
                let Some((id, ask)) = seen.iter().find(|(id, _)| *id == wanted).cloned() else {
                    continue;
                };
                let text = json!({"type": "confirm", "prompt": id, "answer": ask}).to_string();
                if let Err(e) = tx.send(Message::text(text)).await {
                    let _ = reports.send(Report::Closed { why: format!("write: {e}") });
                    return;
                }
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n: usize = std::env::var("YAVKA_BENCH_VIEWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run(n));
}

async fn register(db_url: &str, n: usize) -> Vec<String> {
    let store = Store::connect(db_url).await.expect("the store opens");
    let now = now_ms();
    let started = Instant::now();
    let tokens: Vec<String> = (0..n).map(|_| new_token()).collect();
    futures_util::stream::iter(tokens.iter().enumerate())
        .map(|(i, token)| {
            let store = store.clone();
            async move {
                let reg = Registration {
                    name: format!("Зрителева Анна {i}"),
                    email: format!("viewer{i}@example.org"),
                    phone: format!("+7916{:07}", i),
                    education: Education::Higher,
                    specialty: "рентгенология".into(),
                    snils: None,
                };
                store
                    .insert_viewer(FORUM_ID, &format!("v-{i}"), &reg, &token_hash(token), now)
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

async fn run(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("forum.toml"),
        yavka::domain::sim::live_forum_toml(FORUM_ID, jiff::Timestamp::now().as_millisecond()),
    )
    .unwrap();
    let db_url = format!("sqlite://{}/bench.db", dir.path().display());

    // One extra viewer for the warm-up connection.
    let mut tokens = register(&db_url, n + 1).await;
    let warm_token = tokens.pop().unwrap();

    let port = free_port();
    let server = process::start(dir.path(), &db_url, port).await;
    let base = server.base.clone();
    let pid = server.child.id();
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let rss_start = rss_kib(pid);

    let ws_url = |token: &str| format!("ws://127.0.0.1:{port}/ws?token={token}&hall={HALL}");
    let permits = Arc::new(Semaphore::new(CONNECT_PARALLEL));
    let (report_tx, mut reports) = mpsc::unbounded_channel::<Report>();
    let (confirm_tx, confirm_rx) = watch::channel::<Option<String>>(None);

    // Warm-up: one connection through the whole path, so lazily built state is in the baseline.
    tokio::spawn(viewer(
        ws_url(&warm_token),
        permits.clone(),
        report_tx.clone(),
        confirm_rx.clone(),
    ));
    match reports.recv().await {
        Some(Report::Ready(Ok(()))) => {}
        Some(Report::Ready(Err(e))) => panic!("the warm-up connection failed: {e}"),
        _ => panic!("unexpected report from the warm-up connection"),
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(pid);

    // N idle viewers, CONNECT_PARALLEL connecting at a time.
    let started = Instant::now();
    for token in &tokens {
        tokio::spawn(viewer(
            ws_url(token),
            permits.clone(),
            report_tx.clone(),
            confirm_rx.clone(),
        ));
    }
    let (mut held, mut failed) = (0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    while held + failed < n {
        match reports.recv().await {
            Some(Report::Ready(Ok(()))) => held += 1,
            Some(Report::Ready(Err(e))) => {
                failed += 1;
                if failures.len() < 5 {
                    failures.push(e);
                }
            }
            Some(Report::Closed { why }) => {
                held -= 1;
                failed += 1;
                if failures.len() < 5 {
                    failures.push(why);
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    let connect_secs = started.elapsed().as_secs_f64();
    println!(
        "connected {held} of {n} websockets (welcome + tally read) in {connect_secs:.2} s \
         ({:.0}/s), {failed} failed",
        held as f64 / connect_secs
    );
    for f in &failures {
        println!("  failure: {f}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(pid);
    let per_conn_kib = (rss_after as f64 - rss_before as f64) / held.max(1) as f64;
    println!(
        "server RSS: {} KiB at ready, {} KiB after warm-up, {} KiB with {held} idle \
         connections: {per_conn_kib:.2} KiB per connection",
        rss_start, rss_before, rss_after
    );
    println!(
        "load generator RSS: {} KiB",
        status_field("/proc/self/status", "VmRSS:")
    );

    // Fan-out: an organiser fires a prompt in the hall every connection watches.
    let r = http
        .post(format!("{base}/api/org/login"))
        .json(&json!({"login": ORG_LOGIN, "password": ORG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "organiser login");
    // Anything reported so far (e.g. a planned prompt) is not part of the measurement.
    while reports.try_recv().is_ok() {}
    let fired = Instant::now();
    let r = http
        .post(format!("{base}/api/org/prompts"))
        .json(&json!({"hall": HALL}))
        .send()
        .await
        .unwrap();
    let post_rtt = fired.elapsed();
    assert_eq!(r.status(), 200, "prompt fired");
    let info: Value = r.json().await.unwrap();
    let prompt_id = info["id"].as_str().unwrap().to_owned();
    let expected = held + 1; // and the warm-up connection
    let mut latencies: Vec<Duration> = Vec::with_capacity(expected);
    let mut other_reports = 0usize;
    let mut closed = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while latencies.len() < expected {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(Report::Prompt { id, at, .. })) if id == prompt_id => {
                latencies.push(at.saturating_duration_since(fired));
            }
            Ok(Some(Report::Closed { .. })) => closed += 1,
            Ok(Some(_)) => other_reports += 1,
            Ok(None) | Err(_) => break,
        }
    }
    latencies.sort();
    let received = latencies.len();
    let first = latencies.first().copied().unwrap_or_default();
    let spread: Vec<Duration> = latencies.iter().map(|d| *d - first).collect();
    println!(
        "prompt {prompt_id}: received by {received} of {expected} connections; POST took {}",
        ms(post_rtt)
    );
    println!(
        "  latency from POST: first {}, p50 {}, p99 {}, max {}",
        ms(first),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "  spread after the first delivery: p50 {}, p99 {}, max {}",
        ms(percentile(&spread, 50.0)),
        ms(percentile(&spread, 99.0)),
        ms(spread.last().copied().unwrap_or_default())
    );
    if closed + other_reports > 0 {
        println!("  meanwhile: {closed} connections closed, {other_reports} other reports");
    }
    let rss_prompt = rss_kib(pid);
    println!("server RSS after the fan-out: {rss_prompt} KiB");

    // Every connection confirms; count the acknowledgements.
    let confirm_start = Instant::now();
    confirm_tx.send_replace(Some(prompt_id.clone()));
    let mut acks: Vec<Duration> = Vec::with_capacity(received);
    let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while acks.len() + errors.values().sum::<usize>() < received {
        match tokio::time::timeout_at(deadline, reports.recv()).await {
            Ok(Some(Report::Confirmed { prompt, at })) if prompt == prompt_id => {
                acks.push(at.saturating_duration_since(confirm_start));
            }
            Ok(Some(Report::Error { code })) => *errors.entry(code).or_default() += 1,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    acks.sort();
    let last_ack = acks.last().copied().unwrap_or_default();
    let rate = acks.len() as f64 / last_ack.as_secs_f64().max(1e-9);
    println!(
        "confirmations: {} acknowledged of {received} sent, last after {} ({rate:.0}/s), \
         ack latency p50 {}, p99 {}",
        acks.len(),
        ms(last_ack),
        ms(percentile(&acks, 50.0)),
        ms(percentile(&acks, 99.0))
    );
    if !errors.is_empty() {
        println!("  errors: {errors:?}");
    }
    let rss_end = rss_kib(pid);
    let hwm = status_field(&format!("/proc/{pid}/status"), "VmHWM:");

    println!();
    println!("--- summary (hub_idle) ---");
    println!("machine: {}", machine());
    println!("N = {n} viewers, one server process, load generator on the same machine (loopback)");
    println!(
        "idle websockets held: {held} (+1 warm-up), {failed} failed; connect {connect_secs:.1} s"
    );
    println!(
        "server RSS: {:.1} MiB before, {:.1} MiB with {held} idle → {per_conn_kib:.2} KiB per idle viewer \
         (user space only; kernel socket buffers not included)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!(
        "prompt fan-out to {received}/{expected}: POST {}, p50 {}, p99 {}, max {} (from POST start)",
        ms(post_rtt),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "confirmations: {}/{received} acknowledged in {} → {rate:.0}/s",
        acks.len(),
        ms(last_ack)
    );
    println!(
        "server RSS after prompt + confirmations: {:.1} MiB (peak {:.1} MiB)",
        rss_end as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!("--------------------------");

    drop(confirm_tx);
    drop(server);
}
