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

#[allow(dead_code)]
fn _unused(_: Value) {}
