//! A saved forum runs at once, on SQLite and on Postgres, and on two nodes sharing Postgres
//! and Redis.
//!
//! During the broadcast the hall's stream breaks. The organiser types the backup address into
//! the editor and saves: the viewer whose player is open in that hall is told the new address
//! on their socket (the player switches without a reload), the viewer in the other hall is not
//! disturbed, and the programme shows the new address. A session that has not started yet
//! and is moved is planned again for its new times. Renamed and moved to another time zone,
//! the forum is named and dated so by the public code check and the audit journal too. With
//! two nodes, the save on one reaches the viewer connected to the other, and a forum published
//! on one is served by the other at once (archived, by neither).

use serde_json::{Value, json};

use crate::support::TestDb;
use crate::support::redis::RedisProcess;
use crate::support::server::{TEST_FORUM, TestApp, at, test_forum, test_settings};

const BACKUP: &str = "https://backup.example.org/hall-1.m3u8";

/// The test forum as JSON with hall 1 on the backup stream, as the editor sends it.
fn with_backup_stream() -> Value {
    let mut forum: Value = toml::from_str(TEST_FORUM).unwrap();
    forum["hall"][0]["stream_url"] = json!(BACKUP);
    forum
}

async fn put(app: &TestApp, forum: &Value) -> (u16, Value) {
    let r = app
        .http
        .put(format!("{}/api/org/forums/test-forum", app.base))
        .json(forum)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Reads `tab`'s messages for `ms` and returns the `hall` ones.
async fn hall_messages(tab: &mut crate::support::server::Viewer, ms: u64) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Some(m) = tab.within(ms).await {
        assert_ne!(m["type"], "__closed", "the socket stays open: {m}");
        if m["type"] == "hall" {
            seen.push(m);
        }
    }
    seen
}

