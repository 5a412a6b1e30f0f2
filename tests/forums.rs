//! Forums as stored, versioned data, on SQLite and on Postgres.
//!
//! An organiser keeps her forums in git. The server she starts imports its configuration file
//! as the first version of the forum it serves (a restart adds a version only when the file
//! says something new), and viewers find that forum in `GET /api/forums`. She posts a new
//! forum's TOML, gets the same text back, puts an edit and sees both versions with who saved
//! them and when; a file with two mistakes gets both messages (place, session, field) and
//! changes nothing; a second forum with the same id, a file that is not TOML, and a moderator
//! are refused. Published, the forum is listed for viewers. At the command line, `yavka forum
//! import` then `export` gives the file back.

mod support;

// The dashboard's editor: JSON in, checks, frozen sessions, diffs and copies.
#[path = "forums/editing.rs"]
mod editing;

// A saved forum runs at once: open players follow a fixed stream, on one node or two.
#[path = "forums/following.rs"]
mod following;

use serde_json::{Value, json};
use support::TestDb;
use support::process::{run_ok, yavka};
use support::server::{TEST_FORUM, TestApp, test_forum};
use yavka::api::auth::hash_password;
use yavka::clock::Clock;
use yavka::domain::forum::catalogue::Catalogue;
use yavka::domain::forum::config::parse;
use yavka::domain::roles::Role;

/// The test forum as a new one: another id and title, and a comment git keeps.
fn spring_forum() -> String {
    TEST_FORUM
        .replace(
            "id = \"test-forum\"\ntitle = \"Тестовый форум\"",
            "id = \"spring\"\ntitle = \"Весенний форум\"",
        )
        .replace("[[hall]]", "# залы как в договоре с площадкой\n[[hall]]")
}

