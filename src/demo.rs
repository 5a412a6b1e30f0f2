//! `yavka serve --demo`: the shipped forum moved so that its first day is live now, a prompt
//! every few minutes in every live hall, and a handful of simulated viewers who connect over
//! real websockets, answer most prompts and sometimes change halls — so a newcomer sees every
//! part move within minutes. Five of them behave as the player page does (its cookie, a
//! browser's name, a trusted click after a pause); the sixth is a script on a bare socket that
//! answers at once, so «Требуют внимания» has something to show.
//!
//! A demo runs on a database of its own ([`DemoStore`]), never on `DATABASE_URL` or the
//! configured store: it creates a `demo` organiser with a printed password, and a second demo
//! (or a real server) in the same folder must never find its data deleted or mixed in.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::RngExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::api::AppState;
use crate::api::auth::hash_password;
use crate::api::viewers::create_viewer;
use crate::domain::forum::{Education, Forum};
use crate::domain::registration::Registration;
use crate::domain::time::{MINUTE, Millis};
use crate::ids::new_token;

/// Moves every session by one offset so that the earliest one started 15 minutes before `now`
/// (whole minutes, so local times stay readable), and gives the demo its own forum id so its
/// data never mixes with a real forum's.
pub fn shift_to_now(forum: &mut Forum, now: Millis) {
    let Some(first) = forum.sessions.iter().map(|s| s.starts).min() else {
        return;
    };
    let target = now - 15 * MINUTE;
    let offset = (target - first).div_euclid(MINUTE) * MINUTE;
    for s in &mut forum.sessions {
        s.starts += offset;
        s.ends += offset;
        for x in &mut s.excluded {
            x.start += offset;
            x.end += offset;
        }
    }
    forum.id = format!("{}-demo", forum.id);
    forum.title = format!("{} (демонстрация)", forum.title);
}

/// Where demo databases live: `data/demo/<run>.db`, one per running demo.
pub const DEMO_DIR: &str = "data/demo";

/// The private SQLite database of one demo run. Each run gets a new file beside an exclusive
/// lock (`<run>.lock`) held for the process's life, so a start never reuses or deletes the
/// database of a demo still running; files whose lock nobody holds are left by a demo that
/// was killed, and are removed by the next one. Dropping this removes its own files.
#[derive(Debug)]
pub struct DemoStore {
    db: PathBuf,
    lock_path: PathBuf,
    /// Holding the open, locked file is what keeps other demos away.
    _lock: File,
}

impl DemoStore {
    /// Removes the files of demos that are no longer running, then creates this run's lock.
    pub fn create(dir: &Path) -> io::Result<DemoStore> {
        std::fs::create_dir_all(dir)?;
        remove_stale(dir);
        let run = format!(
            "{}-{}",
            std::process::id(),
            &new_token()[..8] // two demos started by one process (tests) differ too
        );
        // The lock is taken under a temporary name and then renamed, so that a scan by
        // another demo never sees a `.lock` file that is not locked yet.
        let taking = dir.join(format!("{run}.taking"));
        let lock = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&taking)?;
        lock.try_lock().map_err(io::Error::other)?;
        let lock_path = dir.join(format!("{run}.lock"));
        std::fs::rename(&taking, &lock_path)?;
        Ok(DemoStore {
            db: dir.join(format!("{run}.db")),
            lock_path,
            _lock: lock,
        })
    }

    /// The store URL for [`crate::settings::StoreSettings`].
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.db.display())
    }

    pub fn path(&self) -> &Path {
        &self.db
    }
}

