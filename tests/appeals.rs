//! «Я был на трансляции, а кода нет»: appeals and organisers' decisions, on SQLite and on
//! Postgres.
//!
//! Session s1 of the test forum is played with two doctors: Anna confirms both prompts and
//! earns the session, Pyotr confirms one of two and does not. Pyotr appeals, the organiser
//! grants it, Pyotr gets a code, his certificate lists the session and the export marks his row;
//! then fraud is found in Anna's attendance after her code went out, and the withdrawal is
//! flagged. Every refused input is answered in Russian and changes nothing.

mod support;

use serde_json::{Value, json};
use support::server::{TestApp, Viewer, at};
use yavka::domain::appeals::MAX_APPEAL_CHARS;
use yavka::domain::log::EventBody;

struct Played {
    anna: String,
    anna_token: String,
    petr: String,
    petr_token: String,
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

/// Answered in Russian, as a sentence.
fn assert_russian(body: &Value, says: &str, who: &str) {
    let e = error(body);
    assert!(e.contains(says), "{who}: «{says}» expected in {body}");
    assert!(e.starts_with(char::is_uppercase), "{who}: {body}");
    assert!(e.chars().any(|c| ('а'..='я').contains(&c)), "{who}: {body}");
}

/// Plays s1 up to its last prompt (the session is still running when it returns).
async fn play_s1(app: &TestApp) -> (Played, Viewer, Viewer) {
    let (anna, anna_token, mut a) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let (petr, petr_token, mut p) = app
        .join("Петров Пётр Петрович", "petr@example.org", "hall-1")
        .await;
    let times = app.planned("s1");
    for (k, t) in times.into_iter().enumerate() {
        app.tick_at(t).await;
        a.answer().await;
        if k == 0 {
            p.answer().await;
        } else {
            p.expect("prompt").await;
        }
    }
    let played = Played {
        anna,
        anna_token,
        petr,
        petr_token,
    };
    (played, a, p)
}

async fn end_s1(app: &TestApp, a: Viewer, p: Viewer) {
    app.clock.set(at(31));
    a.close().await;
    p.close().await;
    app.wait_for_log(|events| {
        events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Disconnect { .. }))
            .count()
            == 2
    })
    .await;
}

async fn my_results(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get(&format!("/api/me/results?token={token}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn session<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no session {id} in {results}"))
}

async fn my_appeals(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/api/me/appeals?token={token}")).await;
    assert_eq!(status, 200, "{body}");
    body["appeals"].as_array().unwrap().clone()
}