async fn the_stream_follows_a_save(app: &TestApp, backend: &str) {
    let (_, _, mut first) = app.join("Анна Петрова", "anna@example.org", "hall-1").await;
    let (_, _, mut second) = app
        .join("Борис Сидоров", "boris@example.org", "hall-2")
        .await;

    let (status, body) = put(app, &with_backup_stream()).await;
    assert_eq!(status, 200, "{backend}: {body}");
    let told = first.expect("hall").await;
    assert_eq!(
        told["hall"],
        json!({ "id": "hall-1", "title": "Зал №1", "stream_url": BACKUP }),
        "{backend}: {told}"
    );
    assert!(
        hall_messages(&mut second, 300).await.is_empty(),
        "{backend}: the other hall's stream did not change"
    );
    let (_, programme) = app.get("/api/forum").await;
    assert_eq!(programme["halls"][0]["stream_url"], BACKUP, "{backend}");
    // A tab opened now is welcomed with the new address.
    let (_, token) = app.register("Вера Орлова", "vera@example.org").await;
    let mut third = app.connect(&token, "hall-1").await;
    assert_eq!(
        third.expect("welcome").await["hall"]["stream_url"],
        BACKUP,
        "{backend}"
    );

    // Saving the same again tells nobody anything.
    let (status, _) = put(app, &with_backup_stream()).await;
    assert_eq!(status, 200);
    assert!(hall_messages(&mut first, 300).await.is_empty(), "{backend}");

    // Hall 2's session has not started: moved by ten minutes, its prompts move with it.
    let before = app.planned("s2");
    let mut moved = with_backup_stream();
    moved["session"][1]["starts"] = json!("2026-04-01T10:10");
    moved["session"][1]["ends"] = json!("2026-04-01T10:40");
    let (status, body) = put(app, &moved).await;
    assert_eq!(status, 200, "{backend}: {body}");
    let after = app.planned("s2");
    assert_eq!(after.len(), before.len(), "{backend}: {after:?}");
    assert!(
        after.iter().all(|t| (at(10)..at(40)).contains(t)),
        "{backend}: planned within the moved session: {after:?}"
    );
    assert!(
        hall_messages(&mut first, 200).await.is_empty(),
        "{backend}: a moved session changes no stream"
    );
    for tab in [first, second, third] {
        tab.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_player_follows_a_fixed_stream() {
    crate::on_every_backend!(the_stream_follows_a_save);
}

/// After a save, what is read outside a picked forum — the public code check and the
/// organisers' audit journal — speaks of the saved version, not of the one the server
/// started with: the forum renamed and moved to Yekaterinburg time.
async fn every_page_reads_the_saved_forum(app: &TestApp, backend: &str) {
    let (_, unknown) = app.get("/verify/ZZZZZZZZZZZZ?format=json").await;
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .contains("Тестовый форум"),
        "{backend}: {unknown}"
    );
    let (_, journal) = app.get("/api/org/audit").await;
    assert_eq!(
        journal["zone"], "Europe/Moscow, UTC+03:00",
        "{backend}: {journal}"
    );

    let mut renamed = with_backup_stream();
    renamed["forum"]["title"] = json!("Весенний форум");
    renamed["forum"]["timezone"] = json!("Asia/Yekaterinburg");
    let (status, body) = put(app, &renamed).await;
    assert_eq!(status, 200, "{backend}: {body}");

    let (_, unknown) = app.get("/verify/ZZZZZZZZZZZZ?format=json").await;
    let error = unknown["error"].as_str().unwrap();
    assert!(error.contains("Весенний форум"), "{backend}: {error}");
    assert!(!error.contains("Тестовый форум"), "{backend}: {error}");
    let (_, journal) = app.get("/api/org/audit").await;
    assert_eq!(
        journal["zone"], "Asia/Yekaterinburg, UTC+05:00",
        "{backend}: {journal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_check_and_the_journal_follow_a_save() {
    crate::on_every_backend!(every_page_reads_the_saved_forum);
}

/// Two nodes of one forum on one Postgres and one Redis: the organiser saves on the first,
/// the viewer watches on the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_on_one_node_reaches_a_player_on_another() {
    let db = TestDb::postgres().await;
    let mut redis = RedisProcess::start().await;
    let settings = || {
        let mut settings = test_settings(&db.url);
        settings.broker.redis_url = Some(redis.url());
        settings
    };
    let first = TestApp::spawn_with(settings(), test_forum(), at(-5)).await;
    // Either node's mail worker may send the registration's letter: one sink for both.
    let second = TestApp::spawn_node(settings(), test_forum(), at(-5), first.mail.port).await;
    first.sign_in_organiser().await;
    let login = json!({"login": "admin", "password": "организатор-пароль"});
    assert_eq!(second.post("/api/org/login", login).await.0, 200);
    let (_, token) = first.register("Анна Петрова", "anna@example.org").await;
    let mut tab = second.connect(&token, "hall-1").await;
    tab.expect("welcome").await;
    // The second node's subscription is live once it hears the first node's figures.
    for _ in 0..100 {
        let (_, stats) = second.get("/api/org/stats").await;
        if stats["nodes"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let (status, body) = put(&first, &with_backup_stream()).await;
    assert_eq!(status, 200, "{body}");
    let told = tab.expect("hall").await;
    assert_eq!(told["hall"]["stream_url"], BACKUP, "{told}");
    let (_, programme) = second.get("/api/forum").await;
    assert_eq!(programme["halls"][0]["stream_url"], BACKUP);

    // A new forum published on the first node is served by the second; archived, by neither.
    let mut spring: Value = toml::from_str(TEST_FORUM).unwrap();
    spring["forum"]["id"] = json!("spring");
    spring["forum"]["title"] = json!("Весенний форум");
    let (status, body) = first.post("/api/org/forums", spring).await;
    assert_eq!(status, 201, "{body}");
    let published = json!({ "state": "registration" });
    let (status, body) = first.post("/api/org/forums/spring/state", published).await;
    assert_eq!(status, 200, "{body}");
    let served_on_second = || async {
        for _ in 0..100 {
            if second.get("/api/forum?forum=spring").await.0 == 200 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    };
    assert!(
        served_on_second().await,
        "the second node serves the new forum"
    );
    let (_, programme) = second.get("/api/forum?forum=spring").await;
    assert_eq!(programme["forum"]["title"], "Весенний форум");
    let back = json!({ "state": "draft" });
    let (status, body) = first.post("/api/org/forums/spring/state", back).await;
    assert_eq!(status, 200, "{body}");
    let mut gone = false;
    for _ in 0..100 {
        if second.get("/api/forum?forum=spring").await.0 == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "taken back to a draft, it is served by neither node");

    // Published again while Redis is away: the news is lost, and the second node catches up
    // from the store once Redis is back — without a request naming the forum.
    redis.kill();
    let published = json!({ "state": "registration" });
    let (status, body) = first.post("/api/org/forums/spring/state", published).await;
    assert_eq!(status, 200, "{body}");
    redis.restart().await;
    let mut caught_up = false;
    for _ in 0..400 {
        if second.state.forums.get("spring").is_some() {
            caught_up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        caught_up,
        "the second node runs the forum published while Redis was away"
    );

    tab.close().await;
    first.stop().await;
    second.stop().await;
    db.drop().await;
}
