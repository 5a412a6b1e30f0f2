//! A private Postgres cluster for one test, in a temporary folder on a free port, so the test
//! can restart and stop it without touching the machine's shared server. `initdb` refuses to
//! run as root, so as root the cluster belongs to the `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PrivatePostgres {
    pub port: u16,
    data: PathBuf,
    dir: tempfile::TempDir,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a Postgres program as the cluster's owner.
fn pg(program: &str, args: &[&str]) -> Output {
    let path = Path::new(BIN).join(program);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn ok(program: &str, out: Output) {
    assert!(
        out.status.success(),
        "{program} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PrivatePostgres {
    /// A new cluster, started, with an empty database `yavka`.
    pub async fn start() -> PrivatePostgres {
        let dir = tempfile::Builder::new()
            .prefix("yavka-pg")
            .tempdir()
            .unwrap();
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chown.success());
        }
        let data = dir.path().join("data");
        let d = data.to_str().unwrap();
        ok(
            "initdb",
            pg(
                "initdb",
                &[
                    "-D",
                    d,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
        );
        let pg = PrivatePostgres {
            port: super::support::process::free_port(),
            data,
            dir,
        };
        pg.start_again().await;
        let out = pg_psql(pg.port, "CREATE DATABASE yavka");
        ok("psql", out);
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/yavka", self.port)
    }

    /// Starts the stopped cluster and waits until it accepts connections.
    pub async fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        ok(
            "pg_ctl start",
            pg(
                "pg_ctl",
                &[
                    "-D",
                    self.data.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-o",
                    &options,
                    "-w",
                    "start",
                ],
            ),
        );
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the private Postgres did not start");
    }

    /// Stops the cluster: `fast` closes every session (like a planned restart), `immediate`
    /// kills the server without a checkpoint (like a crash).
    pub fn stop(&self, mode: &str) {
        ok(
            "pg_ctl stop",
            pg(
                "pg_ctl",
                &["-D", self.data.to_str().unwrap(), "-m", mode, "-w", "stop"],
            ),
        );
    }
}

/// Runs one SQL statement as `postgres` on the private cluster.
fn pg_psql(port: u16, sql: &str) -> Output {
    Command::new(Path::new(BIN).join("psql"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql runs")
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = pg(
            "pg_ctl",
            &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
    }
}