/// A TOML request from `client` (the organiser's, or another signed-in person's).
async fn send_toml(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let r = client
        .request(method, url)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn keeps_a_forum_in_git(app: &TestApp, backend: &str) {
    let url = |path: &str| format!("{}{path}", app.base);
    let toml = "application/toml";
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;

    // The served forum is listed for viewers, and its file is version 1, read back the same.
    let (status, public) = app.get("/api/forums").await;
    assert_eq!(status, 200, "{backend}: {public}");
    assert_eq!(
        public["forums"][0]["id"], "test-forum",
        "{backend}: {public}"
    );
    assert_eq!(public["forums"][0]["state_label"], "Регистрация открыта");
    assert_eq!(public["forums"][0]["halls"], json!(["Зал №1", "Зал №2"]));
    let (_, versions) = app.get("/api/org/forums/test-forum/versions").await;
    assert_eq!(
        versions["versions"][0]["saved_by"], "config/forum.toml",
        "{backend}"
    );
    let (_, served) = app.get_text("/api/org/forums/test-forum").await;
    let served = parse(&served, "served.toml", &Catalogue::shipped()).unwrap();
    assert_eq!(served, test_forum(), "{backend}");
    // A restart with the same file adds no version; with a changed file, one.
    let store = &app.state.store;
    store
        .sync_forum(&test_forum(), app.clock.now())
        .await
        .unwrap();
    let mut changed = test_forum();
    changed.title = "Тестовый форум, второй выпуск".into();
    store.sync_forum(&changed, app.clock.now()).await.unwrap();
    let versions = store.forum_versions("test-forum").await.unwrap();
    assert_eq!(versions.len(), 2, "{backend}: {versions:?}");
    assert_eq!(versions[1].saved_by, "config/forum.toml", "{backend}");

    // A new forum from git: created as a draft, its text comes back as sent.
    let spring = spring_forum();
    let (status, body) = send_toml(
        &app.http,
        post.clone(),
        url("/api/org/forums"),
        toml,
        &spring,
    )
    .await;
    assert_eq!(status, 201, "{backend}: {body}");
    assert_eq!(body["version"], 1, "{backend}: {body}");
    let r = app
        .http
        .get(url("/api/org/forums/spring"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/toml; charset=utf-8"
    );
    assert_eq!(r.text().await.unwrap(), spring, "{backend}");

    // An edit is version 2; both versions say who saved them and when.
    let edited = spring.replace("Весенний форум", "Весенний форум 2026");
    let (status, body) = send_toml(
        &app.http,
        put.clone(),
        url("/api/org/forums/spring"),
        toml,
        &edited,
    )
    .await;
    assert_eq!(
        (status, &body["version"]),
        (200, &json!(2)),
        "{backend}: {body}"
    );
    let (_, versions) = app.get("/api/org/forums/spring/versions").await;
    let now = app.clock.now();
    assert_eq!(
        versions["versions"],
        json!([
            { "version": 1, "saved_by": "admin", "saved_at": now },
            { "version": 2, "saved_by": "admin", "saved_at": now },
        ]),
        "{backend}"
    );
    let (_, first) = app.get_text("/api/org/forums/spring/versions/1").await;
    assert_eq!(first, spring, "{backend}");

    // Two mistakes: both told, with place, session and field; nothing saved.
    let broken = edited
        .replace(
            "credits = 1\nmin_minutes = 20\nprompts = 2\nprompts_required = 2",
            "credits = 0\nmin_minutes = 20\nprompts = 2\nprompts_required = 2",
        )
        .replace("hall = \"hall-2\"", "hall = \"hall-9\"");
    let (status, body) = send_toml(
        &app.http,
        put.clone(),
        url("/api/org/forums/spring"),
        toml,
        &broken,
    )
    .await;
    assert_eq!(status, 422, "{backend}: {body}");
    let messages: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(messages.len(), 2, "{backend}: {body}");
    assert!(
        messages[0].starts_with("forum.toml: сессия «s1», поле credits:"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("forum.toml: сессия «s2», поле hall:"),
        "{messages:?}"
    );
    let (_, versions) = app.get("/api/org/forums/spring/versions").await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        2,
        "{backend}"
    );

    // Refused: the id taken, not TOML, a moderator.
    let (status, _) = send_toml(&app.http, post, url("/api/org/forums"), toml, &spring).await;
    assert_eq!(status, 409, "{backend}");
    let (status, body) = send_toml(
        &app.http,
        put.clone(),
        url("/api/org/forums/spring"),
        "text/plain",
        "{}",
    )
    .await;
    assert_eq!(status, 415, "{backend}: {body}");
    assert!(body["error"].as_str().unwrap().contains("TOML"), "{body}");
    let hash = hash_password("модератор-пароль").unwrap();
    app.state
        .store
        .insert_organiser_as("maria", &hash, Role::Moderator, now)
        .await
        .unwrap();
    let maria = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_in = maria
        .post(url("/api/org/login"))
        .json(&json!({ "login": "maria", "password": "модератор-пароль" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200, "{backend}");
    let (status, _) = send_toml(&maria, put, url("/api/org/forums/spring"), toml, &edited).await;
    assert_eq!(status, 403, "{backend}");

    // Published, the draft is listed for viewers beside the served forum; an open forum is
    // not archived, and each change is in the audit trail.
    let (status, body) = app
        .post(
            "/api/org/forums/spring/state",
            json!({ "state": "registration" }),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (_, public) = app.get("/api/forums").await;
    let mut ids: Vec<&str> = public["forums"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    ids.sort();
    assert_eq!(ids, ["spring", "test-forum"], "{backend}");
    let (status, body) = app
        .post(
            "/api/org/forums/spring/state",
            json!({ "state": "archived" }),
        )
        .await;
    assert_eq!(status, 409, "{backend}: {body}");
    let (_, audit) = app.get("/api/org/audit?action=forum_saved").await;
    assert_eq!(
        audit["entries"].as_array().unwrap().len(),
        1,
        "{backend}: {audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_keeps_a_forum_in_git() {
    on_every_backend!(keeps_a_forum_in_git);
}

/// `yavka forum import` then `export`: the file comes back as written; a broken file is
/// refused with the messages `check-config` gives; `purge-personal-data` asks before it acts.
#[test]
fn the_command_line_imports_and_exports_a_forum() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for db in runtime.block_on(TestDb::all()) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let spring = spring_forum();
        std::fs::write(d.join("spring.toml"), &spring).unwrap();
        std::fs::write(
            d.join("broken.toml"),
            spring.replace("credits = 1", "credits = 0"),
        )
        .unwrap();
        let settings = ["--settings", "absent.toml"];
        let out = run_ok(
            d,
            &db.url,
            &["forum", "import", "spring.toml", settings[0], settings[1]],
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("создан черновиком, версия 1"),
            "{}: {said}",
            db.backend
        );
        let out = run_ok(
            d,
            &db.url,
            &["forum", "export", "spring", settings[0], settings[1]],
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            spring,
            "{}",
            db.backend
        );
        let out = run_ok(d, &db.url, &["forum", "list", settings[0], settings[1]]);
        let list = String::from_utf8_lossy(&out.stdout);
        assert!(
            list.contains("spring") && list.contains("Черновик"),
            "{}: {list}",
            db.backend
        );
        let out = yavka(d, &db.url, 0)
            .args(["forum", "import", "broken.toml", settings[0], settings[1]])
            .output()
            .unwrap();
        let errors = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {errors}", db.backend);
        assert!(errors.contains("сессия «s1», поле credits"), "{errors}");
        // Removing personal data asks first, then does it once.
        let purge = [
            "forum",
            "purge-personal-data",
            "spring",
            settings[0],
            settings[1],
        ];
        let out = run_ok(d, &db.url, &purge);
        let asked = String::from_utf8_lossy(&out.stdout);
        assert!(
            asked.contains("Это необратимо") && asked.contains("--yes"),
            "{asked}"
        );
        let out = run_ok(d, &db.url, &[&purge[..], &["--yes"]].concat());
        let done = String::from_utf8_lossy(&out.stdout);
        assert!(
            done.starts_with("Удалены персональные данные"),
            "{}: {done}",
            db.backend
        );
        let out = run_ok(d, &db.url, &[&purge[..], &["--yes"]].concat());
        assert!(String::from_utf8_lossy(&out.stdout).contains("уже удалены"));
        runtime.block_on(db.drop());
    }
}
