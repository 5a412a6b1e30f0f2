//! The load generator: viewer websockets, in worker processes of the bench binary.
//!
//! One process may hold only ~20,000 sockets, so the bench re-executes itself with `--worker`
//! for every `per_worker` viewers. A worker reads its [`WorkerConfig`] as one JSON line on
//! stdin, connects its viewers, prints a [`WorkerReady`] line, then for each [`Command`] line
//! prints a [`WorkerResult`] line; stdin closing ends it. Times are [`mono_ns`], the machine's
//! monotonic clock, so the bench can subtract its own POST time from them.
//!
//! A viewer: bind a loopback source address, connect, read `welcome` and `tally`, then keep
//! reading (tungstenite answers the server's pings while reading); on a `prompt`, note when it
//! arrived and confirm it with `challenge.ask`; count the `confirmed` acknowledgements; note
//! when each `tally` arrives (the push a closing prompt sends to the whole hall).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::sys::{kib_field, mono_ns, raise_nofile};

/// One viewer tab to open.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewerSpec {
    /// Index of the server (node) in [`WorkerConfig::servers`].
    pub node: usize,
    /// Path and query, e.g. `/ws?token=…&hall=hall-1`.
    pub path: String,
    /// Local address to connect from (127.0.0.2, …), so ephemeral ports do not run out.
    pub source: IpAddr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    pub servers: Vec<SocketAddr>,
    pub viewers: Vec<ViewerSpec>,
    /// Connections being opened at once by this worker.
    pub connect_parallel: usize,
    /// Each viewer confirms after a random pause of up to this long (0: at once), as people
    /// do, so that confirms need not compete with the fan-out they answer.
    #[serde(default)]
    pub confirm_spread_ms: u64,
}

/// First line of a worker: its connections are open (or failed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReady {
    /// Connections that read `welcome` and `tally`, per node.
    pub held: Vec<usize>,
    pub failed: usize,
    /// The first few reasons of failures.
    pub failures: Vec<String>,
    /// Connect phase: first connect started, last one ready (mono ns).
    pub started_ns: u64,
    pub finished_ns: u64,
    /// The worker's own resident memory, KiB.
    pub rss_kib: u64,
}

/// What the bench asks a worker, one JSON line each.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Command {
    /// Report on this prompt once every held viewer has received it and its confirm has been
    /// answered, or after `timeout_ms`.
    pub prompt: String,
    pub timeout_ms: u64,
    /// Instead: report the tallies that arrive at or after this instant (mono ns), once every
    /// held viewer has one, or after `timeout_ms`.
    #[serde(default)]
    pub tallies_after_ns: Option<u64>,
}

/// A worker's answer to a [`Command`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerResult {
    /// Connections open when the report was made.
    pub held: usize,
    /// Arrival of the prompt at each viewer that got it (mono ns), and how many per node.
    pub arrivals: Vec<u64>,
    pub arrivals_by_node: Vec<usize>,
    /// Confirms written to the socket, and when the first one was.
    pub confirms_sent: usize,
    pub first_sent_ns: Option<u64>,
    /// `confirmed` acknowledgements for the prompt: arrival (mono ns) and round trip (ns).
    pub acks: Vec<u64>,
    pub ack_rtts: Vec<u64>,
    /// `error` answers to the confirms, by code.
    pub errors: BTreeMap<String, usize>,
    /// Connections that closed since the worker was ready, and the first few reasons.
    pub closed: usize,
    pub closes: Vec<String>,
    pub timed_out: bool,
    /// For a tally command: arrivals (mono ns) of the tallies at or after its instant.
    #[serde(default)]
    pub tally_arrivals: Vec<u64>,
}

/// What a viewer task tells its worker.
#[derive(Debug)]
pub enum Report {
    Ready {
        node: usize,
        result: Result<(), String>,
    },
    /// A prompt arrived at `at` and its confirm was written at `sent` (`None`: writing failed).
    Prompt {
        node: usize,
        id: String,
        at: u64,
        sent: Option<u64>,
    },
    Confirmed {
        id: String,
        at: u64,
        rtt: u64,
    },
    Error {
        prompt: Option<String>,
        code: String,
    },
    Closed {
        why: String,
    },
    /// A `tally` arrived.
    Tally {
        at: u64,
    },
}

