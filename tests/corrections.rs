//! A correction after an outage, on SQLite and on Postgres.
//!
//! Session s1 (10:00–10:30, both prompts required) is played by five doctors. The stream
//! fails when the second prompt fires: Anna still confirms it, Boris, Vera and Gleb never see
//! it, and Dmitry, who confirmed nothing, was not really watching. The administrator previews
//! voiding the second prompt (exactly the three it rescues are listed), saves it with a reason,
//! and every page then gives those three their credit: results, evidence, their own page and
//! the commission's export; the audit trail has the entry; bad corrections are refused with
//! nothing saved; and `export-log --decisions` with `evaluate --decisions` equals the server.

mod support;

use serde_json::{Value, json};
use support::TestDb;
use support::offline::{evaluate_offline, verdict_fields};
use support::process::run_ok;
use support::server::{TEST_FORUM, TestApp, at};
use yavka::domain::log::EventBody;

struct Played {
    anna: String,
    rescued: Vec<String>,
    rescued_tokens: Vec<String>,
    dmitry: String,
}

/// Plays s1 as the module comment tells, closes every tab after the session.
async fn play(app: &TestApp) -> Played {
    let names = [
        ("Иванова Анна Сергеевна", "anna@example.org"),
        ("Борисов Борис Борисович", "boris@example.org"),
        ("Викторова Вера Павловна", "vera@example.org"),
        ("Глебов Глеб Олегович", "gleb@example.org"),
        ("Дмитриев Дмитрий Ильич", "dmitry@example.org"),
    ];
    let mut people = Vec::new();
    for (name, email) in names {
        people.push(app.join(name, email, "hall-1").await);
    }
    let times = app.planned("s1");
    assert_eq!(times.len(), 2);
    for (k, t) in times.into_iter().enumerate() {
        app.tick_at(t).await;
        for (i, (_, _, tab)) in people.iter_mut().enumerate() {
            let prompt = tab.expect("prompt").await;
            // Everyone but Dmitry answers the first; only Anna the second (the outage).
            if (k == 0 && i < 4) || (k == 1 && i == 0) {
                tab.confirm(&prompt).await;
                tab.expect("confirmed").await;
            }
        }
    }
    app.clock.set(at(31));
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for (id, token, tab) in people {
        tab.close().await;
        ids.push(id);
        tokens.push(token);
    }
    app.wait_for_log(|events| {
        events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Disconnect { .. }))
            .count()
            == 5
    })
    .await;
    Played {
        anna: ids[0].clone(),
        rescued: ids[1..4].to_vec(),
        rescued_tokens: tokens[1..4].to_vec(),
        dmitry: ids[4].clone(),
    }
}

