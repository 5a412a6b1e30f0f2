//! The rules engine at forum scale: 100,000 viewers over the shipped forum, ~20 connections
//! each (about 8 million events), and the JSON Lines reader that feeds it.
//!
//! `cargo bench --bench rules` prints criterion's figures and, before them, one timed run of
//! each stage so the README can quote where the time goes.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use yavka::domain::log::jsonl;
use yavka::domain::rules::{self, Facts};
use yavka::domain::sim::{Crowd, crowd_log};

const VIEWERS: usize = 100_000;

fn bench(c: &mut Criterion) {
    let forum =
        yavka::forum_file::load(Path::new("config/forum.toml")).expect("the shipped forum loads");
    let crowd = Crowd {
        viewers: VIEWERS,
        connections: 20,
        diligence: 90,
        seed: 1,
    };
    // An exported log is in time order; the engine must not rely on it (it sorts), but this
    // is the order real input comes in.
    let mut events = crowd_log(&forum, &crowd);
    yavka::domain::log::sort_events(&mut events);

    let t = Instant::now();
    let facts = Facts::build(&events);
    let replay = t.elapsed();
    let t = Instant::now();
    let verdicts = rules::verdicts(&forum, &facts);
    let judge = t.elapsed();
    let conns: usize = facts.viewers.iter().map(|v| v.conns.len()).sum();
    println!(
        "rules: {VIEWERS} viewers, {} events, {conns} connections -> {} verdicts, {} eligible; \
         replay {:.0} ms + judge {:.0} ms (one run)",
        events.len(),
        verdicts.len(),
        verdicts.iter().filter(|v| v.eligible).count(),
        replay.as_secs_f64() * 1e3,
        judge.as_secs_f64() * 1e3,
    );
    drop((facts, verdicts));

    let mut group = c.benchmark_group("rules");
    group.sample_size(10);
    group.bench_function("evaluate_100k_viewers_shipped_forum", |b| {
        b.iter(|| black_box(rules::evaluate(&forum, black_box(&events))))
    });
    group.finish();

    // The reader, on the first 500,000 events written as JSON Lines.
    let sample = &events[..events.len().min(500_000)];
    let mut text = Vec::new();
    jsonl::write(&mut text, sample, &forum.tz()).expect("writes to memory");
    println!(
        "jsonl: {} lines, {:.1} MB",
        sample.len(),
        text.len() as f64 / 1e6
    );
    let mut group = c.benchmark_group("jsonl");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(sample.len() as u64));
    group.bench_function("read_500k_lines", |b| {
        b.iter(|| {
            let log = jsonl::read(black_box(&text[..]), jsonl::OnError::Stop)
                .expect("in memory")
                .expect("well formed");
            black_box(log.events.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