impl Drop for DemoStore {
    fn drop(&mut self) {
        remove_db_files(&self.db);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// The database with SQLite's WAL and shared-memory files.
fn remove_db_files(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Deletes the files of every run in `dir` whose lock can be taken: its process is gone.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "lock") {
            continue;
        }
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() {
            tracing::info!(lock = %path.display(), "removing the files of a demo that has ended");
            remove_db_files(&path.with_extension("db"));
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Creates the `demo` organiser in the demo's own store and returns its password.
pub async fn create_organiser(state: &AppState) -> anyhow::Result<String> {
    let password = new_token()[..16].to_owned();
    let hash = hash_password(&password)?;
    state
        .store
        .insert_organiser("demo", &hash, state.clock.now())
        .await?;
    Ok(password)
}

const NAMES: [&str; 6] = [
    "Иванова Анна Сергеевна",
    "Петров Пётр Николаевич",
    "Смирнова Ольга Викторовна",
    "Кузнецов Андрей Павлович",
    "Соколова Елена Игоревна",
    "Морозов Дмитрий Олегович",
];

/// Runs the demo's prompts and viewers until the process ends.
pub async fn run(state: AppState, port: u16) {
    for (i, name) in NAMES.iter().enumerate() {
        let reg = Registration {
            name: (*name).into(),
            email: format!("demo{}@example.org", i + 1),
            phone: format!("+7916000000{i}"),
            education: Education::Higher,
            specialty: "рентгенология".into(),
            snils: None,
        };
        match create_viewer(&state, &reg).await {
            Ok((_, token)) => {
                let halls: Vec<String> = state.forum.halls.iter().map(|h| h.id.clone()).collect();
                let page = (i + 1 < NAMES.len()).then(|| {
                    let key = state.evidence_key.clone();
                    let clock = state.clock.clone();
                    move || {
                        format!(
                            "{}={}",
                            crate::api::evidence::PAGE_COOKIE,
                            key.page_value(clock.now())
                        )
                    }
                });
                tokio::spawn(bot(port, token, halls, i, page));
            }
            Err(e) => tracing::warn!(error = %e, "demo viewer not created"),
        }
    }
    let mut every = tokio::time::interval(Duration::from_secs(180));
    loop {
        every.tick().await;
        let now = state.clock.now();
        for hall in &state.forum.halls {
            if let Some(s) = state.forum.session_at(&hall.id, now)
                && let Err(e) = state
                    .hub
                    .fire_prompt(&hall.id, s.prompt_window_ms, None)
                    .await
            {
                tracing::warn!(error = %e, "demo prompt not fired");
            }
        }
    }
}

/// One simulated viewer: watches a hall, answers most prompts after a human-like pause, and
/// now and then hops to the other hall for a while. With `page` (the player page's cookie, as
/// a loaded page has it) it behaves as the page does; without, as a script on a bare socket.
async fn bot(
    port: u16,
    token: String,
    halls: Vec<String>,
    n: usize,
    page: Option<impl Fn() -> String>,
) {
    let mut hall = halls[n % halls.len()].clone();
    loop {
        let url = format!("ws://127.0.0.1:{port}/ws?token={token}&hall={hall}");
        let Ok(mut request) = url.into_client_request() else {
            return;
        };
        if let Some(cookie) = &page
            && let Ok(value) = HeaderValue::from_str(&cookie())
        {
            request.headers_mut().insert("cookie", value);
            request.headers_mut().insert(
                "user-agent",
                // A header value is visible ASCII: `from_static` panics on Cyrillic.
                HeaderValue::from_static("Mozilla/5.0 (Yavka demo viewer) Chrome/141.0"),
            );
        }
        let Ok((ws, _)) = tokio_tungstenite::connect_async(request).await else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        let (mut tx, mut rx) = ws.split();
        let stay = Duration::from_secs(rand::rng().random_range(300..1200));
        let until = tokio::time::Instant::now() + stay;
        loop {
            let msg = tokio::select! {
                m = rx.next() => m,
                _ = tokio::time::sleep_until(until) => break,
            };
            let Some(Ok(Message::Text(text))) = msg else {
                if matches!(msg, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                    break;
                }
                continue;
            };
            let Ok(m) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if m["type"] == "prompt" && (page.is_none() || rand::rng().random_range(0..10) < 8) {
                let mut reply =
                    json!({"type": "confirm", "prompt": m["id"], "answer": m["challenge"]["ask"]});
                if page.is_some() {
                    let pause = Duration::from_secs(rand::rng().random_range(3..40));
                    tokio::time::sleep(pause).await;
                    reply["hints"] = json!({"trusted": true, "input": "pointer", "visible": true,
                                            "focused": true, "rendered": true});
                }
                if tx.send(Message::text(reply.to_string())).await.is_err() {
                    break;
                }
            }
        }
        let _ = tx.close().await;
        if halls.len() > 1 && rand::rng().random_range(0..3) == 0 {
            hall = halls[rand::rng().random_range(0..halls.len())].clone();
        }
        let pause = Duration::from_secs(rand::rng().random_range(2..20));
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_demo_store_is_private_and_removed_when_its_run_ends() {
        let tmp = tempfile::tempdir().unwrap();
        let first = DemoStore::create(tmp.path()).unwrap();
        std::fs::write(first.path(), b"first").unwrap();
        let second = DemoStore::create(tmp.path()).unwrap();
        assert_ne!(first.path(), second.path());
        assert_eq!(
            std::fs::read(first.path()).unwrap(),
            b"first",
            "a second demo leaves the running one's database alone"
        );
        let kept = second.path().to_owned();
        std::fs::write(&kept, b"second").unwrap();
        drop(second);
        assert!(
            !kept.exists(),
            "a demo removes its own database when it ends"
        );
        assert!(first.path().exists());
    }

    #[test]
    fn a_killed_demos_files_are_removed_by_the_next_one() {
        let tmp = tempfile::tempdir().unwrap();
        // What a demo killed with -9 leaves: a database and a lock nobody holds.
        std::fs::write(tmp.path().join("123-dead.db"), b"old").unwrap();
        std::fs::write(tmp.path().join("123-dead.db-wal"), b"old").unwrap();
        std::fs::write(tmp.path().join("123-dead.lock"), b"").unwrap();
        let live = DemoStore::create(tmp.path()).unwrap();
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(left.iter().all(|n| !n.starts_with("123-dead")), "{left:?}");
        drop(live);
    }

    #[test]
    fn the_shifted_forum_is_live_now_under_its_own_id() {
        let mut forum = crate::forum_file::load(Path::new("config/forum.toml")).unwrap();
        let original = forum.clone();
        let now = crate::domain::time::parse_rfc3339("2026-11-23T12:34:56Z").unwrap();
        shift_to_now(&mut forum, now);
        assert_eq!(forum.id, "online-diagnostics-3-demo");
        assert!(forum.sessions.iter().any(|s| s.window().contains(now)));
        let first = forum.sessions.iter().map(|s| s.starts).min().unwrap();
        assert!((now - 16 * MINUTE..=now - 15 * MINUTE).contains(&first));
        for (a, b) in forum.sessions.iter().zip(&original.sessions) {
            assert_eq!(
                a.ends - a.starts,
                b.ends - b.starts,
                "windows keep their length"
            );
            assert_eq!(a.min_minutes, b.min_minutes, "norms are untouched");
        }
    }
}
