//! The bare broadcast server: the same stack as `yavka serve` (tokio, axum's websockets over
//! tungstenite, the same buffer sizes) and no business logic, as the yardstick for the figures.
//!
//! `load --bare-server` binds 127.0.0.1 on a free port and prints the port on stdout.
//! - `GET /ws`: sends a canned `welcome` and `tally`, then holds the socket in a broadcast
//!   fan-out; a `confirm` is counted and answered with `confirmed`. Protocol pings every 20 s.
//! - `POST /fire?id=…`: broadcasts one `prompt` (the real message's shape) with that id to
//!   every socket; answers `{"id": …}`. Several bare processes stand for several nodes.
//! - `GET /stats`: `{"confirms": n}`; `GET /healthz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// The real server's defaults (`config/yavka.toml`, `[hub]`).
const READ_BUFFER: usize = 4096;
const WRITE_BUFFER: usize = 4096;
const MAX_WRITE_BUFFER: usize = 65_536;
const PING_EVERY: Duration = Duration::from_secs(20);

struct Bare {
    fan_out: broadcast::Sender<Utf8Bytes>,
    confirms: AtomicU64,
    fired: AtomicU64,
}

pub fn bare_main() {
    crate::sys::raise_nofile();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let state = Arc::new(Bare {
            fan_out: broadcast::channel(16).0,
            confirms: AtomicU64::new(0),
            fired: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/ws", get(upgrade))
            .route("/fire", post(fire))
            .route("/stats", get(stats))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        println!("{}", listener.local_addr().unwrap().port());
        axum::serve(listener, app)
            .await
            .expect("the bare server runs");
    });
}

async fn upgrade(State(state): State<Arc<Bare>>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| hold(state, socket))
}

async fn hold(state: Arc<Bare>, mut socket: WebSocket) {
    let mut fan_out = state.fan_out.subscribe();
    for canned in [
        r#"{"type":"welcome","conn":"0","viewer":{"id":"v","name":"v"},"prompt":null}"#,
        r#"{"type":"tally","counted_ms":0,"confirmed":0}"#,
    ] {
        if socket.send(Message::text(canned)).await.is_err() {
            return;
        }
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            m = fan_out.recv() => match m {
                Ok(text) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    if v["type"] == "confirm" {
                        state.confirms.fetch_add(1, Ordering::Relaxed);
                        let ack = json!({"type": "confirmed", "prompt": v["prompt"]});
                        if socket.send(Message::text(ack.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct FireQuery {
    id: Option<String>,
}

async fn fire(State(state): State<Arc<Bare>>, Query(q): Query<FireQuery>) -> Json<Value> {
    let n = state.fired.fetch_add(1, Ordering::Relaxed);
    let id = q.id.unwrap_or_else(|| format!("bare{n:012x}"));
    let now = jiff::Timestamp::now().as_millisecond();
    let prompt = json!({
        "type": "prompt", "id": id, "hall": "hall-1", "ts": now, "closes": now + 120_000,
        "challenge": {"ask": "47", "choices": ["12", "47", "85"]}, "variant": 2,
    });
    let _ = state.fan_out.send(prompt.to_string().into());
    Json(json!({"id": id, "ts": now}))
}

async fn stats(State(state): State<Arc<Bare>>) -> Json<Value> {
    Json(json!({"confirms": state.confirms.load(Ordering::Relaxed)}))
}
