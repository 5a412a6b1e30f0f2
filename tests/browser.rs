//! The pages in a real headless Chromium, against the real binary on the real clock, on
//! SQLite and on Postgres: the bad-input smoke checks (`tests/browser/smoke.mjs`), the
//! whole story of a prompt fired from the dashboard and answered in the player
//! (`tests/browser/story.mjs`), the player's paused tabs, ended sessions, broken streams and
//! the viewer's results page (`tests/browser/player.mjs`), the organiser's dashboard opened
//! late in the day: the day's chart from the store, documents found by name, the mail dialog,
//! an auditor made in «Учётные записи» reading «Журнал действий» (`tests/browser/dashboard.mjs`),
//! the dashboard's CSV import, a cross-site form and sign-out (`tests/browser/bounds.mjs`),
//! a correction previewed and saved in «Поправки к сессиям» (`tests/browser/corrections.mjs`),
//! an appeal filed on the results page and answered in «Обращения» (`tests/browser/appeal.mjs`),
//! a script answering through the websocket flagged while a doctor's real click is not
//! (`tests/browser/flags.mjs`),
//! a forum created in the editor, a problem shown beside its field, fixed, saved and opened
//! for registration, a doctor registered for it whose open players follow its hall's new
//! stream address, and the dashboard's forum selector (`tests/browser/editor.mjs`),
//! and the player riding out a server restart
//! (`tests/browser/reconnect.mjs`). The server mails through an SMTP sink of this test, and
//! the scripts take personal links from its letters (`tests/browser/mailbox.mjs`). On SQLite
//! only (the pages do not depend on the store), axe-core checks every page's accessibility
//! (`tests/browser/a11y.mjs`).
//!
//! `YAVKA_BROWSER_ONLY=editor.mjs,a11y.mjs` runs only the scripts named.
//!
//! Installs Debian's Chromium and web/'s npm packages when they are missing. Screenshots go to
//! a temporary folder, or to `$YAVKA_SCREENSHOTS` (the README's pictures come from
//! `YAVKA_SCREENSHOTS=docs/screenshots cargo test --test browser`).

mod common_browser;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use common_browser::{ensure_browser_tools, repo_root};
use support::TestDb;
use support::process::{ServerProcess, create_organiser, free_port, start_with};
use support::smtp::SmtpSink;
use yavka::domain::sim::{live_forum_toml_in, midday_zone};
use yavka::domain::time::{MINUTE, Millis};
use yavka::store::{HallMinute, Store};

const PASSWORD: &str = "browser-story-password";

/// Whether `script` runs: all do, unless `YAVKA_BROWSER_ONLY` lists some (comma-separated,
/// e.g. `YAVKA_BROWSER_ONLY=editor.mjs`), to work on one story without the others.
fn wanted(script: &str) -> bool {
    match std::env::var("YAVKA_BROWSER_ONLY") {
        Ok(only) if !only.trim().is_empty() => only.split(',').any(|s| s.trim() == script),
        _ => true,
    }
}

fn node(script: &str, base: &str, mailbox: &str, shots: &Path) {
    if !wanted(script) {
        return;
    }
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser").join(script))
        .env("BASE", base)
        .env("MAILBOX", mailbox)
        .env("SCREENSHOTS", shots)
        .env("ORG_LOGIN", "admin")
        .env("ORG_PASSWORD", PASSWORD)
        .output()
        .expect("node starts");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{script}:\n{text}");
    assert!(out.status.success(), "{script} failed:\n{text}");
}

async fn pages_work(db: &TestDb, shots: &Path, audit: bool) {
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    // The forum's zone puts now at noon: sessions hours either side never cross its midnight,
    // whatever the hour the test runs (near midnight the ended session fell on yesterday).
    let zone = midday_zone(now);
    std::fs::write(dir.path().join("forum.toml"), browser_forum(now, &zone)).unwrap();
    let port = free_port();
    // Viewers' links come by e-mail: the server mails through a sink whose letters the
    // scripts read over HTTP (tests/browser/mailbox.mjs).
    let mail = SmtpSink::start().await;
    let mailbox = mail.serve_mailbox().await;
    let env = mail.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = start_with(dir.path(), &db.url, port, &env).await;
    create_organiser(dir.path(), &db.url, "admin", PASSWORD);
    earlier_today(&db.url, now, &zone).await;
    let base = server.base.clone();
    let to = shots.to_owned();
    let boxed = mailbox.clone();
    tokio::task::spawn_blocking(move || {
        node("smoke.mjs", &base, &boxed, &to);
        node("story.mjs", &base, &boxed, &to);
        node("player.mjs", &base, &boxed, &to);
        node("dashboard.mjs", &base, &boxed, &to);
        node("bounds.mjs", &base, &boxed, &to);
        node("corrections.mjs", &base, &boxed, &to);
        node("appeal.mjs", &base, &boxed, &to);
        node("flags.mjs", &base, &boxed, &to);
        node("editor.mjs", &base, &boxed, &to);
        if audit {
            node("a11y.mjs", &base, &boxed, &to);
        }
    })
    .await
    .unwrap();
    if wanted("reconnect.mjs") {
        server_goes_away(server, dir.path(), &db.url, &mailbox, &env, shots).await;
    }
}