/// Small client buffers: the generator holds as many sockets as the server, on the same machine.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096)
}

fn json_of(msg: &Message) -> Option<Value> {
    match msg {
        Message::Text(t) => serde_json::from_str(t.as_str()).ok(),
        _ => None,
    }
}

/// A TCP connection from `source` (any port) to `server`. `IP_BIND_ADDRESS_NO_PORT` lets the
/// kernel pick the port at connect time, per destination: binding port 0 without it searches
/// for a port free for every destination and gets very slow after a few thousand sockets.
async fn connect_from(
    source: IpAddr,
    server: SocketAddr,
) -> std::io::Result<tokio::net::TcpStream> {
    use std::os::fd::AsRawFd;
    let socket = TcpSocket::new_v4()?;
    let one: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option value of the right size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One viewer tab until `stop` turns true or the server closes it.
pub async fn viewer(
    spec: ViewerSpec,
    server: SocketAddr,
    confirm_spread_ms: u64,
    permits: Arc<Semaphore>,
    reports: mpsc::UnboundedSender<Report>,
    mut stop: watch::Receiver<bool>,
) {
    let node = spec.node;
    let permit = permits.acquire_owned().await.expect("semaphore open");
    let setup = async {
        let stream = connect_from(spec.source, server)
            .await
            .map_err(|e| format!("tcp connect from {}: {e}", spec.source))?;
        let url = format!("ws://{server}{}", spec.path);
        let (mut ws, _) =
            tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(ws_config()))
                .await
                .map_err(|e| format!("websocket handshake: {e}"))?;
        let (mut welcome, mut tally) = (false, false);
        while !(welcome && tally) {
            let msg = ws
                .next()
                .await
                .ok_or("closed before welcome and tally")?
                .map_err(|e| format!("read: {e}"))?;
            if let Message::Close(c) = &msg {
                return Err(format!("closed: {c:?}"));
            }
            match json_of(&msg).as_ref().and_then(|v| v["type"].as_str()) {
                Some("welcome") => welcome = true,
                Some("tally") => tally = true,
                Some("error") => return Err(format!("error message: {msg}")),
                _ => {}
            }
        }
        Ok::<_, String>(ws)
    };
    let setup = tokio::time::timeout(Duration::from_secs(90), setup)
        .await
        .unwrap_or_else(|_| Err("timeout waiting for welcome and tally".into()));
    drop(permit);
    let mut ws = match setup {
        Ok(ws) => {
            let _ = reports.send(Report::Ready {
                node,
                result: Ok(()),
            });
            ws
        }
        Err(e) => {
            let _ = reports.send(Report::Ready {
                node,
                result: Err(e),
            });
            return;
        }
    };
    let mut seen: HashSet<String> = HashSet::new();
    // The confirm waiting for its answer: prompt id and when it was sent.
    let mut pending: Option<(String, u64)> = None;
    loop {
        let msg = tokio::select! {
            m = ws.next() => Some(m),
            _ = stop.changed() => None,
        };
        let Some(msg) = msg else {
            let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
            return;
        };
        let msg = match msg {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                let _ = reports.send(Report::Closed {
                    why: format!("read: {e}"),
                });
                return;
            }
            None => {
                let _ = reports.send(Report::Closed {
                    why: "end of stream".into(),
                });
                return;
            }
        };
        let at = mono_ns();
        if let Message::Close(c) = &msg {
            let _ = reports.send(Report::Closed {
                why: format!("close: {c:?}"),
            });
            return;
        }
        let Some(v) = json_of(&msg) else { continue };
        match v["type"].as_str() {
            Some("prompt") => {
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                if !seen.insert(id.clone()) {
                    continue; // the same prompt twice: the protocol says deduplicate
                }
                if confirm_spread_ms > 0 {
                    let pause = rand::random_range(0..confirm_spread_ms);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                let answer = v["challenge"]["ask"].as_str().unwrap_or_default();
                let confirm =
                    serde_json::json!({"type": "confirm", "prompt": id, "answer": answer});
                let sent = mono_ns();
                let written = ws.send(Message::text(confirm.to_string())).await;
                let _ = reports.send(Report::Prompt {
                    node,
                    id: id.clone(),
                    at,
                    sent: written.is_ok().then_some(sent),
                });
                if let Err(e) = written {
                    let _ = reports.send(Report::Closed {
                        why: format!("write: {e}"),
                    });
                    return;
                }
                pending = Some((id, sent));
            }
            Some("confirmed") => {
                let id = v["prompt"].as_str().unwrap_or_default().to_owned();
                if let Some((p, sent)) = pending.take_if(|(p, _)| *p == id) {
                    let _ = reports.send(Report::Confirmed {
                        id: p,
                        at,
                        rtt: at.saturating_sub(sent),
                    });
                }
            }
            Some("tally") => {
                let _ = reports.send(Report::Tally { at });
            }
            Some("error") => {
                let code = v["code"].as_str().unwrap_or_default().to_owned();
                let _ = reports.send(Report::Error {
                    prompt: pending.take().map(|(p, _)| p),
                    code,
                });
            }
            _ => {}
        }
    }
}

