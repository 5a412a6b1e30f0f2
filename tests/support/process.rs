//! The real `yavka` binary as a child process on the real clock, for the crash test and the
//! load benchmark (which includes `tests/support` by path).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed when dropped, so a failed assertion leaves nothing running.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if std::env::var_os("YAVKA_SERVER_WRAPPER").is_some() {
            // A profiler writes its report only when the server exits by itself.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..600 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `yavka` run in `dir` with `dir/forum.toml`, the given database and port.
pub fn yavka(dir: &Path, db_url: &str, port: u16) -> Command {
    // YAVKA_SERVER_WRAPPER="valgrind --tool=massif" runs the server under a profiler.
    let mut cmd = match std::env::var("YAVKA_SERVER_WRAPPER") {
        Ok(wrapper) if !wrapper.trim().is_empty() => {
            let mut words = wrapper.split_whitespace();
            let mut cmd = Command::new(words.next().unwrap());
            cmd.args(words).arg(env!("CARGO_BIN_EXE_yavka"));
            cmd
        }
        _ => Command::new(env!("CARGO_BIN_EXE_yavka")),
    };
    configure(&mut cmd, dir, db_url, port);
    cmd
}

/// The folder, forum, database, port and log level of a `yavka` command.
fn configure(cmd: &mut Command, dir: &Path, db_url: &str, port: u16) {
    cmd.current_dir(dir)
        .env("YAVKA__SERVER__PORT", port.to_string())
        .env("YAVKA__FORUM__CONFIG", dir.join("forum.toml"))
        .env("DATABASE_URL", db_url)
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn");
}

/// Runs a `yavka` command (e.g. `export`) in `dir` on `db_url`; panics unless it succeeds.
pub fn run_ok(dir: &Path, db_url: &str, args: &[&str]) -> std::process::Output {
    let out = yavka(dir, db_url, 0)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "yavka {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Starts `yavka serve` and waits until `/readyz` answers.
pub async fn start(dir: &Path, db_url: &str, port: u16) -> ServerProcess {
    start_with(dir, db_url, port, &[]).await
}

/// [`start`] with extra environment variables (e.g. `REDIS_URL` for a node of a cluster).
pub async fn start_with(
    dir: &Path,
    db_url: &str,
    port: u16,
    env: &[(&str, &str)],
) -> ServerProcess {
    // YAVKA_TEST_SERVER_LOGS=DIR keeps each server's log (at info) in DIR/node-PORT.log.
    let stdout = match std::env::var_os("YAVKA_TEST_SERVER_LOGS") {
        Some(logs) => {
            std::fs::create_dir_all(&logs).unwrap();
            let file = std::fs::File::create(Path::new(&logs).join(format!("node-{port}.log")));
            Stdio::from(file.unwrap())
        }
        None => Stdio::null(),
    };
    let mut cmd = yavka(dir, db_url, port);
    cmd.arg("serve");
    spawn_and_wait(cmd, port, env, stdout).await
}

/// `yavka serve` under an open-file limit of `files` (the shell's `ulimit -n`), as [`start_with`].
pub async fn start_limited(
    dir: &Path,
    db_url: &str,
    port: u16,
    files: u32,
    env: &[(&str, &str)],
) -> ServerProcess {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" serve"))
        .arg(env!("CARGO_BIN_EXE_yavka"));
    configure(&mut cmd, dir, db_url, port);
    spawn_and_wait(cmd, port, env, Stdio::null()).await
}

async fn spawn_and_wait(
    mut cmd: Command,
    port: u16,
    env: &[(&str, &str)],
    stdout: Stdio,
) -> ServerProcess {
    if std::env::var_os("YAVKA_TEST_SERVER_LOGS").is_some() {
        cmd.env("RUST_LOG", "info");
    }
    let child = cmd
        .envs(env.iter().copied())
        .stdout(stdout)
        .spawn()
        .expect("the server starts");
    let server = ServerProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
        port,
    };
    for _ in 0..1200 {
        if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

/// Registers a doctor (рентгенология) on the server at `base` as the page does, accepting the
/// current consent texts, and returns the personal-link token from the letter that arrives in
/// `mail` (the server must mail through it: [`super::smtp::SmtpSink::env`]).
pub async fn register(base: &str, mail: &super::smtp::SmtpSink, name: &str, email: &str) -> String {
    let http = reqwest::Client::new();
    let texts: serde_json::Value = http
        .get(format!("{base}/api/texts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = |kind: &str| {
        texts["texts"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["kind"] == kind))
            .map(|t| t["version"].clone())
            .expect("the consent texts are listed")
    };
    let before = mail.letters_to(email).len();
    let r = http
        .post(format!("{base}/api/register"))
        .json(&serde_json::json!({
            "name": name, "email": email, "phone": "+79161234567",
            "education": "higher", "specialty": "рентгенология",
            "consent_personal_data": true, "consent_terms": true,
            "consent_personal_data_version": version("personal-data"),
            "consent_terms_version": version("terms"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    mail.token_for(email, before + 1).await
}

/// Makes an organiser account the documented way: `yavka create-organiser LOGIN --password-stdin`.
pub fn create_organiser(dir: &Path, db_url: &str, login: &str, password: &str) {
    use std::io::Write;
    let mut create = yavka(dir, db_url, 0)
        .args(["create-organiser", login, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("create-organiser starts");
    create
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(create.wait().unwrap().success(), "create-organiser failed");
}
