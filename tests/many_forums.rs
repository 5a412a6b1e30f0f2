//! Many forums on one server, on SQLite and on Postgres (issue 13).
//!
//! An organiser's server runs the forum of its configuration file; she sets up a second forum
//! in the editor and publishes it, and it runs at once, without a restart. Anna registers for
//! both with the same e-mail; on the day both are live: a prompt fired in one forum reaches
//! only that forum's viewers, each forum's results count only its own people, and a request
//! that does not say which forum it means is answered with the list to choose from.
//! Later, the spring forum is over and its codes still verify while the next one is live;
//! archived, its records stay within reach (`many_forums/archived.rs`).

#[path = "many_forums/archived.rs"]
mod archived;
mod support;

use serde_json::{Value, json};
use support::TestDb;
use support::server::{TEST_FORUM, TestApp, Viewer, at, test_settings};
use yavka::domain::forum::Forum;
use yavka::domain::log::EventBody;

const SECOND_ID: &str = "second-forum";

/// The test forum's file with another id and title (and its dates moved by `day`).
fn second_forum_toml(day: &str) -> String {
    TEST_FORUM
        .replace("id = \"test-forum\"", &format!("id = \"{SECOND_ID}\""))
        .replace("Тестовый форум", "Второй форум")
        .replace("2026-04-01", day)
}

/// The organiser creates the second forum in the editor and publishes it.
async fn publish_second(app: &TestApp, day: &str) {
    let (status, body) = app
        .post_typed(
            "/api/org/forums",
            "application/toml",
            second_forum_toml(day).as_bytes(),
        )
        .await;
    assert_eq!(status, 201, "the second forum is saved: {body}");
    let (status, body) = app
        .post(
            &format!("/api/org/forums/{SECOND_ID}/state"),
            json!({"state": "registration"}),
        )
        .await;
    assert_eq!(status, 200, "the second forum is published: {body}");
}

/// A doctor registers for `forum` from its page (which names the forum) and opens the link
/// from the letter: their viewer id and token.
async fn register_in(app: &TestApp, forum: &str, name: &str, email: &str) -> (String, String) {
    let before = app.mail.letters_to(email).len();
    let form = registration_form(app, forum, name, email).await;
    let (status, body) = app
        .post(&format!("/api/register?forum={forum}"), form)
        .await;
    assert_eq!(status, 202, "registration in {forum}: {body}");
    let token = app.mail.token_for(email, before + 1).await;
    // The link alone says which forum it belongs to.
    let (status, me) = app.get(&format!("/api/me?token={token}")).await;
    assert_eq!(status, 200, "the mailed link works: {me}");
    (me["id"].as_str().unwrap().to_owned(), token)
}

/// A late registration for the second forum (named by `query`) is refused with 409, saying why.
async fn registration_closed(app: &TestApp, query: &str, backend: &str) {
    let form = registration_form(app, SECOND_ID, "Поздний Пётр", "late@example.org").await;
    let (status, closed) = app.post(&format!("/api/register?{query}"), form).await;
    assert_eq!(status, 409, "{backend}: {closed}");
    assert!(
        closed["error"]
            .as_str()
            .unwrap()
            .contains("Регистрация закрыта"),
        "{backend}: {closed}"
    );
}

/// `forum`'s registration form filled in by a doctor who accepts its current consent texts.
async fn registration_form(app: &TestApp, forum: &str, name: &str, email: &str) -> Value {
    let (status, texts) = app.get(&format!("/api/texts?forum={forum}")).await;
    assert_eq!(status, 200, "{texts}");
    let version = |kind: &str| {
        texts["texts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == kind)
            .map(|t| t["version"].clone())
            .unwrap()
    };
    json!({
        "name": name, "email": email, "phone": "+7 916 123-45-67",
        "education": "higher", "specialty": "рентгенология",
        "consent_personal_data": true, "consent_terms": true,
        "consent_personal_data_version": version("personal-data"),
        "consent_terms_version": version("terms"),
    })
}

/// Opens a viewer's tab in hall 1 and waits for its welcome.
async fn watch(app: &TestApp, token: &str) -> Viewer {
    let mut tab = app.connect(token, "hall-1").await;
    assert_eq!(tab.expect("welcome").await["hall"]["id"], "hall-1");
    tab
}

/// Fires a prompt in hall 1 of `forum` from the dashboard; its id.
async fn fire(app: &TestApp, forum: &str) -> String {
    let (status, fired) = app
        .post(
            &format!("/api/org/prompts?forum={forum}"),
            json!({"hall": "hall-1"}),
        )
        .await;
    assert_eq!(status, 200, "a prompt fired in {forum}: {fired}");
    fired["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {fired}"))
        .to_owned()
}

