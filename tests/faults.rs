//! Store faults, each on its backend, against the real server (in-process, manual clock):
//! SQLite's disk fills up and is freed; SQLite's files fail with I/O errors (an ext4 image on a
//! loop device, its files made immutable with `chattr +i`) and recover; a private Postgres
//! cluster is killed in the middle of a batch and restarted, then stopped for 30 s.
//!
//! Each story checks what a bad day must not do: nothing acknowledged is lost, nothing is
//! counted twice, `/readyz` tells the truth during and after, connected viewers keep their
//! sockets, and recording resumes without a restart. (Redis restarted: `tests/cluster.rs`.)
//! Mounting and `runuser` need root, as everything else on the project's machines does.

#[path = "faults/disk.rs"]
mod disk;
#[path = "faults/postgres.rs"]
mod postgres;
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};
use support::server::{TestApp, Viewer, at, test_forum, test_settings};
use tokio_tungstenite::tungstenite::Message;
use yavka::clock::Clock;
use yavka::domain::log::EventBody;
use yavka::domain::rules;
use yavka::domain::time::MINUTE;
use yavka::settings::Settings;

/// Short pauses, so that a fault is noticed and given up on within a second or two.
fn fault_settings(url: &str) -> Settings {
    let mut s = test_settings(url);
    s.writer.retry_first_ms = 20;
    s.writer.retry_max_ms = 200;
    s.writer.give_up_ms = 1_500;
    s.writer.probe_ms = 200;
    s.store.acquire_timeout_ms = 1_000;
    s.store.ping_timeout_ms = 1_000;
    s
}

async fn spawn(url: &str) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let app = TestApp::spawn_with(fault_settings(url), test_forum(), at(1)).await;
    app.sign_in_organiser().await;
    app
}

/// Something that breaks the store and mends it.
trait Fault {
    async fn inject(&mut self);
    async fn heal(&mut self);
}

struct DiskFull {
    mount: disk::Mount,
    filler: Option<disk::Filler>,
}

impl Fault for DiskFull {
    async fn inject(&mut self) {
        self.filler = Some(self.mount.fill());
    }
    async fn heal(&mut self) {
        self.filler.take().expect("filled").free();
    }
}

struct FilesFail(disk::Mount);

impl Fault for FilesFail {
    async fn inject(&mut self) {
        self.0.set_immutable(true);
    }
    async fn heal(&mut self) {
        self.0.set_immutable(false);
    }
}

/// Postgres stopped (`-m fast`, as for maintenance) for `down`, then started again.
struct PostgresDown<'a> {
    pg: &'a postgres::PrivatePostgres,
    down: Duration,
    since: Option<Instant>,
}

impl Fault for PostgresDown<'_> {
    async fn inject(&mut self) {
        self.pg.stop("fast");
        self.since = Some(Instant::now());
    }
    async fn heal(&mut self) {
        let since = self.since.expect("stopped");
        tokio::time::sleep(self.down.saturating_sub(since.elapsed())).await;
        self.pg.start_again().await;
    }
}

async fn ready(app: &TestApp) -> (u16, Value) {
    app.get("/readyz").await
}