/// What a worker (or the bench itself) learns about one prompt.
#[derive(Default)]
struct PromptSeen {
    arrivals: Vec<u64>,
    arrivals_by_node: Vec<usize>,
    sent: usize,
    first_sent_ns: Option<u64>,
    acks: Vec<u64>,
    ack_rtts: Vec<u64>,
    errors: BTreeMap<String, usize>,
}

impl PromptSeen {
    fn answered(&self) -> usize {
        self.acks.len() + self.errors.values().sum::<usize>()
    }
}

/// Collects viewer reports: the connect phase, then per-prompt figures.
pub struct Collector {
    reports: mpsc::UnboundedReceiver<Report>,
    nodes: usize,
    held: usize,
    closed: usize,
    closes: Vec<String>,
    prompts: HashMap<String, PromptSeen>,
    /// Arrivals of every `tally` since the connect phase (mono ns).
    tallies: Vec<u64>,
}

impl Collector {
    pub fn new(reports: mpsc::UnboundedReceiver<Report>, nodes: usize) -> Collector {
        Collector {
            reports,
            nodes,
            held: 0,
            closed: 0,
            closes: Vec::new(),
            prompts: HashMap::new(),
            tallies: Vec::new(),
        }
    }

    /// Waits for `n` viewers to be ready or fail.
    pub async fn connect_phase(&mut self, n: usize) -> WorkerReady {
        let mut ready = WorkerReady {
            held: vec![0; self.nodes],
            started_ns: mono_ns(),
            ..WorkerReady::default()
        };
        let mut done = 0;
        while done < n {
            let Some(r) = self.reports.recv().await else {
                break;
            };
            match r {
                Report::Ready { node, result } => {
                    done += 1;
                    match result {
                        Ok(()) => ready.held[node] += 1,
                        Err(e) => {
                            ready.failed += 1;
                            if ready.failures.len() < 5 {
                                ready.failures.push(e);
                            }
                        }
                    }
                }
                other => self.note(other),
            }
        }
        ready.finished_ns = mono_ns();
        self.held = ready.held.iter().sum();
        ready.rss_kib = kib_field("/proc/self/status", "VmRSS:");
        ready
    }

    fn seen(&mut self, id: String) -> &mut PromptSeen {
        let nodes = self.nodes;
        self.prompts.entry(id).or_insert_with(|| PromptSeen {
            arrivals_by_node: vec![0; nodes],
            ..PromptSeen::default()
        })
    }

    fn note(&mut self, r: Report) {
        match r {
            Report::Ready { .. } => {}
            Report::Prompt { node, id, at, sent } => {
                let p = self.seen(id);
                p.arrivals.push(at);
                p.arrivals_by_node[node] += 1;
                if let Some(sent) = sent {
                    p.sent += 1;
                    p.first_sent_ns = Some(p.first_sent_ns.map_or(sent, |f| f.min(sent)));
                }
            }
            Report::Confirmed { id, at, rtt } => {
                let p = self.seen(id);
                p.acks.push(at);
                p.ack_rtts.push(rtt);
            }
            Report::Error { prompt, code } => {
                if let Some(id) = prompt {
                    *self.seen(id).errors.entry(code).or_default() += 1;
                }
            }
            Report::Tally { at } => self.tallies.push(at),
            Report::Closed { why } => {
                self.closed += 1;
                self.held = self.held.saturating_sub(1);
                if self.closes.len() < 5 {
                    self.closes.push(why);
                }
            }
        }
    }

