//! The hub through real sockets: an axum server on port 0 with a `/ws` route calling the hub,
//! SQLite in a temporary folder, tokio-tungstenite clients, and a manual clock.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::SinkExt;
use serde_json::{Value, json};
use support::server::Viewer;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use yavka::broker::{Broker, BusMessage, Topic};
use yavka::clock::{Clock, ManualClock};
use yavka::domain::forum::{Audience, Education, Forum, Hall, Session};
use yavka::domain::log::{Event, EventBody, Evidence};
use yavka::domain::registration::Registration;
use yavka::domain::time::{MINUTE, Millis, parse_rfc3339};
use yavka::hub::{Hub, HubSettings};
use yavka::store::{EventWriter, Store, WriterConfig};

fn t0() -> Millis {
    parse_rfc3339("2026-04-01T10:00:00+03:00").unwrap()
}

/// The test forum's shape with halls `h1` and `h2` (each with a stream) instead of its TOML.
fn forum() -> Forum {
    use support::forum::{forum, hall, session};
    let hall = |id: &str| Hall {
        title: format!("Зал {id}"),
        stream_url: format!("https://example.org/{id}.m3u8"),
        ..hall(id)
    };
    let session = |id: &str, hall: &str| Session {
        min_minutes: 20,
        prompts: 2,
        prompts_required: 1,
        audience: Audience {
            higher: vec!["рентгенология".into()],
            secondary: vec![],
        },
        prompt_window_ms: 2 * MINUTE,
        ..session(id, hall, t0(), t0() + 30 * MINUTE)
    };
    Forum {
        title: "Тестовый форум".into(),
        prompt_window_ms: 2 * MINUTE,
        prompt_min_gap_ms: 5 * MINUTE,
        prompt_margin_ms: 2 * MINUTE,
        halls: vec![hall("h1"), hall("h2")],
        ..forum(
            "test-forum",
            &[],
            vec![session("s1", "h1"), session("s2", "h2")],
        )
    }
}

#[derive(Clone)]
struct AppState {
    hub: Hub,
    store: Store,
    forum: Arc<Forum>,
}

async fn ws(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(admission) = app.hub.try_admit() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let token = q.get("token").cloned().unwrap_or_default();
    let hall = q.get("hall").cloned().unwrap_or_default();
    let viewer = app
        .store
        .viewer_by_token_hash(&app.forum.id, &token)
        .await
        .unwrap();
    let hub = app.hub.clone();
    yavka::api::ws::configure(upgrade, app.hub.settings()).on_upgrade(move |socket| async move {
        match viewer {
            Some(v) => {
                hub.serve(socket, v, hall, Evidence::default(), admission)
                    .await
            }
            None => Hub::reject(socket, 4401, "ссылка недействительна").await,
        }
    })
}

struct TestHub {
    addr: std::net::SocketAddr,
    hub: Hub,
    store: Store,
    clock: ManualClock,
    broker: Broker,
    forum: Arc<Forum>,
    _dir: tempfile::TempDir,
}

type Ws = Viewer;