/// Viewer id → eligible, for s1, from the organiser's results.
async fn eligible(app: &TestApp) -> Vec<(String, bool)> {
    let (status, body) = app.get("/api/org/results?session=s1").await;
    assert_eq!(status, 200, "{body}");
    let mut rows: Vec<(String, bool)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["viewer"].as_str().unwrap().to_owned(),
                r["eligible"] == true,
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn saved_count(app: &TestApp) -> usize {
    let (status, body) = app.get("/api/org/corrections").await;
    assert_eq!(status, 200, "{body}");
    body["corrections"].as_array().unwrap().len()
}

async fn audit_entries(app: &TestApp) -> Vec<Value> {
    let (status, body) = app
        .get("/api/org/audit?action=correction_recorded&limit=50")
        .await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().unwrap().clone()
}

fn error_fields(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn outage_story(app: &TestApp, backend: &str) {
    let p = play(app).await;

    // The prompts of the finished session, as the dashboard offers them.
    let (_, listing) = app.get("/api/org/corrections").await;
    let s1 = listing["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "s1")
        .unwrap_or_else(|| panic!("{backend}: s1 has ended: {listing}"))
        .clone();
    let prompts = s1["prompts"].as_array().unwrap();
    assert_eq!(prompts.len(), 2, "{backend}: {s1}");
    let second = prompts[1]["id"].as_str().unwrap().to_owned();
    let s2_prompt = listing["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "s2")
        .and_then(|s| s["prompts"][0]["id"].as_str().map(str::to_owned));

    let before = eligible(app).await;
    let yes: Vec<&str> = before
        .iter()
        .filter(|(_, e)| *e)
        .map(|(v, _)| v.as_str())
        .collect();
    assert_eq!(yes, [p.anna.as_str()], "{backend}: only Anna before");

    // Bad corrections: refused with the field named, nothing saved, nothing audited.
    let void = |prompt: &str, reason: &str| json!({ "session": "s1", "change": "void_prompt", "prompt": prompt, "reason": reason });
    let exclude = |from: &str, to: &str| json!({ "session": "s1", "change": "exclude", "from": from, "to": to, "reason": "Сбой" });
    let mut bad = vec![
        (void(&second, "   "), "reason"),
        (void(&second, &"я".repeat(2001)), "reason"),
        (void("no-such-prompt", "Сбой"), "prompt"),
        (exclude("10:20", "10:10"), "to"),
        (exclude("09:50", "10:10"), "from"),
        (exclude("10:10", "10:45"), "to"),
        (exclude("десять", "10:20"), "from"),
        (
            json!({ "session": "nope", "change": "void_prompt", "prompt": second, "reason": "Сбой" }),
            "session",
        ),
        (
            json!({ "session": "s1", "change": "rewrite", "reason": "Сбой" }),
            "change",
        ),
    ];
    if let Some(other) = &s2_prompt {
        // A prompt of another hall's session.
        bad.push((void(other, "Сбой"), "prompt"));
    }
    for (body, field) in &bad {
        for path in ["/api/org/corrections/preview", "/api/org/corrections"] {
            let (status, answer) = app.post(path, body.clone()).await;
            assert_eq!(status, 422, "{backend}: {path} {body}: {answer}");
            assert!(
                error_fields(&answer).iter().any(|f| f == field),
                "{backend}: {path} {body} names {field}: {answer}"
            );
        }
    }
    assert_eq!(saved_count(app).await, 0, "{backend}");
    assert!(audit_entries(app).await.is_empty(), "{backend}");
    assert_eq!(eligible(app).await, before, "{backend}");

    // The preview lists exactly the three it rescues, and saves nothing.
    let (status, preview) = app
        .post(
            "/api/org/corrections/preview",
            void(&second, "Сбой трансляции в 10:20"),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {preview}");
    let mut listed: Vec<String> = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["viewer"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut rescued = p.rescued.clone();
    rescued.sort();
    assert_eq!(listed, rescued, "{backend}: {preview}");
    assert_eq!(preview["counts"]["changed"], 3, "{backend}");
    assert_eq!(preview["counts"]["granted"], 3, "{backend}");
    assert_eq!(preview["counts"]["eligible_before"], 1, "{backend}");
    assert_eq!(preview["counts"]["eligible_after"], 4, "{backend}");
    let first = &preview["changes"][0];
    assert_eq!(first["before"]["eligible"], false, "{first}");
    assert_eq!(first["after"]["eligible"], true, "{first}");
    assert!(first["name"].as_str().is_some(), "{first}");
    assert_eq!(
        saved_count(app).await,
        0,
        "{backend}: a preview saves nothing"
    );
    assert_eq!(eligible(app).await, before, "{backend}");

    // Saved: the three verdicts change everywhere.
    let (status, saved) = app
        .post(
            "/api/org/corrections",
            void(&second, "Сбой трансляции в 10:20"),
        )
        .await;
    assert_eq!(status, 200, "{backend}: {saved}");
    assert_eq!(saved["correction"]["by"], "admin", "{saved}");
    let text = saved["text"].as_str().unwrap();
    assert!(
        text.starts_with("Поправка от 01.04.2026: окно подтверждения в ")
            && text.ends_with("не учитывается ни для кого — причина: Сбой трансляции в 10:20"),
        "{text}"
    );
    let after = eligible(app).await;
    for (v, e) in &after {
        assert_eq!(*e, *v != p.dmitry, "{backend}: {v} after the correction");
    }

    // Results carry the correction in their reasons.
    let (_, results) = app.get("/api/org/results?session=s1").await;
    let row = results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["viewer"] == p.rescued[0].as_str())
        .unwrap()
        .clone();
    assert_eq!(row["required"], 1, "{row}");
    assert_eq!(
        row["confirmations"], "Подтверждено 1 из 1 показанных (нужно 1)",
        "{row}"
    );
    assert_eq!(
        row["reasons"].as_array().unwrap().last().unwrap()["text"],
        text,
        "{row}"
    );

    // Evidence: the verdict and the voided prompt's own status.
    let (status, ev) = app
        .get(&format!("/api/org/viewers/{}/evidence", p.rescued[1]))
        .await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!(ev["sessions"][0]["eligible"], true, "{backend}: {ev}");
    assert_eq!(ev["sessions"][0]["voided"], json!([second]), "{ev}");
    let voided = ev["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["prompt"] == second.as_str())
        .unwrap();
    assert_eq!(voided["status"], "voided", "{voided}");
    assert_eq!(
        voided["label"], "Не учитывается ни для кого: поправка от 01.04.2026",
        "{voided}"
    );
    let (status, report) = app
        .get_text(&format!("/api/org/viewers/{}/report", p.rescued[1]))
        .await;
    assert_eq!(status, 200);
    assert!(report.contains("не учитывается ни для кого"), "{backend}");

    // The doctor's own page.
    let (status, mine) = app
        .get(&format!("/api/me/results?token={}", p.rescued_tokens[2]))
        .await;
    assert_eq!(status, 200, "{mine}");
    let s1 = mine["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "s1")
        .unwrap();
    assert_eq!(s1["result"]["eligible"], true, "{backend}: {s1}");
    assert_eq!(s1["prompts_required"], 1, "{s1}");

    // The commission's export.
    let (status, csv) = app
        .get_text("/api/org/export.csv?session=s1&delimiter=%3B")
        .await;
    assert_eq!(status, 200);
    for v in &p.rescued {
        let line = csv.lines().find(|l| l.contains(v.as_str())).unwrap();
        assert!(line.contains(";да;"), "{backend}: {line}");
        assert!(line.contains("Не учитывается ни для кого"), "{line}");
    }

    // The audit trail: one entry, naming the three.
    let entries = audit_entries(app).await;
    assert_eq!(entries.len(), 1, "{backend}: {entries:?}");
    let e = &entries[0];
    assert_eq!(e["actor"], "admin", "{e}");
    let mut changed: Vec<String> = e["details"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    changed.sort();
    assert_eq!(changed, rescued, "{e}");
    assert!(
        e["description"]
            .as_str()
            .unwrap()
            .starts_with("Поправка к сессии «Первая сессия»"),
        "{e}"
    );
    assert_eq!(saved_count(app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_after_an_outage_is_previewed_saved_and_shown_everywhere() {
    for db in TestDb::all().await {
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        outage_story(&app, db.backend).await;
        app.stop().await;
        db.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_not_yet_over_cannot_be_corrected() {
    let db = TestDb::sqlite();
    let app = TestApp::spawn(&db.url).await;
    app.sign_in_organiser().await;
    app.clock.set(at(10));
    let body = json!({ "session": "s1", "change": "exclude", "from": "10:05", "to": "10:08",
                       "reason": "Сбой" });
    let (status, answer) = app.post("/api/org/corrections", body).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(error_fields(&answer), ["session"], "{answer}");
    assert!(
        answer["fields"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Сессия ещё не закончилась"),
        "{answer}"
    );
    assert_eq!(saved_count(&app).await, 0);
    app.stop().await;
    db.drop().await;
}

/// `export-log --decisions` and `evaluate --decisions` on the exported files give what the
/// server gives: corrections in the rules, and organisers' decisions beside the verdicts (a
/// withdrawal of Anna's credit and a grant to Dmitry, whom no correction rescues).
async fn offline_equals_server(app: &TestApp, backend: &str, db_url: &str) {
    let p = play(app).await;
    let (_, listing) = app.get("/api/org/corrections").await;
    let second = listing["sessions"][0]["prompts"][1]["id"].clone();
    for body in [
        json!({ "session": "s1", "change": "void_prompt", "prompt": second, "reason": "Сбой" }),
        json!({ "session": "s1", "change": "exclude", "from": "10:25", "to": "10:28",
                "reason": "Переподключение зала" }),
    ] {
        let (status, answer) = app.post("/api/org/corrections", body).await;
        assert_eq!(status, 200, "{backend}: {answer}");
    }
    for (viewer, outcome) in [(&p.anna, "withdraw"), (&p.dmitry, "grant")] {
        let form = json!({ "viewer": viewer, "session": "s1", "outcome": outcome,
                           "reason": "Проверено по журналу провайдера" });
        let (status, answer) = app.post("/api/org/decisions", form).await;
        assert_eq!(status, 201, "{backend}: {answer}");
    }
    let (_, served) = app.get("/api/org/results").await;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let offline = evaluate_offline(d, db_url, TEST_FORUM, true);
    let lines = std::fs::read_to_string(d.join("decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4, "{backend}: {lines}");
    let fields = |r: &Value| {
        let mut f = verdict_fields(r);
        f.extend([
            r["credited"].clone(),
            r["decision"]["outcome"].clone(),
            r["decision"]["reason"].clone(),
        ]);
        Value::from(f)
    };
    let served: Vec<Value> = served["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(fields)
        .collect();
    let offline: Vec<Value> = offline.as_array().unwrap().iter().map(fields).collect();
    assert_eq!(offline, served, "{backend}");
    assert!(
        served.iter().filter(|r| r[8] == true).count() >= 4,
        "{backend}: the corrections rescued Boris, Vera and Gleb: {served:?}"
    );
    let s1 = |id: &String| {
        served
            .iter()
            .find(|r| r[0] == json!(id) && r[1] == "s1")
            .cloned()
            .unwrap()
    };
    // Anna met the conditions but her credit is withdrawn; Dmitry did not, and is granted.
    assert_eq!(
        (s1(&p.anna)[8].clone(), s1(&p.anna)[10].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(
        (s1(&p.dmitry)[8].clone(), s1(&p.dmitry)[10].clone()),
        (json!(false), json!(true))
    );

    // Without the decisions file the rules alone: only Anna.
    let out = run_ok(
        d,
        db_url,
        &["evaluate", "--forum", "forum.toml", "--events", "log.jsonl"],
    );
    let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s1_yes = plain
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["session"] == "s1" && r["eligible"] == true)
        .count();
    assert_eq!(s1_yes, 1, "{backend}");

    // A bad line is named by file and line.
    std::fs::write(
        d.join("bad.jsonl"),
        format!("{}\n{{\"kind\":1}}\n", lines.lines().next().unwrap()),
    )
    .unwrap();
    let out = support::process::yavka(d, db_url, 0)
        .args([
            "evaluate",
            "--forum",
            "forum.toml",
            "--events",
            "log.jsonl",
            "--decisions",
            "bad.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.jsonl: строка 2: это не решение и не поправка"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluate_with_the_decisions_file_equals_the_server() {
    for db in TestDb::all().await {
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        offline_equals_server(&app, db.backend, &db.url).await;
        app.stop().await;
        db.drop().await;
    }
}
