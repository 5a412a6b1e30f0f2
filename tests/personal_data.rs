//! «Что обо мне записано?»: a doctor downloads everything the forum stores about her, and reads
//! it as a page, on SQLite and on Postgres.
//!
//! Anna registers, watches hall 1, confirms a prompt and files an appeal. Her JSON copy holds
//! her registration with its consents, her connection and her confirm, and her appeal, and none
//! of another doctor's; her page shows the same registration fields and the rules' verdict;
//! a link that is not hers gets a Russian refusal and no data.

mod support;

use support::server::{TestApp, at};

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