impl TestHub {
    async fn start(settings: HubSettings) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("yavka.db").display());
        let store = Store::connect(&url).await.unwrap();
        let forum = Arc::new(forum());
        let clock = ManualClock::new(t0() + MINUTE);
        store.sync_forum(&forum, t0()).await.unwrap();
        let (writer, _task) = EventWriter::spawn(
            store.clone(),
            &forum.id,
            WriterConfig {
                queue: 1024,
                max_batch: 256,
                max_delay_ms: 2,
                ..WriterConfig::default()
            },
        );
        let broker = Broker::memory(100_000);
        let hub = Hub::new(
            forum.clone(),
            store.clone(),
            writer,
            broker.clone(),
            Arc::new(clock.clone()),
            settings,
        );
        for (id, token) in [("v1", "t1"), ("v2", "t2"), ("v3", "t3")] {
            let reg = Registration {
                name: format!("Зритель {id}"),
                email: format!("{id}@example.org"),
                phone: "+79161234567".into(),
                education: Education::Higher,
                specialty: "рентгенология".into(),
                snils: None,
            };
            store
                .insert_viewer(&forum.id, id, &reg, token, t0())
                .await
                .unwrap();
        }
        let app = Router::new().route("/ws", get(ws)).with_state(AppState {
            hub: hub.clone(),
            store: store.clone(),
            forum: forum.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestHub {
            addr,
            hub,
            store,
            clock,
            broker,
            forum,
            _dir: dir,
        }
    }

    fn url(&self, token: &str, hall: &str) -> String {
        format!("ws://{}/ws?token={token}&hall={hall}", self.addr)
    }

    /// Connects and reads the welcome and the tally.
    async fn connect(&self, token: &str, hall: &str) -> (Ws, Value, Value) {
        let mut ws = Viewer::open(self.addr.port(), token, hall).await;
        let welcome = ws.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        let tally = ws.next().await;
        assert_eq!(tally["type"], "tally", "{tally}");
        (ws, welcome, tally)
    }

    async fn events(&self) -> Vec<Event> {
        self.store.events(&self.forum.id, None).await.unwrap()
    }

    async fn wait_for_log(&self, check: impl Fn(&[Event]) -> bool) {
        for _ in 0..200 {
            if check(&self.events().await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the stored log never satisfied the check");
    }
}

/// Reads until the close frame and returns its code.
async fn closed_with(ws: &mut Ws) -> Option<u64> {
    for _ in 0..100 {
        let m = ws.next().await;
        if m["type"] == "__closed" {
            return m["code"].as_u64();
        }
    }
    panic!("never closed");
}

/// A round trip that proves nothing else was queued before it.
async fn nothing_pending(ws: &mut Ws) {
    ws.send(json!({"type": "ping"})).await;
    let m = ws.next().await;
    assert_eq!(m["type"], "pong", "unexpected {m}");
}

fn test_settings() -> HubSettings {
    HubSettings {
        ping_interval_ms: 1_000,
        pong_timeout_ms: 5_000,
        ..HubSettings::default()
    }
}

#[tokio::test]
async fn welcome_then_tally() {
    let t = TestHub::start(test_settings()).await;
    let (_ws, welcome, tally) = t.connect("t1", "h1").await;
    assert_eq!(welcome["viewer"]["id"], "v1");
    assert_eq!(welcome["hall"]["id"], "h1");
    assert_eq!(welcome["session"]["id"], "s1");
    assert_eq!(welcome["active_hall"], "h1");
    assert_eq!(welcome["prompt"], Value::Null);
    assert_eq!(tally["session"], "s1");
    assert_eq!(tally["counting"], true);
    assert_eq!(tally["min_ms"], 20 * MINUTE);
    assert_eq!(tally["required"], 1);
    let conn = welcome["conn"].as_str().unwrap().to_owned();
    t.wait_for_log(|ev| {
        ev.iter()
            .any(|e| matches!(&e.body, EventBody::Connect { conn: c, .. } if *c == conn))
    })
    .await;
    let stats = t.hub.stats();
    assert_eq!(stats.halls[0].viewers, 1);
}

#[tokio::test]
async fn unknown_token_is_rejected_with_4401() {
    let t = TestHub::start(test_settings()).await;
    let mut ws = Viewer::open(t.addr.port(), "nope", "h1").await;
    let m = ws.next().await;
    assert_eq!(m["code"], "unauthorized");
    assert_eq!(closed_with(&mut ws).await, Some(4401));
}

#[tokio::test]
async fn a_prompt_reaches_its_hall_only_and_is_confirmed_durably() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, wa, _) = t.connect("t1", "h1").await;
    let (mut b, _, _) = t.connect("t2", "h1").await;
    let (mut c, _, _) = t.connect("t3", "h2").await;
    let info = t.hub.fire_prompt("h1", 2 * MINUTE, None).await.unwrap();
    let pa = a.expect("prompt").await;
    let pb = b.expect("prompt").await;
    assert_eq!(pa, pb, "the same bytes for everyone");
    assert_eq!(pa["id"], info.id.as_str());
    assert_eq!(pa["closes"], info.closes);
    assert!(pa["variant"].as_u64().unwrap() < 4);
    let ask = pa["challenge"]["ask"].as_str().unwrap().to_owned();
    let choices = pa["challenge"]["choices"].as_array().unwrap();
    assert!(choices.iter().any(|x| *x == ask.as_str()));
    nothing_pending(&mut c).await;

    // Wrong answer: refused, nothing recorded.
    let wrong = choices.iter().find(|x| **x != ask.as_str()).unwrap();
    a.send(json!({"type":"confirm","prompt":info.id,"answer":wrong}))
        .await;
    assert_eq!(a.expect("error").await["code"], "wrong_answer");

    // Right answer: acknowledged only once it is in the store.
    t.clock.advance(10_000);
    a.send(json!({"type":"confirm","prompt":info.id,"answer":ask}))
        .await;
    let ok = a.expect("confirmed").await;
    assert_eq!(ok["prompt"], info.id.as_str());
    let conn = wa["conn"].as_str().unwrap();
    let confirms: Vec<_> = t
        .events()
        .await
        .into_iter()
        .filter(|e| matches!(&e.body, EventBody::Confirm { conn: c, .. } if c == conn))
        .collect();
    assert_eq!(confirms.len(), 1, "recorded before the acknowledgement");
    let tally = a.expect("tally").await;
    assert_eq!(tally["confirmed"], 1);
    assert_eq!(tally["prompts_shown"], 1);

    // Twice: refused.
    a.send(json!({"type":"confirm","prompt":info.id,"answer":ask}))
        .await;
    assert_eq!(a.expect("error").await["code"], "already_confirmed");
    // From the other hall: refused.
    c.send(json!({"type":"confirm","prompt":info.id,"answer":ask}))
        .await;
    assert_eq!(c.expect("error").await["code"], "wrong_hall");
    // Unknown prompt, and too late.
    b.send(json!({"type":"confirm","prompt":"nope","answer":ask}))
        .await;
    assert_eq!(b.expect("error").await["code"], "unknown_prompt");
    t.clock.advance(3 * MINUTE);
    b.send(json!({"type":"confirm","prompt":info.id,"answer":ask}))
        .await;
    assert_eq!(b.expect("error").await["code"], "prompt_closed");
    let stats = t.hub.stats();
    let p = stats.prompts.iter().find(|p| p.id == info.id).unwrap();
    assert_eq!((p.delivered, p.confirmed), (2, 1));
}

