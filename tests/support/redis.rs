//! A private `redis-server` for one test, on its own port, so a test can stop and restart it
//! without disturbing the machine's Redis or other tests. Installs Debian's `redis-server`
//! when it is missing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct RedisProcess {
    child: Option<Child>,
    pub port: u16,
}

impl RedisProcess {
    pub async fn start() -> RedisProcess {
        ensure_installed();
        let mut r = RedisProcess {
            child: None,
            port: super::process::free_port(),
        };
        r.restart().await;
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: every client connection drops at once).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, empty, and waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn ensure_installed() {
    let found = Command::new("sh")
        .args(["-c", "command -v redis-server"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found || Path::new("/usr/bin/redis-server").exists() {
        return;
    }
    eprintln!("redis-server is missing; running apt-get install -y redis-server");
    let ok = Command::new("sh")
        .args(["-c", "apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "install Redis: apt-get install -y redis-server");
}
