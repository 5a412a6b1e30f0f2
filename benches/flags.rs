//! Integrity flags at forum scale (issue 15): the shipped forum's synthetic crowd (the rules
//! bench's), with evidence on every connect and confirm as the live server now records it —
//! people answering in 0.9–8 s from the player page with a trusted click, a few colleagues
//! sharing one computer, and scripts answering in under 50 ms from bare sockets — then
//! `flags::inputs` (reading the log) and `flags::flag` timed, for the demo's six viewers and
//! for 100,000.
//!
//! `cargo bench --bench flags [-- --viewers N]` prints each stage's time, how many viewers each
//! reason flags, and a `result:` line per size.

use std::path::Path;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yavka::domain::flags::{self, Settings};
use yavka::domain::log::{Event, EventBody, Evidence, Hints, Input};
use yavka::domain::sim::{Crowd, crowd_log};

/// One viewer in this many answers like a script; one in `SHARED` shares a computer with the
/// next one.
const SCRIPT: usize = 200;
const SHARED: usize = 150;

fn viewer_index(id: &str) -> usize {
    id.trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0)
}

/// The crowd's log with evidence, as the live server records it.
fn with_evidence(events: Vec<Event>, seed: u64) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let person = Hints {
        trusted: true,
        input: Input::Pointer,
        visible: true,
        focused: true,
        rendered: true,
    };
    events
        .into_iter()
        .map(|e| {
            let seen = match &e.body {
                EventBody::Connect { viewer, .. } => {
                    let i = viewer_index(viewer);
                    let script = i.is_multiple_of(SCRIPT);
                    // Colleagues: viewers i and i+1 on one address and browser.
                    let home = if i.is_multiple_of(SHARED) || i % SHARED == 1 {
                        i - i % SHARED
                    } else {
                        i
                    };
                    Evidence {
                        address: Some(format!(
                            "10.{}.{}.{}",
                            home >> 16 & 255,
                            home >> 8 & 255,
                            home & 255
                        )),
                        browser: (!script)
                            .then(|| format!("Mozilla/5.0 Chrome/{}", 120 + home % 20)),
                        page_loaded: Some(!script),
                        ..Evidence::default()
                    }
                }
                EventBody::Confirm { viewer, .. } => {
                    let script = viewer_index(viewer).is_multiple_of(SCRIPT);
                    Evidence {
                        reaction_ms: Some(if script {
                            rng.random_range(0..50)
                        } else {
                            rng.random_range(900..8_000)
                        }),
                        hints: (!script).then_some(person),
                        ..Evidence::default()
                    }
                }
                _ => return e,
            };
            Event::with_evidence(e.ts, e.body, seen)
        })
        .collect()
}

fn run(forum: &yavka::domain::forum::Forum, viewers: usize) {
    let crowd = Crowd {
        viewers,
        connections: 20,
        diligence: 90,
        seed: 7,
    };
    let mut events = with_evidence(crowd_log(forum, &crowd), 7);
    yavka::domain::log::sort_events(&mut events);
    let t = Instant::now();
    let (answers, connections) = flags::inputs(&events);
    let read = t.elapsed();
    let t = Instant::now();
    let flagged = flags::flag(&answers, &connections, &Settings::default());
    let judged = t.elapsed();
    let count = |kind: &str| {
        flagged
            .iter()
            .filter(|f| f.reasons.iter().any(|r| r.kind() == kind))
            .count()
    };
    println!(
        "flags: {viewers} viewers, {} events, {} answers, {} connections: read {:.0} ms + flag \
         {:.0} ms; flagged {} (fast {}, untrusted {}, shared_device {}, no_page {})",
        events.len(),
        answers.len(),
        connections.len(),
        read.as_secs_f64() * 1e3,
        judged.as_secs_f64() * 1e3,
        flagged.len(),
        count("fast"),
        count("untrusted"),
        count("shared_device"),
        count("no_page"),
    );
    println!(
        "result: flags_{viewers}_viewers {:.3} s (read {:.3} s, flag {:.3} s), flagged {}",
        (read + judged).as_secs_f64(),
        read.as_secs_f64(),
        judged.as_secs_f64(),
        flagged.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let big = args
        .iter()
        .position(|a| a == "--viewers")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let forum =
        yavka::forum_file::load(Path::new("config/forum.toml")).expect("the shipped forum loads");
    // The demo's six simulated viewers, then the forum-scale crowd.
    for viewers in [6, big] {
        run(&forum, viewers);
    }
}
