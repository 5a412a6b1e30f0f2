//! «Что обо мне записано?»: a doctor downloads everything the forum stores about her, and reads
//! it as a page, on SQLite and on Postgres.
//!
//! Anna registers, watches hall 1, confirms a prompt and files an appeal. Her JSON copy holds
//! her registration with its consents, her connection and her confirm, and her appeal, and none
//! of another doctor's; her page shows the same registration fields and the rules' verdict;
//! a link that is not hers gets a Russian refusal and no data.
//!
//! Six years on, the organiser removes the forum's personal data: a purge needs the forum's id
//! typed again, masks her name and erases her e-mail and phone everywhere, is written in the
//! audit trail, and `/verify` still confirms her code, with the masked name.

mod support;

use serde_json::json;
use support::server::{TestApp, at};
use yavka::domain::log::EventBody;

async fn my_copy(app: &TestApp, backend: &str) {
    let (anna, anna_token, mut a) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let (petr, _, mut p) = app
        .join("Петров Пётр Петрович", "petr@example.org", "hall-1")
        .await;
    let first = app.planned("s1")[0];
    app.tick_at(first).await;
    a.answer().await;
    p.answer().await;
    // Appeals are filed once the session is over.
    app.clock.set(at(31));
    let (status, _) = app
        .post(
            &format!("/api/me/appeals?token={anna_token}"),
            serde_json::json!({"session": "s1", "text": "Проверьте, пожалуйста, второе окно."}),
        )
        .await;
    assert_eq!(status, 201, "{backend}: the appeal is filed");

    let (status, data) = app.get(&format!("/api/me/data?token={anna_token}")).await;
    assert_eq!(status, 200, "{backend}: {data}");
    let reg = &data["registration"];
    assert_eq!(reg["id"], anna.as_str(), "{backend}");
    assert_eq!(reg["name"], "Иванова Анна Сергеевна");
    assert_eq!(reg["email"], "anna@example.org");
    assert!(
        reg["phone"].is_string() && reg["consent_at"].is_number(),
        "{reg}"
    );
    assert!(data["about"].as_str().unwrap().contains("время"));
    let kinds: Vec<&str> = data["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["viewer", "connect", "confirm"] {
        assert!(kinds.contains(&kind), "{backend}: no {kind} in {kinds:?}");
    }
    let text = data.to_string();
    assert!(
        !text.contains(&petr) && !text.contains("petr@"),
        "{backend}: another doctor's data"
    );
    assert_eq!(data["appeals"][0]["session"], "s1", "{backend}");
    assert!(
        data["letters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "welcome")
    );

    let (status, page) = app.get_text(&format!("/my/data?token={anna_token}")).await;
    assert_eq!(status, 200, "{backend}");
    for says in [
        "Иванова Анна Сергеевна",
        "Телефон",
        "Согласия",
        "Итоги по сессиям",
    ] {
        assert!(page.contains(says), "{backend}: the page lacks «{says}»");
    }

    let (status, refused) = app.get("/api/me/data?token=not-a-link").await;
    assert_eq!(status, 401, "{backend}");
    let said: &str = refused["error"].as_str().unwrap_or_default();
    assert!(said.starts_with("Ссылка недействительна"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_downloads_and_reads_everything_stored_about_her() {
    on_every_backend!(my_copy);
}

async fn after_six_years(app: &TestApp, backend: &str) {
    let (anna, token, mut a) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    for t in app.planned("s1") {
        app.tick_at(t).await;
        a.answer().await;
    }
    app.clock.set(at(31));
    a.close().await;
    app.wait_for_log(|events| {
        events
            .iter()
            .any(|e| matches!(e.body, EventBody::Disconnect { .. }))
    })
    .await;
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(
        (status, issued["issued_now"].as_i64()),
        (200, Some(1)),
        "{backend}: {issued}"
    );
    let (_, mine) = app.get(&format!("/api/me/results?token={token}")).await;
    let code = mine["sessions"][0]["code"]
        .as_str()
        .expect("her code")
        .to_owned();

    let (_, forums) = app.get("/api/org/forums").await;
    let kept = &forums["forums"][0]["personal_data"];
    assert_eq!(kept["keep_years"], 6, "{backend}: {kept}");
    assert!(
        kept["due_local"]
            .as_str()
            .unwrap()
            .starts_with("2032-04-01"),
        "{kept}"
    );
    assert!(kept["removed_at"].is_null());

    let purge = "/api/org/forums/test-forum/personal-data/purge";
    let (status, refused) = app.post(purge, json!({})).await;
    assert_eq!(status, 400, "{backend}: {refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("впишите id форума")
    );
    let (_, still) = app.get(&format!("/api/me/data?token={token}")).await;
    assert_eq!(
        still["registration"]["email"], "anna@example.org",
        "{backend}: a refusal removes nothing"
    );

    let (status, done) = app.post(purge, json!({"confirm": "test-forum"})).await;
    assert_eq!(
        (status, done["viewers"].as_i64()),
        (200, Some(1)),
        "{backend}: {done}"
    );
    let (status, again) = app.post(purge, json!({"confirm": "test-forum"})).await;
    assert_eq!(status, 409, "{backend}: {again}");

    let (_, copy) = app.get(&format!("/api/me/data?token={token}")).await;
    let reg = &copy["registration"];
    assert_eq!(reg["name"], "И***а А. С.", "{backend}: {reg}");
    assert_eq!(reg["email"], format!("{anna}@removed.invalid"));
    assert_eq!(
        (reg["phone"].as_str(), reg["snils"].is_null()),
        (Some(""), true)
    );
    let text = copy.to_string();
    assert!(
        !text.contains("anna@example.org") && !text.contains("Иванова"),
        "{backend}: {text}"
    );

    let (status, verified) = app.get(&format!("/verify/{code}?format=json")).await;
    assert_eq!(status, 200, "{backend}: {verified}");
    assert_eq!(verified["genuine"], true, "{backend}: {verified}");
    assert_eq!(verified["holder"], "И***а А. С.");
    let (_, mine) = app.get(&format!("/api/me/results?token={token}")).await;
    assert_eq!(
        mine["sessions"][0]["result"]["eligible"], true,
        "{backend}: the verdict stays"
    );

    let (_, audit) = app.get("/api/org/audit?action=personal_data_removed").await;
    assert_eq!(
        audit["entries"].as_array().unwrap().len(),
        1,
        "{backend}: {audit}"
    );
    let (_, forums) = app.get("/api/org/forums").await;
    assert!(forums["forums"][0]["personal_data"]["removed_at"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_removed_on_demand_and_codes_still_verify() {
    on_every_backend!(after_six_years);
}
