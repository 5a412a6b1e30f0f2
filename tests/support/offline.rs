//! The offline path a commission or an auditor takes: `yavka export-log` out of the store, then
//! `yavka evaluate` on the files. Tests hold its verdicts equal to what the server serves, field
//! for field, so the two can never tell a doctor different things.

use std::path::Path;

use serde_json::Value;

use super::process::run_ok;

/// The fields a verdict row is compared on: `/api/org/results` rows and `yavka evaluate
/// --format json` rows carry the same names.
pub const VERDICT_FIELDS: [&str; 10] = [
    "viewer",
    "session",
    "minutes",
    "seconds",
    "confirmed",
    "required",
    "shown",
    "prompts",
    "eligible",
    "reasons",
];

/// One row's [`VERDICT_FIELDS`], in that order.
pub fn verdict_fields(row: &Value) -> Vec<Value> {
    VERDICT_FIELDS.iter().map(|f| row[*f].clone()).collect()
}

/// `export-log` then `evaluate` in `dir` for the forum `toml` on the store at `db_url`: the
/// verdicts as JSON. With `decisions`, the organisers' decisions are exported to
/// `decisions.jsonl` in `dir` and passed to `evaluate`, which puts them beside the verdicts.
pub fn evaluate_offline(dir: &Path, db_url: &str, toml: &str, decisions: bool) -> Value {
    std::fs::write(dir.join("forum.toml"), toml).unwrap();
    let mut export = vec![
        "export-log",
        "--settings",
        "absent.toml",
        "--out",
        "log.jsonl",
    ];
    let mut evaluate = vec![
        "evaluate",
        "--forum",
        "forum.toml",
        "--events",
        "log.jsonl",
        "--format",
        "json",
    ];
    if decisions {
        export.extend(["--decisions", "decisions.jsonl"]);
        evaluate.extend(["--decisions", "decisions.jsonl"]);
    }
    run_ok(dir, db_url, &export);
    let out = run_ok(dir, db_url, &evaluate);
    serde_json::from_slice(&out.stdout).expect("JSON verdicts")
}