/// Polls `/readyz` until it answers `status`, for at most `secs`; its body.
async fn ready_becomes(app: &TestApp, status: u16, secs: u64, tag: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, body) = ready(app).await;
        if s == status {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{tag}: /readyz still {s} {body} after {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sentence a person can read: Russian, starting with a capital letter.
fn assert_russian(text: &Value, tag: &str) {
    let t = text
        .as_str()
        .unwrap_or_else(|| panic!("{tag}: no text in {text}"));
    let first = t.chars().next().unwrap();
    assert!(
        first.is_uppercase() && ('А'..='я').contains(&first),
        "{tag}: «{t}»"
    );
}

/// The answer to a confirm: `confirmed` or `error` (tallies and others are skipped).
async fn answer(viewer: &mut Viewer, tag: &str) -> Value {
    for _ in 0..20 {
        let m = viewer.next().await;
        match m["type"].as_str() {
            Some("confirmed" | "error") => return m,
            Some("__closed") => panic!("{tag}: the socket closed: {m}"),
            _ => {}
        }
    }
    panic!("{tag}: no answer to the confirm");
}

/// A new tab while the store is away: refused before the upgrade (503, the viewer lookup
/// failed) or after it (`error` unavailable, then close 1011), never welcomed.
async fn new_tab_is_refused(app: &TestApp, token: &str, tag: &str) {
    let url = format!("ws://127.0.0.1:{}/ws?token={token}&hall=hall-1", app.port);
    let mut ws = match tokio_tungstenite::connect_async(url).await {
        Err(e) => {
            assert!(e.to_string().contains("503"), "{tag}: {e}");
            return;
        }
        Ok((ws, _)) => ws,
    };
    let mut seen = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        match m {
            Message::Text(t) => seen.push(serde_json::from_str::<Value>(&t).unwrap()),
            Message::Close(frame) => {
                let code = frame.map(|f| u16::from(f.code));
                assert_eq!(code, Some(1011), "{tag}: {seen:?}");
                assert_eq!(seen.len(), 1, "{tag}: {seen:?}");
                assert_eq!(seen[0]["code"], "unavailable", "{tag}: {seen:?}");
                assert_russian(&seen[0]["message"], tag);
                return;
            }
            _ => {}
        }
    }
    panic!("{tag}: the new tab was neither refused nor closed: {seen:?}");
}

/// One outage, told from the viewers' side: before, during and after `fault`.
async fn outage_story(app: &TestApp, fault: &mut impl Fault, tag: &str) {
    let start = app.clock.now();
    let slug = tag.replace(' ', "-");
    let email = |who: &str| format!("{who}.{slug}@example.org");
    let (anna, anna_token) = app.register("Иванова Анна Сергеевна", &email("anna")).await;
    let (_, boris_token) = app.register("Петров Борис Олегович", &email("boris")).await;
    let mut anna_tab = app.connect(&anna_token, "hall-1").await;
    let anna_conn = anna_tab.expect("welcome").await["conn"].clone();
    let mut boris_tab = app.connect(&boris_token, "hall-1").await;
    let boris_conn = boris_tab.expect("welcome").await["conn"].clone();
    let (status, fired) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 200, "{tag}: {fired}");
    let prompt = anna_tab.expect("prompt").await;
    boris_tab.expect("prompt").await;
    assert_eq!(ready(app).await.0, 200, "{tag}: ready before the fault");

    // The form as the page has it (with the consent texts' versions), read while reads work.
    let form = app
        .registration_form("Зрителев Иван Петрович", &email("v"))
        .await;
    fault.inject().await;
    // Whatever writes next finds out: a registration is refused, in Russian, with 503...
    let mut refused = None;
    for i in 0..2_000 {
        let mut form = form.clone();
        form["email"] = json!(email(&format!("v{i}")));
        let (status, body) = app.post("/api/register", form).await;
        if status != 202 {
            refused = Some((status, body));
            break;
        }
    }
    let (status, body) = refused.expect("the fault stops registrations");
    assert_eq!(status, 503, "{tag}: {body}");
    assert_russian(&body["error"], tag);
    // ... and /readyz says this node cannot record.
    let body = ready_becomes(app, 503, 10, tag).await;
    assert_russian(&body["reason"], tag);

    // Anna's confirm is refused with a clear message, not acknowledged.
    anna_tab.confirm(&prompt).await;
    let refusal = answer(&mut anna_tab, tag).await;
    assert_eq!(refusal["code"], "unavailable", "{tag}: {refusal}");
    assert_russian(&refusal["message"], tag);
    // No prompt can be fired.
    let (status, body) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 503, "{tag}: {body}");
    // Anna's socket stays open: her page pings and hears back. The heartbeat this records
    // is kept until the store is back.
    app.clock.advance(MINUTE);
    let beat_at = app.clock.now();
    anna_tab.send(json!({"type": "ping"})).await;
    anna_tab.expect("pong").await;
    // Boris leaves; his disconnect is kept too.
    boris_tab.close().await;
    // A new tab is refused, not half-recorded.
    new_tab_is_refused(app, &anna_token, tag).await;
    assert_eq!(ready(app).await.0, 503, "{tag}: still unready");

    fault.heal().await;
    ready_becomes(app, 200, 30, tag).await;
    // Recording resumes without a restart: registration, confirm, prompts, new tabs.
    let (_, carl_token) = app.register("Сидоров Карл Ильич", &email("carl")).await;
    anna_tab.confirm(&prompt).await;
    let ok = answer(&mut anna_tab, tag).await;
    assert_eq!(ok["type"], "confirmed", "{tag}: {ok}");
    let (status, body) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 200, "{tag}: {body}");
    let mut carl_tab = app.connect(&carl_token, "hall-2").await;
    carl_tab.expect("welcome").await;

    // The log: Boris's disconnect and Anna's heartbeat arrived after the outage, once each.
    let is_boris_gone =
        |e: &EventBody| matches!(e, EventBody::Disconnect { conn } if boris_conn == conn.as_str());
    app.wait_for_log(|events| events.iter().any(|e| is_boris_gone(&e.body)))
        .await;
    let forum = &app.state.forum;
    let events = app.state.store.events(&forum.id, None).await.unwrap();
    let mut connects: HashMap<&str, usize> = HashMap::new();
    for e in &events {
        if let EventBody::Connect { conn, .. } = &e.body {
            *connects.entry(conn).or_default() += 1;
        }
    }
    assert!(connects.values().all(|n| *n == 1), "{tag}: {connects:?}");
    let count = |f: &dyn Fn(&EventBody) -> bool| events.iter().filter(|e| f(&e.body)).count();
    assert_eq!(count(&is_boris_gone), 1, "{tag}: Boris left once");
    assert_eq!(
        count(&|e| matches!(e, EventBody::Connect { viewer, .. } if *viewer == anna)),
        1,
        "{tag}: Anna's refused tab was not recorded"
    );
    assert_eq!(
        count(
            &|e| matches!(e, EventBody::Confirm { viewer, prompt: p, .. }
            if *viewer == anna && prompt["id"] == p.as_str())
        ),
        1,
        "{tag}: Anna's confirm is stored once"
    );
    // The organiser's prompts (planned ones, "s1-1"…, may fire as the clock moves).
    let fired = events
        .iter()
        .filter(|e| e.ts >= start)
        .filter(|e| matches!(&e.body, EventBody::Prompt { prompt, .. } if !prompt.starts_with('s')))
        .count();
    assert_eq!(fired, 2, "{tag}: the refused prompt was not recorded");
    assert!(
        events.iter().any(|e| e.ts >= beat_at
            && matches!(&e.body, EventBody::Heartbeat { conn } if anna_conn == conn.as_str())),
        "{tag}: the heartbeat sent during the outage was kept"
    );
    let evaluation = rules::evaluate(forum, &events);
    assert_eq!(
        evaluation.anomalies.total(),
        0,
        "{tag}: {:?}",
        evaluation.anomalies
    );
    let verdict = evaluation
        .verdicts
        .iter()
        .find(|v| v.viewer == anna && v.session == "s1")
        .expect("Anna has a verdict");
    assert_eq!(verdict.confirmed, 1, "{tag}: {verdict:?}");
    anna_tab.close().await;
    carl_tab.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_then_freed() {
    let mount = disk::Mount::tmpfs(8 * 1024);
    let app = spawn(&format!("sqlite://{}/yavka.db", mount.path.display())).await;
    let mut fault = DiskFull {
        mount,
        filler: None,
    };
    outage_story(&app, &mut fault, "sqlite disk full").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_io_errors_then_mended() {
    let mount = disk::Mount::ext4(32);
    let app = spawn(&format!("sqlite://{}/yavka.db", mount.path.display())).await;
    outage_story(&app, &mut FilesFail(mount), "sqlite I/O errors").await;
    app.stop().await;
}

/// Postgres hangs (a test session holds a lock the writer's batch needs), is killed while the
/// batch waits half-way, and starts again; then it is stopped for 30 s — the only 30 s wait of
/// the suite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_batch_then_stopped_for_30_s() {
    let pg = postgres::PrivatePostgres::start().await;
    let app = spawn(&pg.url()).await;
    let tag = "postgres killed mid-batch";

    let (dora, dora_token) = app
        .register("Кузнецова Дарья Павловна", "dora@example.org")
        .await;
    let (_, egor_token) = app
        .register("Смирнов Егор Андреевич", "egor@example.org")
        .await;
    let mut dora_tab = app.connect(&dora_token, "hall-1").await;
    dora_tab.expect("welcome").await;
    let mut egor_tab = app.connect(&egor_token, "hall-1").await;
    let egor_conn = egor_tab.expect("welcome").await["conn"].clone();
    let (status, body) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let prompt = dora_tab.expect("prompt").await;

    let mut locker = PgConnection::connect(&pg.url()).await.unwrap();
    locker
        .execute("BEGIN; LOCK TABLE writer_batches IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    dora_tab.confirm(&prompt).await;
    egor_tab.close().await;
    // The batch waits on the lock: after give_up_ms the attempt counts as failed, the confirm
    // is refused and /readyz says so, although the database still answers a ping.
    let refusal = answer(&mut dora_tab, tag).await;
    assert_eq!(refusal["code"], "unavailable", "{tag}: {refusal}");
    ready_becomes(&app, 503, 10, tag).await;
    let writer = app.state.writer.state();
    assert!(
        writer.queued + writer.held >= 1,
        "{tag}: Egor's disconnect is held"
    );
    // Killed while the retried batch waits half-way, then started again.
    pg.stop("immediate");
    drop(locker);
    pg.start_again().await;
    ready_becomes(&app, 200, 30, tag).await;
    dora_tab.confirm(&prompt).await;
    let second = answer(&mut dora_tab, tag).await;
    assert_eq!(second["type"], "confirmed", "{tag}: {second}");
    let is_egor_gone =
        |e: &EventBody| matches!(e, EventBody::Disconnect { conn } if egor_conn == conn.as_str());
    app.wait_for_log(|events| events.iter().any(|e| is_egor_gone(&e.body)))
        .await;
    let events = app
        .state
        .store
        .events(&app.state.forum.id, None)
        .await
        .unwrap();
    let count = |f: &dyn Fn(&EventBody) -> bool| events.iter().filter(|e| f(&e.body)).count();
    assert_eq!(count(&is_egor_gone), 1, "{tag}: {events:?}");
    let dora_confirms =
        count(&|e| matches!(e, EventBody::Confirm { viewer, .. } if *viewer == dora));
    assert_eq!(dora_confirms, 1, "{tag}: {events:?}");
    assert_eq!(
        rules::evaluate(&app.state.forum, &events).anomalies.total(),
        0
    );
    dora_tab.close().await;

    app.clock.advance(MINUTE);
    let mut fault = PostgresDown {
        pg: &pg,
        down: Duration::from_secs(30),
        since: None,
    };
    outage_story(&app, &mut fault, "postgres stopped").await;
    app.stop().await;
}

/// The prompter claims a planned prompt in the store, then fires it: neither can happen while
/// the store fails, and the prompt fires once when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_due_during_an_outage_fires_once_the_store_is_back() {
    let mount = disk::Mount::ext4(32);
    let app = spawn(&format!("sqlite://{}/yavka.db", mount.path.display())).await;
    let due = app.planned("s1")[0];
    let mut fault = FilesFail(mount);
    fault.inject().await;
    // The app's own loop ticks every half second; this tick only makes sure one happens.
    assert!(
        app.tick_at(due).await.is_empty(),
        "nothing fires while the store fails"
    );
    ready_becomes(&app, 503, 10, "planned prompt").await;
    fault.heal().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        app.state.prompter.tick().await;
        let events = app.state.store.events(&app.state.forum.id, None).await;
        let fired = events.map_or(0, |events| {
            events
                .iter()
                .filter(|e| matches!(&e.body, EventBody::Prompt { prompt, .. } if prompt == "s1-1"))
                .count()
        });
        if fired > 0 {
            assert_eq!(fired, 1, "fired once");
            break;
        }
        assert!(Instant::now() < deadline, "the planned prompt never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}
