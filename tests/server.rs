//! The live server as viewers and organisers use it, on SQLite and on Postgres: the real
//! server on port 0, real websocket clients, a manual clock that plays the session in
//! milliseconds.

mod support;

use serde_json::{Value, json};
use support::TestDb;
use support::server::{TestApp, at};
use yavka::domain::log::EventBody;

/// Runs `story` once per backend, each with a fresh database.
macro_rules! on_every_backend {
    ($story:ident) => {
        for db in TestDb::all().await {
            let app = TestApp::spawn(&db.url).await;
            $story(&app).await;
            app.stop().await;
            db.drop().await;
        }
    };
}

async fn register_watch_confirm_and_get_a_code(app: &TestApp) {
    let (viewer, token) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;

    // She opens her personal link a few minutes before the start.
    let (status, me) = app.get(&format!("/api/me?token={token}")).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Иванова Анна Сергеевна");
    let mut tab = app.connect(&token, "hall-1").await;
    let welcome = tab.expect("welcome").await;
    assert_eq!(welcome["hall"]["id"], "hall-1");

    // Both planned prompts fire at their times; she answers each.
    let times = app.planned("s1");
    assert_eq!(times.len(), 2, "two planned prompts for s1");
    for t in times {
        let fired = app.tick_at(t).await;
        let ours: Vec<_> = fired.iter().filter(|id| id.starts_with("s1-")).collect();
        assert_eq!(
            ours.len(),
            1,
            "one prompt of s1 fired at its planned time: {fired:?}"
        );
        let prompt = tab.expect("prompt").await;
        tab.confirm(&prompt).await;
        let ok = tab.expect("confirmed").await;
        assert_eq!(ok["prompt"], prompt["id"]);
    }
    let tally = tab.expect("tally").await;
    assert_eq!(tally["confirmed"], 2, "{tally}");

    // The session ends; she closes the tab a minute later.
    app.clock.set(at(31));
    tab.close().await;
    app.wait_for_log(|events| {
        events
            .iter()
            .any(|e| matches!(e.body, EventBody::Disconnect { .. }))
    })
    .await;

    // The organiser sees her eligible, issues codes and downloads the results.
    app.sign_in_organiser().await;
    let (status, results) = app.get("/api/org/results?session=s1").await;
    assert_eq!(status, 200, "{results}");
    let row = &results["rows"][0];
    assert_eq!(row["viewer"], viewer.as_str());
    assert_eq!(row["eligible"], true, "{row}");
    assert_eq!(row["minutes"], 30, "counted from 10:00 to 10:30: {row}");
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{issued}");
    let code = issued["codes"][0]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 12);
    let (status, again) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(again["issued_now"], 0, "issuing again changes nothing");
    assert_eq!(again["codes"][0]["code"], code.as_str());
    let (status, csv) = app
        .get_text("/api/org/results.csv?session=s1&delimiter=;")
        .await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    assert!(
        csv.contains("anna@example.org") && csv.contains(&code),
        "{csv}"
    );

    // The stored log, evaluated offline, gives the same verdict.
    let events = app
        .state
        .store
        .events(&app.state.forum.id, None)
        .await
        .unwrap();
    let offline = yavka::domain::rules::evaluate(&app.state.forum, &events);
    let v = offline.verdicts.iter().find(|v| v.session == "s1").unwrap();
    assert!(v.eligible);
    assert_eq!(v.minutes, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_registers_watches_confirms_and_gets_a_code() {
    on_every_backend!(register_watch_confirm_and_get_a_code);
}

async fn bad_inputs_are_refused_clearly(app: &TestApp) {
    // Registration: every field error at once, in Russian; nothing stored.
    let (status, body) = app
        .post("/api/register", json!({"name": "Анна", "email": "x", "phone": "1", "education": "higher", "specialty": "нет такой"}))
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"email") && fields.contains(&"consent_personal_data"),
        "{body}"
    );
    assert!(
        app.state
            .store
            .viewers(&app.state.forum.id)
            .await
            .unwrap()
            .is_empty()
    );

    // The same e-mail twice.
    let (_, token) = app
        .register("Петров Пётр Петрович", "petr@example.org")
        .await;
    let (status, body) = app
        .post("/api/register", json!({"name": "Петров Пётр", "email": "PETR@example.org", "phone": "89161234567",
            "education": "higher", "specialty": "рентгенология", "consent_personal_data": true, "consent_terms": true}))
        .await;
    assert_eq!(status, 409, "{body}");

    // A viewer's token never opens organiser endpoints; a wrong password is refused.
    let (status, _) = app.get(&format!("/api/org/stats?token={token}")).await;
    assert_eq!(status, 401);
    let (status, body) = app
        .post(
            "/api/org/login",
            json!({"login": "admin", "password": "wrong"}),
        )
        .await;
    assert_eq!(status, 401, "{body}");

    // An unknown token and an unknown hall close the socket with a code and a reason.
    let mut bad = app.connect("not-a-token", "hall-1").await;
    let closed = bad.expect("__closed").await;
    assert_eq!(closed["code"], 4401, "{closed}");
    let mut lost = app.connect(&token, "hall-9").await;
    assert_eq!(lost.expect("__closed").await["code"], 4404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_clearly_and_change_nothing() {
    on_every_backend!(bad_inputs_are_refused_clearly);
}

const CODES_NOTE: &str = "Свидетельства с кодами НМО придут на почту в течение 1–2 месяцев.";

/// The session of a doctor's own results page: `/api/me/results` as she watches, after the
/// session, and once codes are issued; each verdict equal to the organiser's.
async fn a_doctor_reads_her_own_results(app: &TestApp) {
    let (_, token) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    let (_, other) = app.register("Борисов Борис", "boris@example.org").await;
    let mine = |token: &str| format!("/api/me/results?token={token}");

    // Before the forum: every session listed, none judged yet, the organiser's note on codes.
    let (status, before) = app.get(&mine(&token)).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["forum"]["codes_note"], CODES_NOTE);
    assert_eq!(before["codes_issued"], 0);
    let ids: Vec<&str> = before["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["s1", "s2"], "programme order");
    for s in before["sessions"].as_array().unwrap() {
        assert_eq!(
            (&s["phase"], &s["result"], &s["accredited"]),
            (&json!("upcoming"), &Value::Null, &json!(true)),
            "{s}"
        );
        assert_eq!(s["date"], "2026-04-01");
        assert_eq!(s["time"], "10:00–10:30");
    }
    let (_, me) = app.get(&format!("/api/me?token={token}")).await;
    assert_eq!(me["programme"]["forum"]["codes_note"], CODES_NOTE);

    // She watches hall 1 and answers both prompts; midway her page shows the verdict so far.
    let mut tab = app.connect(&token, "hall-1").await;
    tab.expect("welcome").await;
    for (n, t) in app.planned("s1").into_iter().enumerate() {
        app.tick_at(t).await;
        let prompt = tab.expect("prompt").await;
        tab.confirm(&prompt).await;
        tab.expect("confirmed").await;
        if n == 0 {
            let (_, during) = app.get(&mine(&token)).await;
            let s1 = &during["sessions"][0];
            assert_eq!(s1["phase"], "live", "{s1}");
            assert_eq!(s1["result"]["confirmed"], 1, "{s1}");
            assert_eq!(s1["result"]["eligible"], false, "not yet: {s1}");
            assert!(!s1["result"]["reasons"].as_array().unwrap().is_empty());
        }
    }
    app.clock.set(at(31));
    tab.close().await;
    app.wait_for_log(|events| {
        events
            .iter()
            .any(|e| matches!(e.body, EventBody::Disconnect { .. }))
    })
    .await;

    // After the session: her verdict is the organiser's, word for word.
    let (_, after) = app.get(&mine(&token)).await;
    let s1 = &after["sessions"][0];
    assert_eq!(s1["phase"], "over");
    assert_eq!(s1["result"]["eligible"], true, "{s1}");
    assert_eq!(s1["result"]["minutes"], 30, "{s1}");
    assert_eq!(
        (&s1["result"]["confirmed"], &s1["result"]["required"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(
        after["sessions"][1]["result"],
        Value::Null,
        "hall 2 was not watched"
    );
    app.sign_in_organiser().await;
    let (_, org) = app.get("/api/org/results?session=s1").await;
    let row = org["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Иванова Анна Сергеевна")
        .unwrap();
    for key in ["eligible", "minutes", "confirmed", "reasons"] {
        assert_eq!(s1["result"][key], row[key], "{key}: {s1} vs {row}");
    }
    assert_eq!(
        s1["code"],
        Value::Null,
        "no code before the organiser issues"
    );

    // Codes issued: her page shows hers; Boris, who did not watch, has no verdict and no code.
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{issued}");
    let (_, with_code) = app.get(&mine(&token)).await;
    assert_eq!(with_code["codes_issued"], 1);
    assert_eq!(with_code["sessions"][0]["code"], issued["codes"][0]["code"]);
    let (_, his) = app.get(&mine(&other)).await;
    assert_eq!(his["viewer"]["name"], "Борисов Борис");
    assert_eq!(his["sessions"][0]["result"], Value::Null, "{his}");
    assert_eq!(
        (&his["codes_issued"], &his["sessions"][0]["code"]),
        (&json!(0), &Value::Null)
    );

    // A missing or wrong link: a Russian sentence, as JSON, and nobody's results.
    for path in [
        "/api/me/results",
        "/api/me/results?token=",
        "/api/me/results?token=nope",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 401, "{path}: {body}");
        let text = body["error"].as_str().unwrap();
        assert!(
            text.starts_with(char::is_uppercase) && text.contains("ссылк"),
            "{path}: {text}"
        );
    }
    let (status, page) = app.get_text(&format!("/my?token={token}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/assets/my.js"),
        "the results page loads its script"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_sees_her_own_verdicts_as_the_organiser_does() {
    for db in TestDb::all().await {
        let mut forum = support::server::test_forum();
        forum.codes_note = Some(CODES_NOTE.into());
        let app = TestApp::spawn_with(support::server::test_settings(&db.url), forum, at(-5)).await;
        a_doctor_reads_her_own_results(&app).await;
        app.stop().await;
        db.drop().await;
    }
}

#[allow(dead_code)]
fn _unused(_: Value) {}