async fn audit(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/org/audit?limit=200&action={action}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().unwrap().clone()
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let body = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn export_row(app: &TestApp, viewer: &str) -> (Vec<String>, Vec<String>) {
    let r = app
        .http
        .get(format!("{}/api/org/export.csv?session=s1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (header, rows) = read_csv(&r.bytes().await.unwrap());
    let id = header.iter().position(|h| h == "ID участника").unwrap();
    let row = rows
        .into_iter()
        .find(|r| r[id] == viewer)
        .unwrap_or_else(|| panic!("no export row of {viewer}"));
    (header, row)
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column «{name}» in {header:?}"));
    &row[i]
}

async fn the_appeal_story(app: &TestApp, backend: &str) {
    // Olga registered but her player never connected: the rules have nothing on her.
    let (olga, olga_token) = app
        .register("Сидорова Ольга Ивановна", "olga@example.org")
        .await;
    let (f, a, p) = play_s1(app).await;
    let petr_file = format!("/api/me/appeals?token={}", f.petr_token);
    let text = "Я смотрел всю сессию, второе окно не появилось — завис плеер.";

    // While s1 runs, no appeal: its result is not known yet.
    let (status, body) = app
        .post(&petr_file, json!({ "session": "s1", "text": text }))
        .await;
    assert_eq!(status, 409, "{backend}: {body}");
    assert_russian(&body, "когда сессия закончится", backend);
    end_s1(app, a, p).await;

    // Pyotr's page: s1 is over, not eligible by the rules, no decision, no appeal.
    let mine = my_results(app, &f.petr_token).await;
    let s1 = session(&mine, "s1");
    assert_eq!(s1["result"]["eligible"], false, "{backend}: {s1}");
    assert_eq!(s1["credited"], false, "{s1}");
    assert!(s1["decision"].is_null() && s1["appeal"].is_null(), "{s1}");

    // Refused inputs, each with its sentence, and nothing stored.
    let refusals = [
        (
            json!({ "session": "s1", "text": "   " }),
            400,
            "Напишите, что произошло",
        ),
        (
            json!({ "session": "s1", "text": "я".repeat(MAX_APPEAL_CHARS + 1) }),
            400,
            "слишком длинное",
        ),
        (json!({ "session": "s9", "text": text }), 404, "Сессии «s9»"),
    ];
    for (form, expected, says) in refusals {
        let (status, body) = app.post(&petr_file, form.clone()).await;
        assert_eq!(status, expected, "{backend}: {form} → {body}");
        assert_russian(&body, says, backend);
    }
    let (status, body) = app
        .post(
            "/api/me/appeals?token=not-a-token",
            json!({ "session": "s1", "text": text }),
        )
        .await;
    assert_eq!(status, 401, "{backend}: {body}");
    assert_russian(&body, "Ссылка недействительна", backend);
    // Anna earned s1: nothing to appeal.
    let (status, body) = app
        .post(
            &format!("/api/me/appeals?token={}", f.anna_token),
            json!({ "session": "s1", "text": text }),
        )
        .await;
    assert_eq!(status, 409, "{backend}: {body}");
    assert_russian(&body, "засчитана", backend);
    assert!(my_appeals(app, &f.petr_token).await.is_empty(), "{backend}");
    assert!(my_appeals(app, &f.anna_token).await.is_empty(), "{backend}");

    // Pyotr files one appeal; a second is refused; he edits the first while it waits.
    let (status, filed) = app
        .post(&petr_file, json!({ "session": "s1", "text": "черновик" }))
        .await;
    assert_eq!(status, 201, "{backend}: {filed}");
    assert_eq!(filed["state"], "open", "{filed}");
    let id = filed["id"].as_i64().unwrap();
    let (status, body) = app
        .post(&petr_file, json!({ "session": "s1", "text": text }))
        .await;
    assert_eq!(status, 409, "{backend}: {body}");
    assert_russian(&body, "уже есть обращение", backend);
    let edit = format!("/api/me/appeals/{id}?token={}", f.petr_token);
    let (status, body) = app.post(&edit, json!({ "text": "" })).await;
    assert_eq!(status, 400, "{backend}: {body}");
    let anna_edit = format!("/api/me/appeals/{id}?token={}", f.anna_token);
    let (status, body) = app.post(&anna_edit, json!({ "text": "чужое" })).await;
    assert_eq!(status, 404, "{backend}: someone else's appeal: {body}");
    let (status, edited) = app.post(&edit, json!({ "text": text })).await;
    assert_eq!(status, 200, "{backend}: {edited}");
    let appeals = my_appeals(app, &f.petr_token).await;
    assert_eq!(appeals.len(), 1, "{backend}: {appeals:?}");
    assert_eq!(appeals[0]["text"], text, "{backend}");

    // The organiser's queue: the appeal with the rules' verdict and the evidence beside it.
    let (status, queue) = app.get("/api/org/appeals").await;
    assert_eq!(status, 200, "{backend}: {queue}");
    assert_eq!(queue["open"], 1, "{queue}");
    let row = &queue["appeals"][0];
    assert_eq!(row["viewer_name"], "Петров Пётр Петрович", "{row}");
    assert_eq!(row["session_title"], "Первая сессия", "{row}");
    assert_eq!(row["text"], text, "{row}");
    assert_eq!(row["rules"]["eligible"], false, "{row}");
    assert_eq!(
        row["evidence"],
        format!("/api/org/viewers/{}/report", f.petr),
        "{row}"
    );

    // An answer needs a reason; without one nothing changes.
    let answer_path = format!("/api/org/appeals/{id}/answer");
    let (status, body) = app
        .post(&answer_path, json!({ "grant": true, "reason": "  " }))
        .await;
    assert_eq!(status, 400, "{backend}: {body}");
    assert_russian(&body, "Укажите причину", backend);
    assert_eq!(my_appeals(app, &f.petr_token).await[0]["state"], "open");
    let reason = "Сбой плеера подтверждён журналом подключений";
    let (status, body) = app
        .post(&answer_path, json!({ "grant": true, "reason": reason }))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let (status, body) = app
        .post(
            &answer_path,
            json!({ "grant": false, "reason": "передумали" }),
        )
        .await;
    assert_eq!(status, 409, "{backend}: answered once: {body}");
    let (status, body) = app.post(&edit, json!({ "text": "ещё" })).await;
    assert_eq!(status, 409, "{backend}: closed once answered: {body}");

    // Pyotr sees the answer on his page and in a letter with a link back to it.
    let mine = my_results(app, &f.petr_token).await;
    let s1 = session(&mine, "s1");
    assert_eq!(
        s1["result"]["eligible"], false,
        "the rules' verdict is kept: {s1}"
    );
    assert_eq!(s1["credited"], true, "{backend}: the decision wins: {s1}");
    assert_eq!(s1["decision"]["reason"], reason, "{s1}");
    assert_eq!(s1["appeal"]["answer"]["grant"], true, "{s1}");
    assert_eq!(s1["appeal"]["answer"]["reason"], reason, "{s1}");
    let letters = app.mail.wait_for_letters_to("petr@example.org", 2).await;
    let letter = letters.last().unwrap();
    assert!(
        letter.subject().starts_with("Ответ на обращение"),
        "{}",
        letter.subject()
    );
    assert!(letter.text().contains(reason), "{}", letter.text());
    let text = letter.text();
    let start = text.find("/my?token=").expect("a link to his page") + "/my?token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(
        session(&my_results(app, &token).await, "s1")["credited"],
        true,
        "{backend}: the letter's link opens his page"
    );

    // Olga's player failed her altogether: her appeal is granted too.
    let (status, filed) = app
        .post(
            &format!("/api/me/appeals?token={olga_token}"),
            json!({ "session": "s1", "text": "Плеер не открылся вовсе" }),
        )
        .await;
    assert_eq!(status, 201, "{backend}: {filed}");
    let (status, body) = app
        .post(
            &format!("/api/org/appeals/{}/answer", filed["id"]),
            json!({ "grant": true, "reason": "Сбой плеера" }),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {body}");

    // Codes follow the decision; the certificate lists s1; the export marks the row.
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{backend}: {issued}");
    assert_eq!(
        issued["issued_now"], 3,
        "{backend}: Anna by the rules, Pyotr and Olga by decision"
    );
    // Olga has no result from the rules, yet the commission's file lists her code, with why.
    let (header, row) = export_row(app, &olga).await;
    assert_eq!(
        cell(&header, &row, "Засчитано минут"),
        "0",
        "{backend}: {row:?}"
    );
    assert_eq!(cell(&header, &row, "Условия выполнены"), "да", "{row:?}");
    assert!(!cell(&header, &row, "Код НМО").is_empty(), "{row:?}");
    assert_eq!(
        cell(&header, &row, "Решение организатора"),
        "решение организатора: засчитано — Сбой плеера (по правилам: условия не выполнены)"
    );
    let (_, summary) = app.get("/api/org/summary?session=s1").await;
    let total = &summary["sessions"][0]["total"];
    assert_eq!(
        total["attended"], 2,
        "{backend}: Olga did not attend: {summary}"
    );
    assert_eq!(
        total["eligible"], 3,
        "{backend}: but her session counts: {summary}"
    );
    assert_eq!(total["codes"], 3, "{backend}: {summary}");
    let petr_code = session(&my_results(app, &f.petr_token).await, "s1")["code"].clone();
    assert!(petr_code.is_string(), "{backend}: {petr_code}");
    let certified = app
        .state
        .store
        .certified_codes(&app.state.forum.id, &f.petr)
        .await
        .unwrap();
    assert_eq!(
        certified,
        [("s1".to_owned(), petr_code.as_str().unwrap().to_owned())]
    );
    let r = app
        .http
        .get(format!(
            "{}/api/org/viewers/{}/certificate.pdf",
            app.base, f.petr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{backend}: his certificate");
    let (header, row) = export_row(app, &f.petr).await;
    assert_eq!(
        cell(&header, &row, "Условия выполнены"),
        "да",
        "{backend}: {row:?}"
    );
    assert_eq!(
        cell(&header, &row, "Решение организатора"),
        format!("решение организатора: засчитано — {reason} (по правилам: условия не выполнены)")
    );
    assert_eq!(cell(&header, &row, "Код НМО"), petr_code.as_str().unwrap());
    // The results table says the same in its one result column, the decision as the last reason.
    let (_, csv) = app.get_text("/api/org/results.csv?session=s1").await;
    let line = csv.lines().find(|l| l.contains(&f.petr)).unwrap();
    assert!(
        line.contains("Решение организатора от") && line.contains(reason),
        "{backend}: {line}"
    );
    let (_, report) = app
        .get_text(&format!("/api/org/viewers/{}/report", f.petr))
        .await;
    assert!(report.contains("Решение организатора"), "{backend}");
    assert!(
        report.contains(&format!("Засчитано — {reason}")),
        "{backend}"
    );

    // Every action left its audit entry.
    let answered = audit(app, "appeal_answered").await;
    assert_eq!(answered.len(), 2, "{backend}: {answered:?}");
    let petr_answer = answered.last().unwrap();
    assert_eq!(petr_answer["actor"], "admin");
    assert_eq!(petr_answer["details"]["appeal"], id);
    assert_eq!(petr_answer["details"]["grant"], true);
    assert!(
        petr_answer["description"]
            .as_str()
            .unwrap()
            .contains(reason)
    );
    assert_eq!(audit(app, "codes_issued").await.len(), 1, "{backend}");

    withdrawn_after_the_code(app, &f, backend).await;
}

/// Fraud found in Anna's attendance after her code went out: the withdrawal wins, and it is
/// flagged, since a sent code cannot be taken back.
async fn withdrawn_after_the_code(app: &TestApp, f: &Played, backend: &str) {
    let base = json!({ "viewer": f.anna, "session": "s1", "outcome": "withdraw" });
    for (patch, expected, says) in [
        (json!({ "reason": "" }), 400, "Укажите причину"),
        (json!({ "reason": "x", "outcome": "maybe" }), 400, "grant"),
        (
            json!({ "reason": "x", "viewer": "v-nobody" }),
            404,
            "Участника",
        ),
        (json!({ "reason": "x", "session": "s9" }), 404, "Сессии"),
    ] {
        let mut form = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            form[k] = v.clone();
        }
        let (status, body) = app.post("/api/org/decisions", form.clone()).await;
        assert_eq!(status, expected, "{backend}: {form} → {body}");
        assert_russian(&body, says, backend);
    }
    let (_, list) = app.get("/api/org/decisions").await;
    assert_eq!(
        list["decisions"].as_array().unwrap().len(),
        2,
        "{backend}: {list}"
    );

    let mut form = base.clone();
    form["reason"] = json!("Одна и та же машина подтверждала за трёх участников");
    let (status, body) = app.post("/api/org/decisions", form).await;
    assert_eq!(status, 201, "{backend}: {body}");
    assert_eq!(body["code_issued_withdrawn"], true, "{body}");
    assert!(
        body["warning"].as_str().unwrap().contains("код уже выдан"),
        "{body}"
    );

    let (_, results) = app.get("/api/org/results?session=s1").await;
    let anna = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["viewer"] == f.anna.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        anna["eligible"], true,
        "{backend}: the rules' verdict kept: {anna}"
    );
    assert_eq!(anna["credited"], false, "{anna}");
    assert_eq!(anna["code_issued_withdrawn"], true, "{anna}");
    assert_eq!(anna["decision"]["outcome"], "withdraw", "{anna}");

    // Her page says so; her certificate no longer vouches for s1; the export row follows.
    let s1 = session(&my_results(app, &f.anna_token).await, "s1").clone();
    assert_eq!(s1["credited"], false, "{backend}: {s1}");
    let r = app
        .http
        .get(format!(
            "{}/api/org/viewers/{}/certificate.pdf",
            app.base, f.anna
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        404,
        "{backend}: no certified code left"
    );
    let (header, row) = export_row(app, &f.anna).await;
    assert_eq!(
        cell(&header, &row, "Условия выполнены"),
        "нет",
        "{backend}: {row:?}"
    );
    assert!(
        cell(&header, &row, "Решение организатора")
            .starts_with("решение организатора: не засчитано — Одна и та же машина"),
        "{row:?}"
    );
    // Issuing again gives her nothing new and takes nothing back.
    let (_, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(issued["issued_now"], 0, "{backend}: {issued}");

    let decided = audit(app, "decision_recorded").await;
    assert_eq!(
        decided.len(),
        1,
        "{backend}: refused ones leave none: {decided:?}"
    );
    assert_eq!(decided[0]["details"]["code_issued"], true, "{decided:?}");
    let (_, list) = app.get("/api/org/decisions").await;
    let rows = list["decisions"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{backend}: {list}");
    assert_eq!(rows[0]["outcome"], "withdraw", "newest first: {list}");
    assert_eq!(rows[0]["code_issued_withdrawn"], true, "{list}");
    assert!(
        rows[1]["appeal"].is_number(),
        "the grant answered the appeal: {list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appeal_grant_code_certificate_export_and_a_late_withdrawal() {
    on_every_backend!(the_appeal_story);
}