    /// Waits until as many tallies as held viewers arrived at or after `after`, or `timeout`:
    /// the push a closing prompt sends to every viewer of its hall.
    pub async fn tallies_after(&mut self, after: u64, timeout: Duration) -> WorkerResult {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut timed_out = false;
        let count = |t: &[u64]| t.iter().filter(|&&a| a >= after).count();
        while count(&self.tallies) < self.held {
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some(r)) => self.note(r),
                Ok(None) => break,
                Err(_) => {
                    timed_out = true;
                    break;
                }
            }
        }
        let arrivals = self
            .tallies
            .iter()
            .copied()
            .filter(|&a| a >= after)
            .collect();
        self.tallies.clear();
        WorkerResult {
            held: self.held,
            closed: self.closed,
            closes: self.closes.clone(),
            timed_out,
            tally_arrivals: arrivals,
            ..WorkerResult::default()
        }
    }

    /// Waits until every held viewer got `prompt` and had its confirm answered, or `timeout`.
    pub async fn collect(&mut self, prompt: &str, timeout: Duration) -> WorkerResult {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut timed_out = false;
        loop {
            let complete = self
                .prompts
                .get(prompt)
                .is_some_and(|p| p.arrivals.len() >= self.held && p.answered() >= p.sent);
            if complete {
                break;
            }
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some(r)) => self.note(r),
                Ok(None) => break,
                Err(_) => {
                    timed_out = true;
                    break;
                }
            }
        }
        let p = self.prompts.remove(prompt).unwrap_or_else(|| PromptSeen {
            arrivals_by_node: vec![0; self.nodes],
            ..PromptSeen::default()
        });
        WorkerResult {
            held: self.held,
            arrivals: p.arrivals,
            arrivals_by_node: p.arrivals_by_node,
            confirms_sent: p.sent,
            first_sent_ns: p.first_sent_ns,
            acks: p.acks,
            ack_rtts: p.ack_rtts,
            errors: p.errors,
            closed: self.closed,
            closes: self.closes.clone(),
            timed_out,
            tally_arrivals: Vec::new(),
        }
    }
}

/// Starts a task per viewer; `stop` closes them all.
pub fn spawn_viewers(
    config: &WorkerConfig,
    reports: &mpsc::UnboundedSender<Report>,
    stop: &watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(config.connect_parallel.max(1)));
    for spec in &config.viewers {
        let server = config.servers[spec.node];
        tokio::spawn(viewer(
            spec.clone(),
            server,
            config.confirm_spread_ms,
            permits.clone(),
            reports.clone(),
            stop.clone(),
        ));
    }
}

/// `load --worker`: the generator process.
pub fn worker_main() {
    raise_nofile();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        let mut stdout = tokio::io::stdout();
        let line = stdin
            .next_line()
            .await
            .expect("stdin readable")
            .expect("a worker config line");
        let config: WorkerConfig = serde_json::from_str(&line).expect("a worker config");
        let (report_tx, reports) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        spawn_viewers(&config, &report_tx, &stop_rx);
        drop(report_tx);
        let mut collector = Collector::new(reports, config.servers.len());
        let ready = collector.connect_phase(config.viewers.len()).await;
        let mut out = serde_json::to_string(&ready).unwrap();
        out.push('\n');
        stdout.write_all(out.as_bytes()).await.unwrap();
        stdout.flush().await.unwrap();
        while let Ok(Some(line)) = stdin.next_line().await {
            let cmd: Command = serde_json::from_str(&line).expect("a worker command");
            let timeout = Duration::from_millis(cmd.timeout_ms);
            let result = match cmd.tallies_after_ns {
                Some(after) => collector.tallies_after(after, timeout).await,
                None => collector.collect(&cmd.prompt, timeout).await,
            };
            let mut out = serde_json::to_string(&result).unwrap();
            out.push('\n');
            stdout.write_all(out.as_bytes()).await.unwrap();
            stdout.flush().await.unwrap();
        }
        // Stdin closed: the bench is done with this worker.
        stop_tx.send_replace(true);
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    // Sockets still closing are simply dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(500));
}
