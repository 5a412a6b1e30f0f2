//! The organiser's side of the live server, on SQLite and on Postgres: the CSV import of
//! pre-registered viewers, НМО code pools and issuance, one viewer's evidence trail, reissued
//! personal links, the CLI's exported log against the server's verdicts, and the connection cap;
//! organiser roles, accounts and the audit trail in `organiser/roles.rs`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use support::TestDb;
use support::server::{TEST_FORUM, TestApp, Viewer, at, test_forum, test_settings};
use tokio_tungstenite::tungstenite;
use yavka::domain::log::{Event, EventBody};
use yavka::domain::time::{MINUTE, Millis};
use yavka::store::HallMinute;

// Roles, accounts and the audit trail.
#[path = "organiser/roles.rs"]
mod roles;

// ---- helpers -----------------------------------------------------------------------------

/// The token of a personal link `…/watch?token=…`.
fn token_of(link: &Value) -> String {
    let link = link.as_str().expect("a link");
    link.split_once("token=")
        .unwrap_or_else(|| panic!("no token in {link}"))
        .1
        .to_owned()
}

/// A viewers CSV with the organiser's header, `;`-separated.
fn viewers_csv(rows: &[&str]) -> String {
    let mut text = String::from("name;email;phone;education;specialty;snils\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

/// The `messages` of a 422 answer.
fn field_messages(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields: {body}"))
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect()
}

/// How many viewers the organiser's search sees.
async fn viewer_total(app: &TestApp) -> u64 {
    let (status, body) = app.get("/api/org/viewers").await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().unwrap()
}

/// Moves the clock to a planned prompt of s1 and fires it.
async fn fire_s1(app: &TestApp, t: Millis) {
    let fired = app.tick_at(t).await;
    assert!(
        fired.iter().any(|id| id.starts_with("s1-")),
        "a prompt of s1 fired at its planned time: {fired:?}"
    );
}

/// Plays both planned prompts of s1; tab `i` confirms the prompts listed in `confirms[i]`
/// and lets the others pass.
async fn play_s1(app: &TestApp, tabs: &mut [Viewer], confirms: &[&[usize]]) {
    let times = app.planned("s1");
    assert_eq!(times.len(), 2, "two planned prompts for s1");
    for (k, t) in times.into_iter().enumerate() {
        fire_s1(app, t).await;
        for (tab, wanted) in tabs.iter_mut().zip(confirms) {
            if wanted.contains(&k) {
                tab.answer().await;
            } else {
                tab.expect("prompt").await;
            }
        }
    }
}

fn count(events: &[Event], pick: fn(&EventBody) -> bool) -> usize {
    events.iter().filter(|e| pick(&e.body)).count()
}

/// The session is over: the clock goes to 10:31, every tab closes, and the log holds a
/// disconnect for every connect.
async fn close_all(app: &TestApp, tabs: Vec<Viewer>) {
    app.clock.set(at(31));
    for tab in tabs {
        tab.close().await;
    }
    app.wait_for_log(|events| {
        let connects = count(events, |b| matches!(b, EventBody::Connect { .. }));
        connects > 0 && connects == count(events, |b| matches!(b, EventBody::Disconnect { .. }))
    })
    .await;
}

/// Each viewer's code for `session` in the organiser's results.
async fn codes_in_results(app: &TestApp, session: &str) -> Vec<(String, Option<String>)> {
    let (status, results) = app
        .get(&format!("/api/org/results?session={session}"))
        .await;
    assert_eq!(status, 200, "{results}");
    results["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["viewer"].as_str().unwrap().to_owned(),
                r["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// What must agree between the server and the offline evaluation.
type VerdictKey = (String, String, i64, u64, bool);

fn verdict_keys(rows: &Value) -> BTreeSet<VerdictKey> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list of verdicts: {rows}"))
        .iter()
        .map(|r| {
            (
                r["viewer"].as_str().unwrap().to_owned(),
                r["session"].as_str().unwrap().to_owned(),
                r["seconds"].as_i64().unwrap(),
                r["confirmed"].as_u64().unwrap(),
                r["eligible"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn yavka(dir: &Path, db_url: &str, args: &[&str]) -> Vec<u8> {
    support::process::run_ok(dir, db_url, args).stdout
}

// ---- 1. CSV import -------------------------------------------------------------------------

async fn import_viewers_from_csv(app: &TestApp, backend: &str) {
    let good = "Иванова Анна Сергеевна;anna@example.org;+7 916 123-45-67;higher;рентгенология;";
    let bad = "Петров Пётр Петрович;petr-at-example.org;89161234567;higher;астрология;";
    let fixed = "Петров Пётр Петрович;petr@example.org;89161234567;higher;рентгенология;";

    // One bad row (line 3): every problem named by line, and nothing imported.
    let (status, body) = app
        .post_csv("/api/org/viewers/import", &viewers_csv(&[good, bad]))
        .await;
    assert_eq!(status, 422, "{backend}: {body}");
    let messages = field_messages(&body);
    assert!(
        messages.iter().all(|m| m.starts_with("Строка 3")),
        "{backend}: only line 3 is bad: {messages:?}"
    );
    for field in ["email", "specialty"] {
        assert!(
            messages.iter().any(|m| m.contains(field)),
            "{backend}: {field} reported: {messages:?}"
        );
    }
    assert_eq!(viewer_total(app).await, 0, "{backend}: nothing imported");

    // The corrected file: both rows created, each with a personal link.
    let file = viewers_csv(&[good, fixed]);
    let (status, body) = app.post_csv("/api/org/viewers/import", &file).await;
    assert_eq!(status, 200, "{backend}: {body}");
    let created = body["created"].as_array().unwrap();
    assert_eq!(created.len(), 2, "{backend}: {body}");
    assert_eq!(body["skipped"].as_array().unwrap().len(), 0, "{body}");
    assert_eq!(viewer_total(app).await, 2);

    // The links work.
    for (row, (line, email)) in created
        .iter()
        .zip([(2, "anna@example.org"), (3, "petr@example.org")])
    {
        assert_eq!(row["line"], line, "{row}");
        let (status, me) = app
            .get(&format!("/api/me?token={}", token_of(&row["link"])))
            .await;
        assert_eq!(status, 200, "{backend}: {me}");
        assert_eq!(me["email"], email);
        assert_eq!(me["id"], row["id"]);
    }

    // The same file again: all skipped, none duplicated.
    let (status, body) = app.post_csv("/api/org/viewers/import", &file).await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(body["created"].as_array().unwrap().len(), 0, "{body}");
    assert_eq!(body["skipped"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(viewer_total(app).await, 2, "{backend}: not duplicated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_imports_viewers_from_csv_all_or_nothing() {
    on_every_backend!(import_viewers_from_csv);
}

// ---- 2. Code pool --------------------------------------------------------------------------

async fn code_pool_and_issuance(app: &TestApp, backend: &str) {
    const FIRST: &str = "ABCDEF123456";
    const SECOND: &str = "ZYXWVU987654";
    const NEVER: &str = "QWERTY123456";

    // A bad line refuses the whole file, naming the line.
    let (status, body) = app
        .post_text(
            "/api/org/codes/pool?session=s1",
            &format!("{NEVER}\nBAD-CODE\n"),
        )
        .await;
    assert_eq!(status, 400, "{backend}: {body}");
    assert!(
        body["error"].as_str().unwrap().contains("Строка 2"),
        "{backend}: {body}"
    );

    // A pool of one code: its size proves the bad file added nothing.
    let (status, body) = app.post_text("/api/org/codes/pool?session=s1", FIRST).await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(
        (body["added"].as_u64(), body["size"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );

    // Two viewers earn s1.
    let (_, _, anna) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let (_, _, petr) = app
        .join("Петров Пётр Петрович", "petr@example.org", "hall-1")
        .await;
    let mut tabs = vec![anna, petr];
    play_s1(app, &mut tabs, &[&[0, 1], &[0, 1]]).await;
    close_all(app, tabs).await;
    let rows = codes_in_results(app, "s1").await;
    assert_eq!(rows.len(), 2, "{backend}: {rows:?}");

    // One code for two eligible viewers: refused, and nobody gets one.
    let (status, body) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 409, "{backend}: pool exhausted: {body}");
    assert!(
        codes_in_results(app, "s1")
            .await
            .iter()
            .all(|(_, c)| c.is_none()),
        "{backend}: no code issued"
    );

    // A second code: both eligible viewers get one, from the pool.
    let (status, body) = app
        .post_text("/api/org/codes/pool?session=s1", SECOND)
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    assert_eq!(
        (body["added"].as_u64(), body["size"].as_u64()),
        (Some(1), Some(2)),
        "{body}"
    );
    let (status, issued) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{backend}: {issued}");
    assert_eq!(issued["issued_now"], 2, "{issued}");
    let given: BTreeSet<String> = codes_in_results(app, "s1")
        .await
        .into_iter()
        .map(|(v, c)| c.unwrap_or_else(|| panic!("{backend}: {v} has no code")))
        .collect();
    assert_eq!(
        given,
        BTreeSet::from([FIRST.into(), SECOND.into()]),
        "{backend}"
    );

    // Issuing again changes nothing.
    let before = codes_in_results(app, "s1").await;
    let (status, again) = app.post("/api/org/codes/issue?session=s1", json!({})).await;
    assert_eq!(status, 200, "{backend}: {again}");
    assert_eq!(again["issued_now"], 0, "{again}");
    assert_eq!(codes_in_results(app, "s1").await, before, "{backend}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_come_from_the_pool_all_or_nothing() {
    on_every_backend!(code_pool_and_issuance);
}

// ---- 3. Evidence trail ---------------------------------------------------------------------

async fn evidence_trail(app: &TestApp, backend: &str) {
    let (id, token, mut hall1) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let times = app.planned("s1");
    assert_eq!(times.len(), 2);

    // She confirms the first prompt in hall 1…
    fire_s1(app, times[0]).await;
    hall1.answer().await;

    // …opens hall 2 in a second tab a minute later…
    let switched = times[0] + MINUTE;
    app.clock.set(switched);
    let mut hall2 = app.connect(&token, "hall-2").await;
    hall2.expect("welcome").await;
    assert_eq!(hall1.expect("paused").await["active_hall"], "hall-2");

    // …misses the second prompt of hall 1 there, and comes back after it closed.
    fire_s1(app, times[1]).await;
    hall1.expect("prompt").await;
    let back = times[1] + 3 * MINUTE;
    app.clock.set(back);
    hall2.close().await;
    hall1.expect("resumed").await;
    close_all(app, vec![hall1]).await;

    let (status, ev) = app.get(&format!("/api/org/viewers/{id}/evidence")).await;
    assert_eq!(status, 200, "{backend}: {ev}");
    let list = |key: &str| {
        ev[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {ev}"))
            .clone()
    };

    let halls = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|c| c["hall"].as_str().unwrap().to_owned())
            .collect()
    };
    let connections = list("connections");
    assert_eq!(halls(&connections), ["hall-1", "hall-2"], "{backend}: {ev}");
    assert_eq!(connections[1]["start"], switched, "{ev}");
    assert_eq!(connections[1]["end"], back, "{ev}");

    let active = list("active");
    let mut switches = halls(&active);
    switches.dedup();
    assert_eq!(switches, ["hall-1", "hall-2", "hall-1"], "{backend}: {ev}");
    let in_hall2: Vec<&Value> = active.iter().filter(|a| a["hall"] == "hall-2").collect();
    assert_eq!(in_hall2.len(), 1, "{ev}");
    assert_eq!(
        (&in_hall2[0]["start"], &in_hall2[0]["end"]),
        (&json!(switched), &json!(back))
    );

    let confirms = list("confirms");
    assert_eq!(confirms.len(), 1, "{backend}: {ev}");
    assert_eq!(confirms[0]["check"], "valid", "{ev}");
    assert_eq!(confirms[0]["conn"], connections[0]["conn"], "{ev}");

    let sessions = list("sessions");
    let s1 = sessions
        .iter()
        .find(|s| s["session"] == "s1")
        .unwrap_or_else(|| panic!("{backend}: no s1 in {ev}"));
    assert_eq!(s1["eligible"], false, "{s1}");
    assert_eq!(s1["confirmed"].as_array().unwrap().len(), 1, "{s1}");
    assert_eq!(s1["prompts"].as_array().unwrap().len(), 2, "{s1}");
    // The unconfirmed prompt fired while she watched hall 2: not shown to her, so not missed
    // (missed = unconfirmed while counted in that hall) and not among her shown prompts.
    assert_eq!(s1["missed"], json!([]), "{s1}");
    // Each reason says whether it is met: time and specialty are, confirmations are not.
    let reasons: Vec<(bool, &str)> = s1["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ok"].as_bool().unwrap(), r["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons[1],
        (false, "Подтверждено 1 из 1 показанных (нужно 2)"),
        "{backend}: {reasons:?}"
    );
    assert_eq!(s1["confirmations"], reasons[1].1);
    assert!(reasons[2].0, "{backend}: {reasons:?}");

    // Each prompt of hall 1 with its one status, in the rules' words.
    let prompts = list("prompts");
    let said = |hall: &str| -> Vec<(String, String)> {
        prompts
            .iter()
            .filter(|p| p["hall"] == hall)
            .map(|p| {
                (
                    p["status"].as_str().unwrap().to_owned(),
                    p["label"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let said = said("hall-1");
    let said: Vec<(&str, &str)> = said.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(said.len(), 2, "{backend}: {ev}");
    assert_eq!(said[0].0, "confirmed", "{ev}");
    assert!(said[0].1.starts_with("Подтверждено в "), "{ev}");
    assert_eq!(
        said[1],
        ("not_shown", "Не показано: в это время смотрели Зал №2"),
        "{backend}: {ev}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evidence_trail_shows_halls_confirms_and_reasons() {
    on_every_backend!(evidence_trail);
}

// ---- 4. Reissued link ----------------------------------------------------------------------

async fn reissue_link(app: &TestApp, backend: &str) {
    let (id, old, mut open_tab) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;

    let (status, body) = app
        .post(&format!("/api/org/viewers/{id}/link"), json!({}))
        .await;
    assert_eq!(status, 200, "{backend}: {body}");
    let new = token_of(&body["link"]);
    assert_ne!(new, old);

    // The tab open with the old link closes; the old link opens nothing any more.
    assert_eq!(open_tab.expect("__closed").await["code"], 4401, "{backend}");
    let (status, body) = app.get(&format!("/api/me?token={old}")).await;
    assert_eq!(status, 401, "{backend}: {body}");
    let mut stale = app.connect(&old, "hall-1").await;
    assert_eq!(stale.expect("__closed").await["code"], 4401, "{backend}");

    // The new one works.
    let (status, me) = app.get(&format!("/api/me?token={new}")).await;
    assert_eq!(status, 200, "{backend}: {me}");
    assert_eq!(me["id"], id.as_str());
    let mut tab = app.connect(&new, "hall-1").await;
    assert_eq!(tab.expect("welcome").await["viewer"]["id"], id.as_str());
    tab.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissued_link_replaces_the_old_one() {
    on_every_backend!(reissue_link);
}

// ---- 4b. The day's viewer history ----------------------------------------------------------

/// Waits until the live figures of `hall` read `viewers` and `connections`.
async fn live_is(app: &TestApp, hall: &str, viewers: u64, connections: u64) {
    for _ in 0..200 {
        let (_, stats) = app.get("/api/org/stats").await;
        let h = stats["hub"]["halls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["hall"] == hall)
            .cloned()
            .unwrap();
        if h["viewers"] == viewers && h["connections"] == connections {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{hall} never had {viewers} viewers on {connections} connections");
}

/// Records this node's figures for the minute the clock is in.
async fn minute_at(app: &TestApp, t: Millis) {
    app.clock.set(t);
    app.state.hub.record_minute().await.unwrap();
}

/// The organiser opens the dashboard at 10:04 (or reloads it): the chart gets the whole
/// morning from the store, minute by minute, with another node's viewers added and the
/// minutes no server wrote left as gaps.
async fn day_history(app: &TestApp, backend: &str) {
    let (_, _, anna) = app
        .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
        .await;
    let (_, boris_token) = app.register("Борисов Борис", "boris@example.org").await;
    live_is(app, "hall-1", 1, 1).await;
    minute_at(app, at(0)).await;
    // Another node of the cluster holds four viewers of hall 1 at 10:00.
    let other = [HallMinute {
        hall: "hall-1".into(),
        viewers: 4,
        connections: 6,
    }];
    app.state
        .store
        .record_hall_minute("test-forum", "other-node", at(0), &other)
        .await
        .unwrap();

    // Boris opens hall 2 in two tabs: one viewer, two connections.
    let mut tab1 = app.connect(&boris_token, "hall-2").await;
    tab1.expect("welcome").await;
    let mut tab2 = app.connect(&boris_token, "hall-2").await;
    tab2.expect("welcome").await;
    live_is(app, "hall-2", 1, 2).await;
    minute_at(app, at(1)).await;
    // The minute is written once: a second call in it writes nothing.
    assert!(!app.state.hub.record_minute().await.unwrap(), "{backend}");

    // No server writes 10:02; Anna has left by 10:03.
    anna.close().await;
    live_is(app, "hall-1", 0, 0).await;
    minute_at(app, at(3) + 30 * yavka::domain::time::SECOND).await;

    app.clock.set(at(4));
    let (status, h) = app.get("/api/org/history").await;
    assert_eq!(status, 200, "{backend}: {h}");
    assert_eq!(h["day"], "2026-04-01", "{backend}");
    assert_eq!(h["zone"], "Europe/Moscow", "{backend}");
    let times: Vec<Millis> = serde_json::from_value(h["times"].clone()).unwrap();
    assert_eq!(times, vec![at(0), at(1), at(2), at(3)], "{backend}");
    assert_eq!(h["halls"][0]["hall"], "hall-1", "{backend}");
    assert_eq!(
        h["halls"][0]["viewers"],
        json!([5, 1, null, 0]),
        "{backend}"
    );
    assert_eq!(
        h["halls"][0]["connections"],
        json!([7, 1, null, 0]),
        "{backend}"
    );
    assert_eq!(
        h["halls"][1]["viewers"],
        json!([0, 1, null, 1]),
        "{backend}"
    );
    assert_eq!(
        h["halls"][1]["connections"],
        json!([0, 2, null, 2]),
        "{backend}"
    );

    // Another day is asked by its date; a wrong date is refused in Russian.
    let (status, h) = app.get("/api/org/history?day=2026-04-02").await;
    assert_eq!(status, 200, "{backend}: {h}");
    assert_eq!(h["times"], json!([]), "{backend}");
    assert_eq!(h["halls"].as_array().unwrap().len(), 2, "{backend}");
    let (status, h) = app.get("/api/org/history?day=2026-04-31").await;
    assert_eq!(status, 400, "{backend}: {h}");
    assert!(
        h["error"]
            .as_str()
            .unwrap()
            .starts_with("Дата «2026-04-31»"),
        "{h}"
    );
    // Only for organisers.
    let anonymous = reqwest::get(format!("{}/api/org/history", app.base))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "{backend}");
    tab1.close().await;
    tab2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_dashboard_gets_the_days_viewers_from_the_store() {
    on_every_backend!(day_history);
}

// ---- 5. Exported log = server's verdicts ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_log_evaluates_to_the_servers_verdicts() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let app = TestApp::spawn(&db.url).await;
        app.sign_in_organiser().await;
        let (_, _, anna) = app
            .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
            .await;
        let (_, _, petr) = app
            .join("Петров Пётр Петрович", "petr@example.org", "hall-1")
            .await;
        let mut tabs = vec![anna, petr];
        play_s1(&app, &mut tabs, &[&[0, 1], &[0]]).await;
        close_all(&app, tabs).await;
        let (status, results) = app.get("/api/org/results").await;
        assert_eq!(status, 200, "{backend}: {results}");
        let server = verdict_keys(&results["rows"]);
        assert!(
            server.iter().any(|k| k.4) && server.iter().any(|k| !k.4),
            "{backend}: one eligible and one not: {server:?}"
        );
        app.stop().await;

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("forum.toml"), TEST_FORUM).unwrap();
        yavka(
            dir.path(),
            &db.url,
            &[
                "export-log",
                "--settings",
                "absent.toml",
                "--out",
                "log.jsonl",
            ],
        );
        let out = yavka(
            dir.path(),
            &db.url,
            &[
                "evaluate",
                "--forum",
                "forum.toml",
                "--events",
                "log.jsonl",
                "--format",
                "json",
            ],
        );
        let offline: Value = serde_json::from_slice(&out).expect("JSON verdicts");
        assert_eq!(verdict_keys(&offline), server, "{backend}");
        db.drop().await;
    }
}

// ---- 6. Connection cap ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_the_upgrade_is_refused_with_503() {
    for db in TestDb::all().await {
        let backend = db.backend;
        let mut settings = test_settings(&db.url);
        settings.hub.max_connections = 1;
        let app = TestApp::spawn_with(settings, test_forum(), at(-5)).await;
        let (_, token, first) = app
            .join("Иванова Анна Сергеевна", "anna@example.org", "hall-1")
            .await;

        let url = format!("ws://127.0.0.1:{}/ws?token={token}&hall=hall-1", app.port);
        match tokio_tungstenite::connect_async(&url).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 503, "{backend}")
            }
            Err(e) => panic!("{backend}: expected HTTP 503, got {e}"),
            Ok(_) => panic!("{backend}: a second socket was admitted over the cap of 1"),
        }

        // The place is given back once the first socket has closed (the permit is released
        // as its task ends, just after the disconnect is recorded, hence the short retry).
        first.close().await;
        let mut again = None;
        for _ in 0..200 {
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(&url).await {
                again = Some(Viewer { ws });
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let mut again = again.unwrap_or_else(|| panic!("{backend}: the cap was never freed"));
        again.expect("welcome").await;
        again.close().await;

        app.stop().await;
        db.drop().await;
    }
}
