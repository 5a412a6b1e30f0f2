//! `yavka evaluate` end to end: the rules benchmark's crowd (100,000 viewers over the shipped
//! forum, log in time order) written as JSON Lines to a temporary file, then the real binary run
//! on it, reading included, verdicts written as JSON to another file.
//!
//! ```sh
//! cargo bench --bench evaluate                     # 100,000 viewers
//! cargo bench --bench evaluate -- --viewers 20000
//! ```
//!
//! Prints the binary's own stage times (`--timings`), the wall time, the peak memory of the
//! child process (`ru_maxrss` of the children), and one `result:` line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use yavka::domain::log::{jsonl, sort_events};
use yavka::domain::sim::{Crowd, crowd_log};

/// Peak resident memory of the waited-for children, in MiB, and their processor time in seconds.
fn children_usage() -> (f64, f64) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the whole struct it is given; RUSAGE_CHILDREN is a valid target.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage");
    // SAFETY: it succeeded, so the struct is filled.
    let u = unsafe { usage.assume_init() };
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        u.ru_maxrss as f64 / 1024.0,
        cpu(u.ru_utime) + cpu(u.ru_stime),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let viewers = args
        .iter()
        .position(|a| a == "--viewers")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let forum_path = Path::new("config/forum.toml");
    let forum = yavka::forum_file::load(forum_path).expect("the shipped forum loads");
    let crowd = Crowd {
        viewers,
        connections: 20,
        diligence: 90,
        seed: 1,
    };
    let mut events = crowd_log(&forum, &crowd);
    sort_events(&mut events);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("log.jsonl");
    let t = Instant::now();
    {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&log).expect("creates"));
        jsonl::write(&mut out, &events, &forum.tz()).expect("writes the log");
        out.flush().expect("writes the log");
    }
    let size = std::fs::metadata(&log).expect("the log").len();
    println!(
        "evaluate: {viewers} viewers, {} events, {:.0} MB of JSON Lines (written in {:.1} s, not \
         measured)",
        events.len(),
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    drop(events);

    let out = dir.path().join("verdicts.json");
    let t = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_yavka"))
        .args(["evaluate", "--timings", "--forum"])
        .arg(forum_path)
        .arg("--events")
        .arg(&log)
        .stdout(File::create(&out).expect("creates"))
        .stderr(Stdio::piped())
        .output()
        .expect("yavka evaluate runs");
    let took = t.elapsed();
    let (peak, cpu) = children_usage();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "yavka evaluate failed: {stderr}");
    for line in stderr.lines() {
        println!("  {line}");
    }
    let written = std::fs::metadata(&out).expect("the verdicts").len();
    println!(
        "result: evaluate_{viewers}_viewers_jsonl_end_to_end {:.2} s, cpu {cpu:.2} s, peak \
         {peak:.0} MiB, {:.0} MB of verdicts written",
        took.as_secs_f64(),
        written as f64 / 1e6
    );
}
