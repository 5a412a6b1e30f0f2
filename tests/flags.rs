//! «Требуют внимания»: a script that answers prompts straight through the websocket is flagged;
//! a person on the player page is not; two colleagues answering from one browser are; the
//! organiser notes that she checked, and the note is in the audit trail. On SQLite and Postgres.
//!
//! The server's clock is the test's: a prompt written at `t` and answered at `t` took 0 ms, one
//! answered after the test moved the clock 1.8 s took 1,800 ms, as the server measures it.

mod support;

use serde_json::{Value, json};
use support::server::{TestApp, Viewer, at};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use yavka::domain::log::EventBody;

/// A tab of the player page: the page is loaded first (its cookie), then the socket opens with
/// the cookie and a browser's name, as a browser would.
async fn page_tab(app: &TestApp, token: &str, browser: &str) -> Viewer {
    let page = reqwest::Client::new()
        .get(format!("{}/watch?token={token}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get("set-cookie")
        .expect("the player page sets its cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("yavka_page="), "{cookie}");
    let mut request = format!("ws://127.0.0.1:{}/ws?token={token}&hall=hall-1", app.port)
        .into_client_request()
        .unwrap();
    let h = request.headers_mut();
    h.insert("cookie", HeaderValue::from_str(&cookie).unwrap());
    h.insert("user-agent", HeaderValue::from_str(browser).unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut tab = Viewer { ws };
    tab.expect("welcome").await;
    tab
}

/// A person's click, as the player page reports it.
fn clicked() -> Value {
    json!({"trusted": true, "input": "pointer", "visible": true, "focused": true, "rendered": true})
}

async fn answer_as_page(tab: &mut Viewer, prompt: &Value) {
    let answer = prompt["challenge"]["ask"].clone();
    tab.send(
        json!({"type": "confirm", "prompt": prompt["id"], "answer": answer, "hints": clicked()}),
    )
    .await;
    assert_eq!(tab.expect("confirmed").await["prompt"], prompt["id"]);
}

async fn fire(app: &TestApp) {
    let (status, fired) = app
        .post("/api/org/prompts", json!({"hall": "hall-1"}))
        .await;
    assert_eq!(status, 200, "{fired}");
}

fn reasons(flag: &Value) -> Vec<&str> {
    flag["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect()
}

async fn flags_story(app: &TestApp, backend: &str) {
    app.clock.set(at(1));
    let (bot, bot_token) = app
        .register("Скриптов Бот Ботович", "bot@example.org")
        .await;
    let (anna, anna_token) = app
        .register("Иванова Анна Сергеевна", "anna@example.org")
        .await;
    let (petr, petr_token) = app
        .register("Петров Пётр Петрович", "petr@example.org")
        .await;
    let (olga, olga_token) = app
        .register("Сидорова Ольга Ивановна", "olga@example.org")
        .await;
    // The bot skips the page: a bare socket, no cookie, no browser name, no hints.
    let mut b = app.connect(&bot_token, "hall-1").await;
    b.expect("welcome").await;
    let mut a = page_tab(app, &anna_token, "Mozilla/5.0 (Anna) Firefox/140.0").await;
    // Two colleagues on one computer: one address, one browser.
    let mut p = page_tab(app, &petr_token, "Mozilla/5.0 (Shared PC) Chrome/141.0").await;
    let mut o = page_tab(app, &olga_token, "Mozilla/5.0 (Shared PC) Chrome/141.0").await;

    for round in 0..3 {
        fire(app).await;
        let pb = b.expect("prompt").await;
        let pa = a.expect("prompt").await;
        let pp = p.expect("prompt").await;
        let po = o.expect("prompt").await;
        // The bot answers the instant the prompt arrives.
        b.confirm(&pb).await;
        assert_eq!(b.expect("confirmed").await["prompt"], pb["id"]);
        // Let every socket's writer note its prompt before the clock moves on.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        app.clock.advance(1_800);
        answer_as_page(&mut a, &pa).await;
        answer_as_page(&mut p, &pp).await;
        app.clock.advance(3_000);
        answer_as_page(&mut o, &po).await;
        app.clock.advance(60_000 + round);
    }

    // The log keeps the evidence beside each confirm and connect.
    let events = app
        .state
        .store
        .events(&app.state.forum.id, None)
        .await
        .unwrap();
    let timed: Vec<(String, i64)> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Confirm { viewer, .. } => {
                Some((viewer.to_string(), e.evidence.as_ref()?.reaction_ms?))
            }
            _ => None,
        })
        .collect();
    assert!(
        timed.iter().any(|(v, ms)| *v == bot && *ms < 100),
        "{backend}: {timed:?}"
    );
    assert!(
        timed.iter().any(|(v, ms)| *v == anna && *ms >= 1_800),
        "{backend}: {timed:?}"
    );
    let anna_connect = events
        .iter()
        .find(|e| matches!(&e.body, EventBody::Connect { viewer, .. } if *viewer == anna))
        .and_then(|e| e.evidence.clone())
        .expect("Anna's connect carries evidence");
    assert_eq!(anna_connect.page_loaded, Some(true), "{backend}");
    assert_eq!(anna_connect.address.as_deref(), Some("127.0.0.1"));
    assert!(anna_connect.browser.unwrap().contains("Firefox"));

    let (status, list) = app.get("/api/org/flags").await;
    assert_eq!(status, 200, "{backend}: {list}");
    let flagged: Vec<&Value> = list["flags"].as_array().unwrap().iter().collect();
    let of = |id: &str| flagged.iter().find(|f| f["viewer"] == id).copied();
    let bot_flag = of(&bot).expect("the script is flagged");
    assert_eq!(
        reasons(bot_flag),
        ["fast", "untrusted", "no_page"],
        "{backend}: {bot_flag}"
    );
    assert_eq!(bot_flag["name"], "Скриптов Бот Ботович");
    let fast = &bot_flag["reasons"][0];
    assert_eq!(fast["fast"], 3);
    assert!(fast["text"].as_str().unwrap().contains("3 из 3"), "{fast}");
    assert!(
        bot_flag["reasons"][1]["text"]
            .as_str()
            .unwrap()
            .contains("подсказка"),
        "the words say page hints are hints: {bot_flag}"
    );
    assert!(
        of(&anna).is_none(),
        "{backend}: a person on the page is not flagged: {list}"
    );
    for (who, other) in [(&petr, &olga), (&olga, &petr)] {
        let f = of(who).expect("colleagues on one browser are flagged");
        assert_eq!(reasons(f), ["shared_device"], "{backend}: {f}");
        assert_eq!(f["reasons"][0]["others"], json!([other]));
    }
    // Words name people and prompts as a person knows them, not by ids.
    let petr_words = of(&petr).unwrap()["reasons"][0]["text"].as_str().unwrap();
    assert!(
        petr_words.contains("Сидорова Ольга Ивановна"),
        "{backend}: {petr_words}"
    );
    assert!(
        petr_words.contains("окно 01.04.2026 10:01:"),
        "{backend}: {petr_words}"
    );
    assert_eq!(list["total"], 3);
    assert_eq!(list["counts"]["fast"], 1);
    assert_eq!(list["counts"]["shared_device"], 2);
    assert_eq!(list["reviewed"], 0);

    // The organiser's report on the bot names the same flags.
    let (status, report) = app
        .get_text(&format!("/api/org/viewers/{bot}/report"))
        .await;
    assert_eq!(status, 200);
    assert!(report.contains("Требуют внимания") && report.contains("Слишком быстрые ответы"));
    let (_, anna_report) = app
        .get_text(&format!("/api/org/viewers/{anna}/report"))
        .await;
    assert!(anna_report.contains("Признаков нет."), "{backend}");

    // She checks, and notes it; an empty note or a viewer with nothing to check is refused.
    let review = |id: &str| format!("/api/org/flags/{id}/review");
    let (status, body) = app.post(&review(&bot), json!({"note": "  "})).await;
    assert_eq!(status, 400, "{backend}: {body}");
    assert!(body["error"].as_str().unwrap().contains("Напишите"));
    let (status, body) = app.post(&review(&anna), json!({"note": "проверила"})).await;
    assert_eq!(status, 409, "{backend}: {body}");
    let note = "Ответы за 0 мс без страницы: скрипт. Сессия не засчитана решением.";
    let (status, body) = app.post(&review(&bot), json!({"note": note})).await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (_, list) = app.get("/api/org/flags").await;
    let bot_flag = list["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["viewer"] == bot.as_str())
        .unwrap();
    assert_eq!(bot_flag["review"]["note"], note);
    assert_eq!(bot_flag["reviews"], 1);
    assert_eq!(list["reviewed"], 1);
    let (_, audit) = app.get("/api/org/audit?action=flag_reviewed").await;
    assert!(audit.to_string().contains("скрипт"), "{backend}: {audit}");

    for tab in [b, a, p, o] {
        tab.close().await;
    }
}

#[tokio::test]
async fn a_script_is_flagged_a_person_is_not() {
    on_every_backend!(flags_story);
}

/// A script that sends its own hints (it can) is still timed by the server, and a socket with
/// no page cookie is still one that never loaded the page.
async fn forged_hints_story(app: &TestApp, backend: &str) {
    app.clock.set(at(1));
    let (bot, token) = app.register("Подделкин Иван", "forger@example.org").await;
    let mut b = app.connect(&token, "hall-1").await;
    b.expect("welcome").await;
    for _ in 0..3 {
        fire(app).await;
        let prompt = b.expect("prompt").await;
        answer_as_page(&mut b, &prompt).await;
        app.clock.advance(60_000);
    }
    let (_, list) = app.get("/api/org/flags").await;
    let f = list["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["viewer"] == bot.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{backend}: forged hints still flagged: {list}"));
    assert_eq!(reasons(&f), ["fast", "no_page"], "{backend}: {f}");
    b.close().await;
}

#[tokio::test]
async fn forged_hints_do_not_hide_a_script() {
    on_every_backend!(forged_hints_story);
}
