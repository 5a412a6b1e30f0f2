//! `kill -9` in the middle of a session: after a restart nothing acknowledged is missing, and
//! an open connection's time counts up to its last recorded sign of life. Runs the real binary
//! (real clock) on SQLite and on Postgres.

mod support;

use serde_json::json;
use support::TestDb;
use support::process::{create_organiser, free_port, register, start, start_with};
use support::server::Viewer;
use support::smtp::SmtpSink;
use yavka::domain::log::EventBody;
use yavka::domain::rules;
use yavka::domain::sim::live_forum_toml;
use yavka::store::Store;

async fn crash_and_restart(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let forum_toml = live_forum_toml("crash-forum", jiff::Timestamp::now().as_millisecond());
    std::fs::write(dir.path().join("forum.toml"), &forum_toml).unwrap();
    let port = free_port();
    let mail = SmtpSink::start().await;
    let env = mail.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut server = start_with(dir.path(), &db.url, port, &env).await;

    create_organiser(dir.path(), &db.url, "admin", "very-secret-password");
    let org = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = org
        .post(format!("{}/api/org/login", server.base))
        .json(&json!({"login": "admin", "password": "very-secret-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A viewer registers, connects, gets a prompt and confirms it; the server acknowledges.
    let token = register(
        &server.base,
        &mail,
        "Сидорова Мария Ивановна",
        "maria@example.org",
    )
    .await;
    let mut ws = Viewer::open(server.port, &token, "hall-1").await;
    // The welcome first: a prompt fired before the connection is registered would arrive
    // inside the welcome instead of on its own.
    assert_eq!(ws.next().await["type"], "welcome");
    let r = org
        .post(format!("{}/api/org/prompts", server.base))
        .json(&json!({"hall": "hall-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let prompt = ws.expect("prompt").await;
    ws.confirm(&prompt).await;
    ws.expect("confirmed").await;

    // kill -9: no shutdown, no disconnect recorded.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    drop(ws);

    // After a restart the acknowledged confirm is there, and the open connection counts up to
    // its last sign of life (at least the confirm).
    let _server = start(dir.path(), &db.url, port).await;
    let forum = support::forum::parse(&forum_toml, "forum.toml");
    let store = Store::connect(&db.url).await.unwrap();
    let events = store.events("crash-forum", None).await.unwrap();
    let confirm = events
        .iter()
        .find(|e| matches!(&e.body, EventBody::Confirm { prompt: p, .. } if Some(p.as_str()) == prompt["id"].as_str()))
        .expect("the acknowledged confirm survived the crash");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.body, EventBody::Disconnect { .. })),
        "nobody recorded a disconnect for the killed server"
    );
    let connect = events
        .iter()
        .find(|e| matches!(e.body, EventBody::Connect { .. }))
        .unwrap();
    let verdicts = rules::evaluate(&forum, &events).verdicts;
    let v = &verdicts[0];
    assert_eq!(v.confirmed, 1);
    assert!(
        v.seconds * 1000 >= confirm.ts - connect.ts - 1000,
        "time counts up to the last sign of life: {v:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    for db in TestDb::all().await {
        crash_and_restart(&db).await;
        db.drop().await;
    }
}