#[tokio::test]
async fn a_newer_tab_in_another_hall_pauses_the_older_until_it_closes() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, _) = t.connect("t1", "h1").await;
    t.clock.advance(1_000);
    let (mut b, wb, _) = t.connect("t1", "h2").await;
    assert_eq!(wb["active_hall"], "h2");
    let paused = a.next().await;
    assert_eq!(paused, json!({"type":"paused","active_hall":"h2"}));
    let tally = a.expect("tally").await;
    assert_eq!(tally["counting"], false);

    // A paused tab cannot confirm.
    let info = t.hub.fire_prompt("h1", 2 * MINUTE, None).await.unwrap();
    let p = a.expect("prompt").await;
    a.send(json!({"type":"confirm","prompt":info.id,"answer":p["challenge"]["ask"]}))
        .await;
    assert_eq!(a.expect("error").await["code"], "not_active");

    b.ws.close(None).await.unwrap();
    assert_eq!(a.expect("resumed").await, json!({"type":"resumed"}));
    assert_eq!(a.expect("tally").await["counting"], true);
    let conn = wb["conn"].as_str().unwrap().to_owned();
    t.wait_for_log(|ev| {
        ev.iter()
            .any(|e| matches!(&e.body, EventBody::Disconnect { conn: c } if *c == conn))
    })
    .await;
}

/// Issue 10: after the session ended the player kept saying «время засчитывается», because
/// nothing told the tab that counting had stopped. The end of a session is an event of its own.
#[tokio::test]
async fn the_end_of_a_session_reaches_its_tabs_unasked() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, tally) = t.connect("t1", "h1").await;
    assert_eq!(tally["counting"], true);
    let (mut c, _, _) = t.connect("t3", "h2").await;
    t.clock.advance(20 * MINUTE);
    nothing_pending(&mut a).await;

    // The clock passes 10:30, the end of both sessions: each tab hears it, with nothing sent.
    t.clock.set(t0() + 30 * MINUTE + 1_000);
    for ws in [&mut a, &mut c] {
        let end = ws.expect("tally").await;
        assert_eq!(end["counting"], false, "{end}");
        assert_eq!(
            end["counted_ms"],
            29 * MINUTE,
            "counted up to the end, not beyond: {end}"
        );
        nothing_pending(ws).await;
    }
}

