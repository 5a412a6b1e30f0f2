//! The dashboard's editor through its API, on SQLite and on Postgres.
//!
//! The organiser's editor sends the forum as JSON of the file's shape. Her mistakes come back
//! with the path of each field (`session[0].credits`), and an unknown specialty with the
//! catalogue's suggestion; nothing is saved. A check answers with the programme viewers will
//! see. Once a session has started it is shown frozen, and a version that changes its rules
//! is refused; so is one that removes a hall its sessions use or viewers were in. Versions are compared line by
//! line, and last spring's forum is copied to the autumn with every date moved.

use serde_json::{Value, json};

use crate::support::server::{TEST_FORUM, TestApp, at, test_forum};

/// The test forum as JSON of the file's shape, as the editor sends it.
fn as_json(toml: &str) -> Value {
    toml::from_str(toml).unwrap()
}

async fn send_json(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let r = app
        .http
        .request(method, format!("{}{path}", app.base))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The problem at `path`, which must be there.
fn problem<'a>(body: &'a Value, path: &str) -> &'a Value {
    body["problems"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["path"] == path))
        .unwrap_or_else(|| panic!("no problem at {path}: {body}"))
}

async fn edits_a_forum_as_json(app: &TestApp, backend: &str) {
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    let mut autumn = as_json(TEST_FORUM);
    autumn["forum"]["id"] = json!("spring");
    autumn["forum"]["title"] = json!("Весенний форум");

    // Two mistakes in the form: each comes back beside its field, the specialty with the
    // catalogue's spelling; nothing is saved.
    let mut broken = autumn.clone();
    broken["session"][0]["credits"] = json!("один");
    broken["session"][1]["audience"]["higher"] = json!(["кардиолгия"]);
    let (status, body) = send_json(app, post.clone(), "/api/org/forums", &broken).await;
    assert_eq!(status, 422, "{backend}: {body}");
    assert_eq!(body["problems"].as_array().unwrap().len(), 2, "{body}");
    let credits = problem(&body, "session[0].credits");
    assert!(
        credits["text"].as_str().unwrap().contains("Неверный тип"),
        "{body}"
    );
    assert_eq!(
        credits["line"],
        Value::Null,
        "{backend}: JSON has no lines of TOML"
    );
    let specialty = problem(&body, "session[1].audience.higher");
    assert!(
        specialty["text"]
            .as_str()
            .unwrap()
            .contains("«кардиология»"),
        "{body}"
    );
    assert_eq!(body["messages"][1], specialty["text"], "{body}");
    let (_, list) = app.get("/api/org/forums").await;
    assert_eq!(
        list["forums"].as_array().unwrap().len(),
        1,
        "{backend}: {list}"
    );

    // Checked, the fixed form previews the programme as viewers will see it.
    let (status, checked) = send_json(app, post.clone(), "/api/org/forums/check", &autumn).await;
    assert_eq!(status, 200, "{backend}: {checked}");
    assert_eq!(checked["ok"], true, "{checked}");
    let first = &checked["preview"]["days"][0]["sessions"][0];
    assert_eq!(first["time"], "10:00–10:30", "{checked}");
    assert_eq!(checked["sessions"][0]["frozen"], false, "{checked}");

    // Saved as JSON, it is stored as TOML and read back as the same document.
    let (status, body) = send_json(app, post.clone(), "/api/org/forums", &autumn).await;
    assert_eq!(status, 201, "{backend}: {body}");
    let (status, again) = send_json(app, post.clone(), "/api/org/forums", &autumn).await;
    assert_eq!(status, 409, "{backend}: a duplicate id: {again}");
    let (_, text) = app.get_text("/api/org/forums/spring").await;
    assert!(text.contains("[[session]]"), "{backend}: {text}");
    let r = app
        .http
        .get(format!("{}/api/org/forums/spring", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let read: Value = r.json().await.unwrap();
    assert_eq!(read["forum"]["session"][1]["id"], "s2", "{read}");

    // A hall removed that its session still uses: refused at the session's hall.
    let mut no_hall = autumn.clone();
    no_hall["hall"].as_array_mut().unwrap().remove(1);
    let (status, body) = send_json(app, put.clone(), "/api/org/forums/spring", &no_hall).await;
    assert_eq!(status, 422, "{backend}: {body}");
    assert!(
        problem(&body, "session[1].hall")["text"]
            .as_str()
            .unwrap()
            .contains("hall-2")
    );

    // An edit is version 2; the diff shows the changed title and nothing else.
    autumn["forum"]["title"] = json!("Весенний форум 2026");
    let (status, body) = send_json(app, put, "/api/org/forums/spring", &autumn).await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (status, diff) = app.get("/api/org/forums/spring/versions/2/diff").await;
    assert_eq!(status, 200, "{backend}: {diff}");
    let changed: Vec<(&str, &str)> = diff["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap())
        .filter(|l| l["tag"] != " ")
        .map(|l| (l["tag"].as_str().unwrap(), l["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changed,
        [
            ("-", "title = \"Весенний форум\""),
            ("+", "title = \"Весенний форум 2026\"")
        ],
        "{backend}: {diff}"
    );
    assert!(
        diff["text"]
            .as_str()
            .unwrap()
            .contains("+title = \"Весенний форум 2026\"")
    );

    // A body that is not a forum at all: one problem, at the top.
    let (status, body) = send_json(app, post.clone(), "/api/org/forums", &json!({})).await;
    assert_eq!(status, 422, "{backend}: {body}");
    assert!(
        problem(&body, "forum")["text"]
            .as_str()
            .unwrap()
            .contains("[forum]")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_edits_a_forum_as_json() {
    crate::on_every_backend!(edits_a_forum_as_json);
}

async fn started_sessions_stay_as_they_started(app: &TestApp, backend: &str) {
    // The forum's sessions start at 10:00; at 10:05 their rules are frozen.
    app.state
        .store
        .sync_forum(&test_forum(), at(5))
        .await
        .unwrap();
    let mut forum = as_json(TEST_FORUM);
    let (status, checked) =
        send_json(app, reqwest::Method::POST, "/api/org/forums/check", &forum).await;
    assert_eq!(status, 200, "{backend}: {checked}");
    assert_eq!(checked["sessions"][0]["frozen"], true, "{checked}");
    let reason = checked["sessions"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("заморожены"), "{reason}");

    // Its minimum changed after the start: refused, the version stays; a stream URL may change.
    forum["session"][0]["min_minutes"] = json!(25);
    let (status, body) = send_json(
        app,
        reqwest::Method::PUT,
        "/api/org/forums/test-forum",
        &forum,
    )
    .await;
    assert_eq!(status, 422, "{backend}: {body}");
    let refused = problem(&body, "session[0].min_minutes")["text"]
        .as_str()
        .unwrap();
    assert!(refused.contains("уже началась"), "{refused}");
    let (_, versions) = app.get("/api/org/forums/test-forum/versions").await;
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        1,
        "{backend}"
    );
    let fixed = TEST_FORUM.replace("hall-1.m3u8", "hall-1-backup.m3u8");
    let (status, body) = app
        .post_typed(
            "/api/org/forums/check",
            "application/toml",
            fixed.as_bytes(),
        )
        .await;
    assert_eq!(
        (status, &body["ok"]),
        (200, &json!(true)),
        "{backend}: {body}"
    );

    // Invalid TOML: its line, and no preview.
    let (status, body) = app
        .post_typed(
            "/api/org/forums/check",
            "application/toml",
            b"[forum\nid = 1\n",
        )
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(
        (&body["ok"], &body["problems"][0]["line"]),
        (&json!(false), &json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_sessions_are_frozen_in_the_editor() {
    crate::on_every_backend!(started_sessions_stay_as_they_started);
}

async fn copies_a_forum_to_new_dates(app: &TestApp, backend: &str) {
    let copy = |body: Value| async move { app.post("/api/org/forums/test-forum/copy", body).await };
    let (status, body) = copy(json!({ "id": "autumn", "first_day": "2026-10-05" })).await;
    assert_eq!(status, 201, "{backend}: {body}");
    assert_eq!(body["days"], 187, "{body}");
    let (_, text) = app.get_text("/api/org/forums/autumn").await;
    assert!(
        text.contains("starts = \"2026-10-05T10:00\""),
        "{backend}: {text}"
    );
    assert!(text.contains("title = \"Тестовый форум\""), "{text}");
    let (_, list) = app.get("/api/org/forums").await;
    let autumn = list["forums"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "autumn")
        .unwrap();
    assert_eq!(autumn["state"], "draft", "{list}");
    let (status, _) = copy(json!({ "id": "autumn", "first_day": "2027-04-01" })).await;
    assert_eq!(status, 409, "{backend}: the id is taken");
    let (status, body) = copy(json!({ "id": "winter", "first_day": "1 декабря" })).await;
    assert_eq!(status, 400, "{backend}: {body}");
    let (_, audit) = app.get("/api/org/audit?action=forum_created").await;
    let said = audit["entries"][0].to_string();
    assert!(said.contains("копия «test-forum»"), "{backend}: {audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_copies_a_forum_with_moved_dates() {
    crate::on_every_backend!(copies_a_forum_to_new_dates);
}

/// The test forum under another id, as a TOML file.
fn renamed(id: &str) -> String {
    TEST_FORUM.replace("id = \"test-forum\"", &format!("id = \"{id}\""))
}

async fn save_new(app: &TestApp, id: &str, publish: bool) {
    let (status, body) = app
        .post_typed(
            "/api/org/forums",
            "application/toml",
            renamed(id).as_bytes(),
        )
        .await;
    assert_eq!(status, 201, "{id}: {body}");
    if publish {
        let (status, body) = app
            .post(
                &format!("/api/org/forums/{id}/state"),
                json!({"state": "registration"}),
            )
            .await;
        assert_eq!(status, 200, "{id}: {body}");
    }
}

/// Every forum the server runs has its started sessions frozen, not only the configuration
/// file's: a published forum whose sessions started while the server ran refuses an edit of
/// their rules, a draft with the same dates stays editable (it never ran), and a server that
/// starts after the sessions began freezes them for every stored forum it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_running_forums_started_sessions_are_frozen() {
    for db in crate::support::TestDb::all().await {
        let backend = db.backend;
        let settings = || crate::support::server::test_settings(&db.url);
        let app = TestApp::spawn_with(settings(), test_forum(), at(-5)).await;
        app.sign_in_organiser().await;
        save_new(&app, "spring", true).await;
        save_new(&app, "summer", true).await;
        save_new(&app, "sketch", false).await;
        app.clock.set(at(5));
        let stricter = |id: &str| renamed(id).replace("min_minutes = 20", "min_minutes = 25");
        let put = |id: &'static str| {
            let app = &app;
            async move {
                app.http
                    .put(app.url(&format!("/api/org/forums/{id}")))
                    .header("content-type", "application/toml")
                    .body(stricter(id))
                    .send()
                    .await
                    .unwrap()
            }
        };
        let r = put("spring").await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 422, "{backend}: spring started at 10:00: {body}");
        assert!(body.to_string().contains("уже началась"), "{body}");
        let r = put("sketch").await;
        assert_eq!(r.status(), 200, "{backend}: a draft never ran");
        app.stop().await;

        // The server restarts after 10:00: summer, never edited, is frozen as it starts.
        let store = yavka::store::Store::connect(&db.url).await.unwrap();
        assert!(
            store.frozen_rules("summer").await.unwrap().is_empty(),
            "{backend}"
        );
        let again = TestApp::spawn_with(settings(), test_forum(), at(5)).await;
        let mut frozen: Vec<String> = store
            .frozen_rules("summer")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        frozen.sort();
        assert_eq!(frozen, ["s1", "s2"], "{backend}");
        assert!(
            store.frozen_rules("sketch").await.unwrap().is_empty(),
            "{backend}: drafts are not frozen"
        );
        store.close().await;
        again.stop().await;
        db.drop().await;
    }
}

/// A hall viewers were in stays: its sessions may go before they start, but a version that
/// removes the hall itself is refused once anyone has watched there.
async fn a_watched_hall_stays(app: &TestApp, backend: &str) {
    let mut forum = as_json(TEST_FORUM);
    forum["hall"].as_array_mut().unwrap().remove(1);
    forum["session"].as_array_mut().unwrap().remove(1);
    let (status, checked) =
        send_json(app, reqwest::Method::POST, "/api/org/forums/check", &forum).await;
    assert_eq!(status, 200, "{backend}: {checked}");
    assert_eq!(
        checked["ok"], true,
        "{backend}: nobody has been in hall 2: {checked}"
    );

    // Before the sessions a doctor opens hall 2 to check the stream.
    let (_, _, tab) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-2")
        .await;
    app.wait_for_log(|events| {
        events.iter().any(
            |e| matches!(&e.body, yavka::domain::log::EventBody::Connect { hall, .. } if hall == "hall-2"),
        )
    })
    .await;
    tab.close().await;
    let (status, body) = send_json(
        app,
        reqwest::Method::PUT,
        "/api/org/forums/test-forum",
        &forum,
    )
    .await;
    assert_eq!(status, 422, "{backend}: {body}");
    let text = problem(&body, "hall")["text"].as_str().unwrap();
    assert!(
        text.contains("hall-2") && text.contains("зрители"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_viewers_were_in_cannot_be_removed() {
    crate::on_every_backend!(a_watched_hall_stays);
}