/// The live forum (sessions now in hall-1 and hall-2), with a note on codes and a hall-3 whose
/// session ended two minutes ago and whose next one starts in half an hour (`player.mjs`).
fn browser_forum(now: i64, zone: &str) -> String {
    let local = |t: i64| {
        jiff::Timestamp::from_millisecond(t)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let minute = 60_000;
    let session = |id: &str, title: &str, starts: i64, ends: i64| {
        format!(
            "\n[[session]]\nid = \"{id}\"\nhall = \"hall-3\"\ntitle = \"{title}\"\n\
             starts = \"{}\"\nends = \"{}\"\ncredits = 1\nmin_minutes = 30\nprompts = 2\n\
             prompts_required = 1\naudience.higher = [\"рентгенология\"]\n",
            local(starts),
            local(ends)
        )
    };
    live_forum_toml_in("browser-forum", now, zone).replace(
        "prompt_margin_minutes = 60\n",
        "prompt_margin_minutes = 60\ncodes_note = \"Свидетельства с кодами НМО придут на почту в течение 1–2 месяцев после форума.\"\n",
    ) + "\n[[hall]]\nid = \"hall-3\"\ntitle = \"Зал №3\"\nstream_url = \"https://example.org/hall-3.m3u8\"\n"
        + &session("ended-3", "Завершённая сессия", now - 190 * minute, now - 2 * minute)
        + &session("later-3", "Вечерняя сессия", now + 30 * minute, now + 200 * minute)
}

/// Up to two hours of the day's viewer figures (not before midnight in the forum's zone), as a
/// node that has since stopped wrote them: the dashboard, opened now, must draw them.
async fn earlier_today(db_url: &str, now: Millis, zone: &str) {
    let midnight = jiff::Timestamp::from_millisecond(now)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
        .start_of_day()
        .unwrap()
        .timestamp()
        .as_millisecond();
    let store = Store::connect(db_url).await.unwrap();
    let this_minute = now - now % MINUTE;
    let mut minute = (this_minute - 120 * MINUTE).max(midnight);
    while minute < this_minute {
        // Arrivals and breaks: a smooth wave with a little minute-to-minute noise.
        let k = (minute / MINUTE) as f64;
        let wave = |base: f64| (base * (1.2 + (k / 23.0).sin() * 0.5) + k % 5.0) as i64;
        let halls =
            [("hall-1", wave(40.0)), ("hall-2", wave(24.0))].map(|(hall, viewers)| HallMinute {
                hall: hall.into(),
                viewers,
                connections: viewers + 3,
            });
        store
            .record_hall_minute("browser-forum", "an-earlier-node", minute, &halls)
            .await
            .unwrap();
        minute += MINUTE;
    }
    store.close().await;
}

/// The server is killed under a watching viewer and started again: `reconnect.mjs` checks the
/// page at each step, told by lines on its stdin.
async fn server_goes_away(
    server: ServerProcess,
    dir: &Path,
    db_url: &str,
    mailbox: &str,
    env: &[(&str, &str)],
    shots: &Path,
) {
    let mut script = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/reconnect.mjs"))
        .env("BASE", &server.base)
        .env("MAILBOX", mailbox)
        .env("SCREENSHOTS", shots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = script.stdin.take().unwrap();
    let mut out = BufReader::new(script.stdout.take().unwrap()).lines();
    let mut said = String::new();
    let mut until = async |word: &str| {
        let wait = async {
            while let Some(line) = out.next_line().await.unwrap() {
                said += &format!("{line}\n");
                if line == word {
                    return;
                }
            }
        };
        let ok = tokio::time::timeout(Duration::from_secs(60), wait).await;
        assert!(ok.is_ok(), "reconnect.mjs did not say {word}");
    };
    until("READY").await;
    let port = server.port;
    drop(server); // killed
    stdin.write_all(b"KILLED\n").await.unwrap();
    until("OFFLINE").await;
    let _again = start_with(dir, db_url, port, env).await;
    stdin.write_all(b"RESTARTED\n").await.unwrap();
    until("DONE").await;
    let status = script.wait().await.unwrap();
    println!("reconnect.mjs:\n{said}");
    assert!(status.success(), "reconnect.mjs failed:\n{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_confirms_a_prompt_fired_from_the_dashboard() {
    ensure_browser_tools();
    let temp = tempfile::tempdir().unwrap();
    // The backends' runs are independent (a server, a mailbox and browsers each) and mostly
    // wait on pages and timers, so they run side by side: the suite's slowest test halves.
    let runs = TestDb::all().await.into_iter().map(|db| {
        // The README's pictures are taken from the SQLite run; Postgres's go to a temp folder.
        let shots = match std::env::var_os("YAVKA_SCREENSHOTS") {
            Some(dir) if db.backend == "sqlite" => repo_root().join(PathBuf::from(dir)),
            _ => temp.path().join(db.backend),
        };
        async move {
            pages_work(&db, &shots, db.backend == "sqlite").await;
            db.drop().await;
        }
    });
    futures_util::future::join_all(runs).await;
}
