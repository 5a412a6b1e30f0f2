//! The live server as viewers and organisers use it, on SQLite and on Postgres: the real
//! server on port 0, real websocket clients, a manual clock that plays the session in
//! milliseconds.

mod support;

use serde_json::{Value, json};
use support::TestDb;
use support::server::{TestApp, at, test_forum, test_settings};
use yavka::domain::log::EventBody;
use yavka::domain::time::MINUTE;

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
    on_every_backend!(anonymous register_watch_confirm_and_get_a_code);
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

    // A form that does not say which texts it showed is refused (a stale one: see below).
    let (_, token) = app
        .register("Петров Пётр Петрович", "petr@example.org")
        .await;
    let (status, body) = app
        .post("/api/register", json!({"name": "Петров Пётр", "email": "PETR2@example.org", "phone": "89161234567",
            "education": "higher", "specialty": "рентгенология", "consent_personal_data": true, "consent_terms": true}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Обновите страницу"),
        "{body}"
    );

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

    // An address that does not exist: a Russian page, or JSON under /api/.
    let (status, html) = app.get_text("/programma").await;
    assert_eq!(status, 404);
    assert!(html.contains("Страница не найдена"), "{html}");
    let (status, body) = app.get("/api/org/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "Такого адреса нет: /api/org/nothing-here.");

    // Once the forum is over, registration is closed: the page is told so, and a late form
    // is refused with the reason and stores nothing.
    let (_, programme) = app.get("/api/forum").await;
    assert_eq!(programme["registration"]["open"], true, "{programme}");
    app.clock.set(at(30));
    let (_, programme) = app.get("/api/forum").await;
    assert_eq!(programme["registration"]["open"], false, "{programme}");
    let registered = app
        .state
        .store
        .viewers(&app.state.forum.id)
        .await
        .unwrap()
        .len();
    let (status, body) = app
        .post(
            "/api/register",
            json!({"name": "Поздняя Вера Ивановна", "email": "late@example.org",
            "phone": "89161234500", "education": "higher", "specialty": "рентгенология",
            "consent_personal_data": true, "consent_terms": true}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Регистрация закрыта: форум закончился 01.04.2026."),
        "{body}"
    );
    assert_eq!(programme["registration"]["closed"], body["error"]);
    assert_eq!(
        app.state
            .store
            .viewers(&app.state.forum.id)
            .await
            .unwrap()
            .len(),
        registered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_refused_clearly_and_change_nothing() {
    on_every_backend!(anonymous bad_inputs_are_refused_clearly);
}

/// `yavka create-organiser LOGIN --reset`: a new password for a login that exists, and every
/// sign-in with the old one ended; without `--reset` an existing login is left alone and the
/// organiser is told the flag exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_password_is_reset_from_the_command_line() {
    for db in TestDb::all().await {
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        let dir = tempfile::tempdir().unwrap();
        let yavka = |args: &[&str]| {
            support::process::yavka(dir.path(), &db.url, 0)
                .args(args)
                .output()
                .unwrap()
        };

        let out = yavka(&["create-organiser", "admin"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.starts_with("Организатор «admin» уже есть")
                && stderr.contains("create-organiser admin --reset"),
            "{stderr}"
        );
        assert_eq!(app.get("/api/org/me").await.0, 200, "nothing changed");

        let out = yavka(&["create-organiser", "admin", "--reset"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        let password = stdout
            .lines()
            .find_map(|l| l.strip_prefix("Пароль: "))
            .unwrap_or_else(|| panic!("{}: no password in {stdout}", db.backend))
            .to_owned();
        assert_eq!(
            app.get("/api/org/me").await.0,
            401,
            "{}: the old sign-in has ended",
            db.backend
        );
        let login = |password: &str| {
            app.post(
                "/api/org/login",
                json!({"login": "admin", "password": password}),
            )
        };
        assert_eq!(login("организатор-пароль").await.0, 401, "the old password");
        assert_eq!(login(&password).await.0, 200, "the new password");

        let out = yavka(&["create-organiser", "nobody", "--reset"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Организатора «nobody» нет"));
        app.stop().await;
        db.drop().await;
    }
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

// ---- Registration that reveals nothing (issue 10, issue 11) ----------------------------------

/// Letters of one outbox kind, from the organiser's delivery log.
async fn letters_of_kind(app: &TestApp, kind: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/org/mail/log?kind={kind}")).await;
    assert_eq!(status, 200, "{body}");
    body["rows"].as_array().unwrap().clone()
}

async fn registering_twice_answers_the_same_and_mails_the_link(app: &TestApp) {
    app.sign_in_organiser().await;
    let anna = app
        .registration_form("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    let (status, first) = app.post("/api/register", anna.clone()).await;
    assert_eq!(status, 202, "{first}");
    assert!(
        first.get("token").is_none() && first.get("link").is_none(),
        "{first}"
    );
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("anna@example.org"),
        "{first}"
    );
    let welcome = app.mail.wait_for_letters_to("anna@example.org", 1).await;
    assert!(
        welcome[0].subject().contains("Вы зарегистрированы"),
        "{}",
        welcome[0].subject()
    );
    let first_token = welcome[0].token().expect("the link is in the letter");

    // She forgets, and registers again later, typing her name differently: the answer is
    // the same, byte for byte, and a second letter brings a working link to the same person.
    app.clock.advance(10 * MINUTE);
    let mut again = anna.clone();
    again["name"] = json!("ИВАНОВА Анна");
    again["email"] = json!(" Anna@Example.org ");
    let (status, second) = app.post("/api/register", again).await;
    assert_eq!((status, &second), (202, &first));
    let letters = app.mail.wait_for_letters_to("anna@example.org", 2).await;
    assert!(
        letters[1].subject().contains("уже зарегистрированы"),
        "{}",
        letters[1].subject()
    );
    assert!(
        letters[1]
            .text()
            .contains("Данные из повторной формы не сохранены")
    );
    let second_token = letters[1].token().unwrap();
    assert_ne!(first_token, second_token);
    for token in [&first_token, &second_token] {
        let (status, me) = app.get(&format!("/api/me?token={token}")).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(
            me["name"], "Иванова Анна Сергеевна",
            "the second form changed nothing"
        );
    }
    let viewers = app.state.store.viewers(&app.state.forum.id).await.unwrap();
    assert_eq!(viewers.len(), 1);
    assert_eq!(letters_of_kind(app, "welcome").await.len(), 1);
    assert_eq!(letters_of_kind(app, "again").await.len(), 1);

    // A newcomer gets the same answer but for the address.
    let petr = app
        .registration_form("Петров Пётр Петрович", "petr@example.org")
        .await;
    let (status, newcomer) = app.post("/api/register", petr).await;
    assert_eq!(status, 202);
    let mut expected = first.clone();
    expected["email"] = json!("petr@example.org");
    expected["message"] = json!(
        first["message"]
            .as_str()
            .unwrap()
            .replace("anna@example.org", "petr@example.org")
    );
    assert_eq!(newcomer, expected);

    // A third try within the interval sends nothing and says when to try again.
    let r = app
        .http
        .post(format!("{}/api/register", app.base))
        .json(&anna)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Письмо на адрес"),
        "{body}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.letters_to("anna@example.org").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_twice_gives_the_same_answer_and_a_second_letter() {
    on_every_backend!(anonymous registering_twice_answers_the_same_and_mails_the_link);
}

/// Every answer of registration and «send my link again» takes at least the floor, so a new
/// and a known address (or a known and an unknown one) cannot be told apart by timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_answers_take_the_same_floor_of_time() {
    for db in TestDb::all().await {
        let mut settings = test_settings(&db.url);
        settings.registration.answer_floor_ms = 150;
        let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
        let timed = async |path: &str, body: Value| {
            let started = std::time::Instant::now();
            let (status, _) = app.post(path, body).await;
            (status, started.elapsed().as_millis())
        };
        let form = app
            .registration_form("Иванова Анна Сергеевна", "anna@example.org")
            .await;
        let new = timed("/api/register", form.clone()).await;
        app.clock.advance(10 * MINUTE);
        let known = timed("/api/register", form).await;
        app.clock.advance(10 * MINUTE);
        let relink_known = timed("/api/relink", json!({"email": "anna@example.org"})).await;
        let relink_unknown = timed("/api/relink", json!({"email": "nobody@example.org"})).await;
        let limited = timed("/api/relink", json!({"email": "nobody@example.org"})).await;
        for (what, (status, ms), expected) in [
            ("new", new, 202),
            ("known", known, 202),
            ("relink known", relink_known, 202),
            ("relink unknown", relink_unknown, 202),
            ("limited", limited, 429),
        ] {
            assert_eq!(status, expected, "{}: {what}", db.backend);
            assert!(ms >= 150, "{}: {what} answered after {ms} ms", db.backend);
        }
        app.stop().await;
        db.drop().await;
    }
}

async fn a_lost_link_goes_to_the_registered_address_only(app: &TestApp) {
    app.sign_in_organiser().await;
    let (anna, _) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    app.clock.advance(10 * MINUTE);

    let (status, known) = app
        .post("/api/relink", json!({"email": "ANNA@example.org"}))
        .await;
    assert_eq!(status, 202, "{known}");
    let (status, unknown) = app
        .post("/api/relink", json!({"email": "nobody@example.org"}))
        .await;
    assert_eq!(status, 202, "{unknown}");
    assert_eq!(
        unknown["message"],
        known["message"]
            .as_str()
            .unwrap()
            .replace("anna@example.org", "nobody@example.org"),
        "the answer does not tell the addresses apart"
    );
    let letters = app.mail.wait_for_letters_to("anna@example.org", 2).await;
    assert!(
        letters[1].subject().contains("ещё раз"),
        "{}",
        letters[1].subject()
    );
    let (status, me) = app
        .get(&format!("/api/me?token={}", letters[1].token().unwrap()))
        .await;
    assert_eq!((status, me["id"].as_str()), (200, Some(anna.as_str())));
    let relinks = letters_of_kind(app, "relink").await;
    assert_eq!(relinks.len(), 1, "{relinks:?}");
    assert_eq!(relinks[0]["viewer"], anna.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mail.letters_to("nobody@example.org").is_empty());

    // Asking again at once is limited for both, with the same words; later it works again.
    let (status, limited_known) = app
        .post("/api/relink", json!({"email": "anna@example.org"}))
        .await;
    assert_eq!(status, 429, "{limited_known}");
    let (status, limited_unknown) = app
        .post("/api/relink", json!({"email": "nobody@example.org"}))
        .await;
    assert_eq!(status, 429, "{limited_unknown}");
    assert_eq!(
        limited_unknown["error"],
        limited_known["error"]
            .as_str()
            .unwrap()
            .replace("anna@example.org", "nobody@example.org")
    );
    app.clock.advance(10 * MINUTE);
    let (status, _) = app
        .post("/api/relink", json!({"email": "anna@example.org"}))
        .await;
    assert_eq!(status, 202);
    app.mail.wait_for_letters_to("anna@example.org", 3).await;

    // A malformed address is a field error, and counts towards nothing.
    let (status, body) = app.post("/api/relink", json!({"email": "anna"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "email");
    let (status, _) = app
        .post("/api/relink", json!({"email": "petr@example.org"}))
        .await;
    assert_eq!(status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_link_is_mailed_to_known_addresses_only_and_limited() {
    on_every_backend!(anonymous a_lost_link_goes_to_the_registered_address_only);
}

async fn consents_are_versioned(app: &TestApp) {
    let forum = app.state.forum.id.clone();
    let (status, texts) = app.get("/api/texts").await;
    assert_eq!(status, 200, "{texts}");
    assert_eq!(texts["texts"][0]["kind"], "personal-data");
    assert_eq!(texts["texts"][1]["kind"], "terms");
    assert!(
        texts["texts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["version"] == 1)
    );
    let (status, terms_v1) = app.get("/api/texts/terms").await;
    assert_eq!(status, 200);
    assert!(
        terms_v1["body"]
            .as_str()
            .unwrap()
            .contains("Подтвердить участие")
    );

    let (anna, _) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    let stored = app
        .state
        .store
        .viewer(&forum, &anna)
        .await
        .unwrap()
        .unwrap();
    let v = |pd, terms| {
        Some(yavka::domain::consent::ConsentVersions {
            personal_data: pd,
            terms,
        })
    };
    assert_eq!(stored.consents, v(1, 1));

    // Only an organiser edits; a bad edit or an unknown text changes nothing.
    let edit = json!({"title": "Пользовательское соглашение", "body": "Новые правила.

## Раздел
- пункт", "base_version": 1});
    let r = app
        .http
        .put(format!("{}/api/org/texts/terms", app.base))
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.sign_in_organiser().await;
    let put = |body: Value, kind: &'static str| {
        let req = app
            .http
            .put(format!("{}/api/org/texts/{kind}", app.base))
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = put(
        json!({"title": " ", "body": "", "base_version": 1}),
        "terms",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = put(edit.clone(), "cookies").await;
    assert_eq!(status, 404);

    // The organiser saves a new agreement: version 2.
    let (status, saved) = put(edit.clone(), "terms").await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (saved["version"].as_i64(), saved["saved"].as_bool()),
        (Some(2), Some(true))
    );
    let mut unchanged = edit.clone();
    unchanged["base_version"] = json!(2);
    let (status, same) = put(unchanged, "terms").await;
    assert_eq!(
        (status, same["saved"].as_bool()),
        (200, Some(false)),
        "{same}"
    );
    let (status, stale) = put(edit.clone(), "terms").await;
    assert_eq!(status, 409, "a save on version 1 after version 2: {stale}");
    let (status, org) = app.get("/api/org/texts").await;
    assert_eq!(status, 200);
    let history = org["texts"][1]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["created_by"], "admin");
    assert!(
        !org["texts"][0]["placeholders"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A form still showing version 1 is refused for that box only, and nothing is stored.
    let mut stale_form = app
        .registration_form("Петров Пётр Петрович", "petr@example.org")
        .await;
    stale_form["consent_terms_version"] = json!(1);
    let (status, body) = app.post("/api/register", stale_form).await;
    assert_eq!(status, 422, "{body}");
    let fields = body["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "{body}");
    assert_eq!(fields[0]["field"], "consent_terms");
    assert!(
        fields[0]["message"]
            .as_str()
            .unwrap()
            .contains("редакция 2"),
        "{body}"
    );
    assert_eq!(app.state.store.viewers(&forum).await.unwrap().len(), 1);

    // A newcomer accepts version 2; Anna keeps version 1, which stays readable.
    let (petr, _) = app
        .register("Петров Пётр Петрович", "petr@example.org")
        .await;
    let stored = |id: String| {
        let store = app.state.store.clone();
        let forum = forum.clone();
        async move { store.viewer(&forum, &id).await.unwrap().unwrap().consents }
    };
    assert_eq!(stored(petr).await, v(1, 2));
    assert_eq!(stored(anna).await, v(1, 1));
    let (status, old) = app.get("/api/texts/terms?version=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        (old["body"].clone(), old["current"].as_i64()),
        (terms_v1["body"].clone(), Some(2))
    );
    let (status, body) = app.get("/api/texts/terms?version=7").await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = app.get("/api/texts/terms?version=x").await;
    assert_eq!(status, 400);

    // The organiser's CSV import records the versions current at the time.
    let csv = "name,email,phone,education,specialty\nСидорова Мария Ивановна,maria@example.org,+79161112233,higher,рентгенология\n";
    let (status, body) = app.post_csv("/api/org/viewers/import", csv).await;
    assert_eq!(status, 200, "{body}");
    let maria = body["created"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(stored(maria).await, v(1, 2));

    // The pages: the text, and a link that does not work leads to «send it again».
    let (status, page) = app.get_text("/texts/terms").await;
    assert_eq!(status, 200);
    assert!(page.contains("/assets/text.js"));
    let (status, page) = app.get_text("/watch?token=0123abcd").await;
    assert_eq!(status, 404);
    assert!(page.contains("Прислать ссылку ещё раз"), "{page}");
    let (status, page) = app.get_text("/watch").await;
    assert_eq!(status, 404);
    assert!(page.contains("relink-form"));
    let token = app.mail.token_for("petr@example.org", 1).await;
    let (status, page) = app.get_text(&format!("/watch?token={token}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("/assets/player.js"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_versions_are_stored_and_new_registrants_accept_the_new_text() {
    on_every_backend!(anonymous consents_are_versioned);
}

#[allow(dead_code)]
fn _unused(_: Value) {}

// ---- `serve --demo`: a private store that never touches another process's ----

mod demo {
    use std::io::BufRead;
    use std::path::Path;
    use std::process::Stdio;
    use std::time::Duration;

    use serde_json::{Value, json};
    use sqlx::{Connection, PgConnection};

    use super::support::TestDb;
    use super::support::process::{ServerProcess, free_port, yavka};

    /// A running demo and the organiser password it printed.
    struct Demo {
        server: ServerProcess,
        password: String,
    }

    /// `yavka serve --demo` in `dir` with `DATABASE_URL=db_url`; waits for its password line
    /// and for `/readyz`.
    async fn start_demo(dir: &Path, db_url: &str, port: u16) -> Demo {
        let mut child = yavka(dir, db_url, port)
            .args(["serve", "--demo"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the demo starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some((_, password)) = line.split_once("логин demo, пароль ") {
                    let _ = tx.send(password.trim().to_owned());
                }
            }
        });
        let server = ServerProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
        };
        let password =
            tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
                .await
                .unwrap()
                .expect("the demo prints its organiser password");
        for _ in 0..600 {
            if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
                && r.status().is_success()
            {
                return Demo { server, password };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the demo did not become ready");
    }

    /// An organiser client signed in to `demo`; panics unless the password works.
    async fn sign_in(demo: &Demo) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let r = client
            .post(format!("{}/api/org/login", demo.server.base))
            .json(&json!({"login": "demo", "password": demo.password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the demo's own password signs in");
        client
    }

    /// How many viewers the demo's store holds, once its six simulated viewers are in.
    async fn viewers(demo: &Demo, client: &reqwest::Client) -> u64 {
        let mut total = 0;
        for _ in 0..100 {
            let r = client
                .get(format!("{}/api/org/viewers?q=", demo.server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            total = r.json::<Value>().await.unwrap()["total"].as_u64().unwrap();
            if total >= 6 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        total
    }

    fn demo_databases(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("data/demo"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".db"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_demo_in_the_same_folder_never_touches_the_first_ones_store() {
        // DATABASE_URL names a store another process uses: no demo may write to it.
        let shared = TestDb::postgres().await;
        let dir = tempfile::tempdir().unwrap();
        let forum = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/forum.toml");
        std::fs::copy(forum, dir.path().join("forum.toml")).unwrap();

        let first = start_demo(dir.path(), &shared.url, free_port()).await;
        let org = sign_in(&first).await;
        assert_eq!(viewers(&first, &org).await, 6, "the demo's six viewers");

        // A second demo in the same folder, with the same DATABASE_URL, starts cleanly...
        let second = start_demo(dir.path(), &shared.url, free_port()).await;
        assert_ne!(second.password, first.password);
        sign_in(&second).await;
        assert_eq!(demo_databases(dir.path()).len(), 2, "one database each");
        // ...and the first keeps its sign-in, its password and its viewers.
        assert_eq!(viewers(&first, &org).await, 6);
        sign_in(&first).await;

        // A third one on the first one's port cannot start, and changes nothing either.
        let out = yavka(dir.path(), &shared.url, first.server.port)
            .args(["serve", "--demo"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "the port is taken");
        assert_eq!(viewers(&first, &org).await, 6);
        assert_eq!(
            demo_databases(dir.path()).len(),
            2,
            "the failed one left nothing"
        );

        // A demo stopped with Ctrl+C removes its database; one killed leaves it behind, and
        // the next demo removes it.
        let Demo { server, .. } = second;
        let pid = server.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        let mut server = server;
        let stopped = tokio::task::spawn_blocking(move || {
            let status = server.child.wait();
            (server, status)
        })
        .await
        .unwrap();
        assert!(stopped.1.unwrap().success());
        assert_eq!(demo_databases(dir.path()).len(), 1);
        let killed = demo_databases(dir.path());
        drop(first); // killed
        let next = start_demo(dir.path(), &shared.url, free_port()).await;
        sign_in(&next).await;
        let now = demo_databases(dir.path());
        assert_eq!(now.len(), 1);
        assert_ne!(now, killed, "the killed demo's database was removed");
        drop(next);

        // Nothing was ever written where DATABASE_URL points.
        let mut pg = PgConnection::connect(&shared.url).await.unwrap();
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(&mut pg)
        .await
        .unwrap();
        let _ = pg.close().await;
        assert_eq!(tables, 0, "the demo left DATABASE_URL's store alone");
        shared.drop().await;
    }
}