#[tokio::test]
async fn oversize_closes_with_1009() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, _) = t.connect("t1", "h1").await;
    let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(5000));
    a.ws.send(Message::text(big)).await.unwrap();
    assert_eq!(closed_with(&mut a).await, Some(1009));
}

#[tokio::test]
async fn a_flood_closes_with_1008() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, _) = t.connect("t1", "h1").await;
    for _ in 0..40 {
        if a.ws
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(closed_with(&mut a).await, Some(1008));
}

#[tokio::test]
async fn garbage_gets_errors_then_a_close() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, _) = t.connect("t1", "h1").await;
    a.send(json!({"type":"dance"})).await;
    assert_eq!(a.expect("error").await["code"], "bad_message");
    a.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(a.expect("error").await["code"], "binary_not_supported");
    for _ in 0..5 {
        let _ = a.ws.send(Message::text("+")).await;
    }
    assert_eq!(closed_with(&mut a).await, Some(1008));
}

#[tokio::test]
async fn a_slow_client_is_dropped_and_the_others_carry_on() {
    let t = TestHub::start(HubSettings {
        outbound_queue: 32,
        ..test_settings()
    })
    .await;
    let (mut fast, _, _) = t.connect("t1", "h1").await;
    // A client with a tiny receive buffer that reads its welcome and then nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(t.addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(t.url("t2", "h1"), MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let mut slow = Viewer { ws };
    let welcome = slow.next().await;
    let slow_conn = welcome["conn"].as_str().unwrap().to_owned();

    // Many prompts straight onto the bus (as another node would publish them).
    let now = t.clock.now();
    // Long ids make each message about 1 KB, so the socket buffers fill quickly.
    let n = 12_000;
    let pad = "x".repeat(1000);
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < n {
            let m = fast.next().await;
            assert_ne!(m["type"], "__closed", "the fast client must stay");
            if m["type"] == "prompt" {
                seen += 1;
            }
        }
        fast
    });
    for i in 0..n {
        let payload = json!({"kind":"prompt","prompt":format!("bulk-{i}-{pad}"),"hall":"h1","ts":now,"closes":now + 1000});
        t.broker
            .publish(BusMessage {
                topic: Topic::Hall("h1".into()),
                payload: payload.to_string().into(),
            })
            .unwrap();
        // Paced so that a client that reads keeps up with its queue.
        if i % 8 == 7 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let mut fast = tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("the fast client read everything")
        .unwrap();
    t.wait_for_log(|ev| {
        ev.iter()
            .any(|e| matches!(&e.body, EventBody::Disconnect { conn } if *conn == slow_conn))
    })
    .await;
    nothing_pending_after_prompts(&mut fast).await;
    assert_eq!(t.hub.stats().halls[0].connections, 1);
    drop(slow);
}

/// Skips any remaining prompts and tallies, then a ping round trip succeeds.
async fn nothing_pending_after_prompts(ws: &mut Ws) {
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn a_vanished_client_gets_its_disconnect_recorded() {
    let t = TestHub::start(test_settings()).await;
    let (a, welcome, _) = t.connect("t1", "h1").await;
    let conn = welcome["conn"].as_str().unwrap().to_owned();
    drop(a); // no close frame: the TCP connection just goes away
    t.wait_for_log(|ev| {
        ev.iter()
            .filter(|e| matches!(&e.body, EventBody::Disconnect { conn: c } if *c == conn))
            .count()
            == 1
    })
    .await;
}

#[tokio::test]
async fn revocation_closes_with_4401_and_shutdown_with_1001() {
    let t = TestHub::start(test_settings()).await;
    let (mut a, _, _) = t.connect("t1", "h1").await;
    let (mut b, wb, _) = t.connect("t2", "h2").await;
    t.hub.revoke_viewer("v1");
    assert_eq!(closed_with(&mut a).await, Some(4401));
    t.hub.shutdown().await;
    assert_eq!(closed_with(&mut b).await, Some(1001));
    // Shutdown returned only after the disconnect was recorded.
    let conn = wb["conn"].as_str().unwrap();
    assert!(
        t.events()
            .await
            .iter()
            .any(|e| matches!(&e.body, EventBody::Disconnect { conn: c } if c == conn))
    );
    assert!(t.hub.try_admit().is_none());
}
