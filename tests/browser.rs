//! The pages in a real headless Chromium, against the real binary on the real clock, on
//! SQLite and on Postgres: the bad-input smoke checks (`tests/browser/smoke.mjs`) and the
//! whole story of a prompt fired from the dashboard and answered in the player
//! (`tests/browser/story.mjs`), the dashboard's CSV import, a cross-site form and sign-out
//! (`tests/browser/bounds.mjs`), and the player riding out a server restart
//! (`tests/browser/reconnect.mjs`).
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
use support::process::{ServerProcess, create_organiser, free_port, start};
use yavka::domain::sim::live_forum_toml;

const PASSWORD: &str = "browser-story-password";

fn node(script: &str, base: &str, shots: &Path) {
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser").join(script))
        .env("BASE", base)
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

async fn pages_work(db: &TestDb, shots: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    std::fs::write(
        dir.path().join("forum.toml"),
        live_forum_toml("browser-forum", now),
    )
    .unwrap();
    let port = free_port();
    let server = start(dir.path(), &db.url, port).await;
    create_organiser(dir.path(), &db.url, "admin", PASSWORD);
    let base = server.base.clone();
    let to = shots.to_owned();
    tokio::task::spawn_blocking(move || {
        node("smoke.mjs", &base, &to);
        node("story.mjs", &base, &to);
        node("bounds.mjs", &base, &to);
    })
    .await
    .unwrap();
    server_goes_away(server, dir.path(), &db.url, shots).await;
}

/// The server is killed under a watching viewer and started again: `reconnect.mjs` checks the
/// page at each step, told by lines on its stdin.
async fn server_goes_away(server: ServerProcess, dir: &Path, db_url: &str, shots: &Path) {
    let mut script = tokio::process::Command::new("node")
        .arg(repo_root().join("tests/browser/reconnect.mjs"))
        .env("BASE", &server.base)
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
    let _again = start(dir, db_url, port).await;
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
    for db in TestDb::all().await {
        // The README's pictures are taken from the SQLite run; Postgres's go to a temp folder.
        let shots = match std::env::var_os("YAVKA_SCREENSHOTS") {
            Some(dir) if db.backend == "sqlite" => repo_root().join(PathBuf::from(dir)),
            _ => temp.path().join(db.backend),
        };
        pages_work(&db, &shots).await;
        db.drop().await;
    }
}
