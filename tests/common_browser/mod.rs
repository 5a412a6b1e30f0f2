//! Browser tools for tests that drive the pages: Debian's Chromium and npm's playwright-core.
//!
//! Use from an integration test with `mod common_browser;` and call [`ensure_browser_tools`]
//! before running `tests/browser/smoke.mjs`. On a fresh Debian machine it installs what is
//! missing and says so; it panics with the command to run by hand when it cannot.

#![allow(dead_code)] // each test binary that includes this module uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Installs Chromium (apt) and web/'s npm packages (`npm ci`: playwright-core, axe-core) when
/// they are absent.
pub fn ensure_browser_tools() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "browser tools: {CHROMIUM} is missing; running apt-get update && apt-get install -y chromium"
        );
        run(
            Command::new("sh").args(["-c", "apt-get update && apt-get install -y chromium"]),
            "install Chromium: run `apt-get update && apt-get install -y chromium` as root",
        );
        assert!(
            Path::new(CHROMIUM).exists(),
            "apt-get finished but {CHROMIUM} is still missing"
        );
    }
    let web = repo_root().join("web");
    let missing = ["playwright-core", "axe-core"]
        .into_iter()
        .find(|package| !web.join("node_modules").join(package).exists());
    if let Some(package) = missing {
        eprintln!(
            "browser tools: web/node_modules/{package} is missing; running npm ci in {}",
            web.display()
        );
        run(
            Command::new("npm").arg("ci").current_dir(&web),
            "install playwright-core: run `npm ci` in web/ (Node.js and npm must be installed)",
        );
    }
}

fn run(cmd: &mut Command, what_to_do: &str) {
    match cmd.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("browser tools: {cmd:?} failed with {status}; {what_to_do}"),
        Err(e) => panic!("browser tools: could not start {cmd:?}: {e}; {what_to_do}"),
    }
}

/// Runs the smoke test against `base` and saves screenshots into `screenshots`.
pub fn run_smoke(base: &str, screenshots: &Path) -> std::process::Output {
    Command::new("node")
        .arg(repo_root().join("tests/browser/smoke.mjs"))
        .env("BASE", base)
        .env("SCREENSHOTS", screenshots)
        .output()
        .expect("browser tools: could not start node")
}