/// The names on `forum`'s results for session s1.
async fn names_in_results(app: &TestApp, forum: &str) -> Vec<String> {
    let (status, results) = app
        .get(&format!("/api/org/results?session=s1&forum={forum}"))
        .await;
    assert_eq!(status, 200, "{results}");
    let mut names: Vec<String> = results["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows in {results}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

/// Waits until `forum`'s stored log holds `n` disconnects (its writer commits within tens of
/// milliseconds).
async fn disconnects_stored(app: &TestApp, forum: &str, n: usize) {
    for _ in 0..200 {
        let events = app.state.store.events(forum, None).await.unwrap();
        let stored = events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Disconnect { .. }))
            .count();
        if stored == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{forum}: the disconnects were never stored");
}

/// The organiser signs in again (a sign-in lasts a day).
async fn sign_in_again(app: &TestApp) {
    let (status, body) = app
        .post(
            "/api/org/login",
            json!({"login": "admin", "password": "организатор-пароль"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The forum ids of a "several forums fit" answer.
fn listed(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["forums"]
        .as_array()
        .unwrap_or_else(|| panic!("no list in {body}"))
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn two_forums_live_at_once(app: &TestApp, backend: &str) {
    publish_second(app, "2026-04-01").await;
    let (_, public) = app.get("/api/forums").await;
    assert_eq!(listed(&public), ["second-forum", "test-forum"], "{backend}");

    // Both forums are open for registration: a registration must say which one it is for.
    let form = app.post("/api/register", json!({"name": "Кто-то"})).await;
    assert_eq!(form.0, 400, "{backend}: {}", form.1);
    assert_eq!(listed(&form.1), ["second-forum", "test-forum"], "{backend}");
    assert!(
        form.1["error"].as_str().unwrap().contains("forum="),
        "{backend}: the answer says how to choose: {}",
        form.1
    );
    let (status, unknown) = app.get("/api/forum?forum=no-such-forum").await;
    assert_eq!(status, 404, "{backend}: {unknown}");
    assert!(unknown["error"].as_str().unwrap().contains("no-such-forum"));

    // Anna registers for both with the same e-mail; Boris only for the first, Vera only for
    // the second.
    let anna = "anna@example.org";
    let (anna_1, anna_1_token) =
        register_in(app, "test-forum", "Иванова Анна Сергеевна", anna).await;
    let (anna_2, anna_2_token) = register_in(app, SECOND_ID, "Иванова Анна Сергеевна", anna).await;
    assert_ne!(
        anna_1, anna_2,
        "{backend}: one person, a registration per forum"
    );
    let (_, boris_token) = register_in(
        app,
        "test-forum",
        "Борисов Борис Борисович",
        "boris@example.org",
    )
    .await;
    let (_, vera_token) =
        register_in(app, SECOND_ID, "Верина Вера Витальевна", "vera@example.org").await;
    // The consent boxes link to the texts of the forum the form is for.
    let (_, texts) = app.get(&format!("/api/texts?forum={SECOND_ID}")).await;
    let page = texts["texts"][0]["page"].as_str().unwrap();
    assert!(
        page.ends_with(&format!("&forum={SECOND_ID}")),
        "{backend}: {page}"
    );
    let (_, programme) = app.get(&format!("/api/forum?forum={SECOND_ID}")).await;
    assert_eq!(
        programme["forum"]["title"], "Второй форум",
        "{backend}: {programme}"
    );

    // The day: both forums are live, each viewer on their own forum's socket.
    app.clock.set(at(1));
    let mut anna_1_tab = watch(app, &anna_1_token).await;
    let mut boris_tab = watch(app, &boris_token).await;
    let mut anna_2_tab = watch(app, &anna_2_token).await;
    let mut vera_tab = watch(app, &vera_token).await;

    // Without `forum=` the dashboard's prompt is refused with the list of live forums.
    let (status, several) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 400, "{backend}: {several}");
    assert_eq!(
        listed(&several),
        ["second-forum", "test-forum"],
        "{backend}"
    );

    // A link no forum knows is refused as before, not with the list of forums.
    let (status, stale) = app.get("/api/me?token=no-such-link").await;
    assert_eq!(status, 401, "{backend}: {stale}");
    let mut stale_tab = app.connect("no-such-link", "hall-1").await;
    let closed = stale_tab.expect("__closed").await;
    assert_eq!(closed["code"], 4401, "{backend}: {closed}");

    // A prompt in the first forum, then one in the second: each tab's next prompt is its own
    // forum's (had the first crossed over, the second forum's tabs would see it first).
    let first = fire(app, "test-forum").await;
    let second = fire(app, SECOND_ID).await;
    for tab in [&mut anna_1_tab, &mut boris_tab] {
        let prompt = tab.expect("prompt").await;
        assert_eq!(prompt["id"], first, "{backend}: the first forum's prompt");
        tab.confirm(&prompt).await;
        assert_eq!(tab.expect("confirmed").await["prompt"], first);
    }
    for tab in [&mut anna_2_tab, &mut vera_tab] {
        let prompt = tab.expect("prompt").await;
        assert_eq!(prompt["id"], second, "{backend}: the second forum's prompt");
        tab.confirm(&prompt).await;
        assert_eq!(tab.expect("confirmed").await["prompt"], second);
    }
    // The metrics name each forum: both have a hall-1 with two viewers' sockets.
    let (status, metrics) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    for forum in ["test-forum", SECOND_ID] {
        let line = |name: &str| {
            metrics
                .lines()
                .find(|l| l.starts_with(name) && l.contains(&format!("forum=\"{forum}\"")))
                .unwrap_or_else(|| panic!("{backend}: no {name} of {forum} in\n{metrics}"))
                .to_owned()
        };
        assert!(line("yavka_connections{").ends_with(" 2"), "{backend}");
        line("yavka_confirms_total{");
        line("yavka_writer_queue{");
    }
    for tab in [anna_1_tab, boris_tab, anna_2_tab, vera_tab] {
        tab.close().await;
    }
    for forum in ["test-forum", SECOND_ID] {
        disconnects_stored(app, forum, 2).await;
    }

    // Each forum's results list its own people only.
    assert_eq!(
        names_in_results(app, "test-forum").await,
        ["Борисов Борис Борисович", "Иванова Анна Сергеевна"],
        "{backend}"
    );
    assert_eq!(
        names_in_results(app, SECOND_ID).await,
        ["Верина Вера Витальевна", "Иванова Анна Сергеевна"],
        "{backend}"
    );
    // The second forum's log holds its own prompt and none of the first's.
    let log = app.state.store.events(SECOND_ID, None).await.unwrap();
    let fired: Vec<String> = log
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Prompt { prompt, .. } => Some(prompt.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(fired, [second], "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forums_run_side_by_side_on_one_server() {
    on_every_backend!(two_forums_live_at_once);
}

/// The configuration file's forum a day later than the test forum.
fn next_day_forum() -> Forum {
    support::forum::test_forum_edited("next-day.toml", |toml| {
        toml.replace("2026-04-01", "2026-04-02")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_forums_codes_verify_while_another_is_live() {
    for db in TestDb::all().await {
        let app = TestApp::spawn_with(test_settings(&db.url), next_day_forum(), at(-5)).await;
        app.sign_in_organiser().await;
        let backend = db.backend;
        // The spring forum runs on 1 April, the served one on 2 April.
        publish_second(&app, "2026-04-01").await;
        let (anna_id, anna_token) = register_in(
            &app,
            SECOND_ID,
            "Иванова Анна Сергеевна",
            "anna@example.org",
        )
        .await;
        let spring = app
            .state
            .forums
            .get(SECOND_ID)
            .expect("the spring forum runs");
        let mut tab = watch(&app, &anna_token).await;
        let times: Vec<_> = spring
            .prompter
            .upcoming(100)
            .into_iter()
            .filter(|p| p.session == "s1")
            .map(|p| p.at)
            .collect();
        assert_eq!(times.len(), 2, "{backend}");
        for t in times {
            app.clock.set(t);
            spring.prompter.tick().await;
            tab.answer().await;
        }
        app.clock.set(at(31));
        tab.close().await;
        disconnects_stored(&app, SECOND_ID, 1).await;
        drop(spring);
        let (status, issued) = app
            .post(
                &format!("/api/org/codes/issue?session=s1&forum={SECOND_ID}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{backend}: {issued}");
        let code = issued["codes"][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{backend}: no code in {issued}"))
            .to_owned();

        // The next day the served forum is live and the spring one finished: its code still
        // verifies, and the dashboard's requests go to the live forum without naming it.
        app.clock.set(at(24 * 60 + 1));
        sign_in_again(&app).await;
        let (status, check) = app.get(&format!("/verify/{code}?format=json")).await;
        assert_eq!(status, 200, "{backend}: {check}");
        assert_eq!(check["genuine"], true, "{backend}: {check}");
        assert_eq!(check["forum"], "Второй форум", "{backend}: {check}");
        let (status, fired) = app
            .post("/api/org/prompts", json!({"hall": "hall-1"}))
            .await;
        assert_eq!(status, 200, "{backend}: the only live forum: {fired}");
        // A registration for the finished forum is refused, saying why.
        registration_closed(&app, &format!("forum={SECOND_ID}"), backend).await;
        let (status, made_up) = app.get("/verify/ZZZZZZZZZZZZ?format=json").await;
        assert_eq!(status, 404, "{backend}: {made_up}");
        assert!(
            made_up["error"]
                .as_str()
                .unwrap()
                .contains("форумов этого сервера"),
            "{backend}: no single forum is named when there are several: {made_up}"
        );
        // Ready: every running forum's writer records.
        let (status, ready) = app.get("/readyz").await;
        assert_eq!(status, 200, "{backend}: {ready}");

        // Archived, the spring forum stops running; its codes still verify.
        let (status, body) = app
            .post(
                &format!("/api/org/forums/{SECOND_ID}/state"),
                json!({"state": "archived"}),
            )
            .await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert!(app.state.forums.get(SECOND_ID).is_none(), "{backend}");
        let (status, check) = app.get(&format!("/verify/{code}?format=json")).await;
        assert_eq!(status, 200, "{backend}: {check}");
        archived::records_stay_within_reach(&app, backend, &anna_id, &anna_token, &code).await;
        app.stop().await;
        db.drop().await;
    }
}
