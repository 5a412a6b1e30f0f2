//! `--timings`: how long each stage of a command took and the process's peak memory, on stderr,
//! so a slow run on a big log can be explained without a profiler.

use std::time::{Duration, Instant};

/// Stages timed one after another; does nothing unless enabled.
pub struct Stages {
    on: bool,
    started: Instant,
    last: Instant,
}

impl Stages {
    pub fn start(on: bool) -> Stages {
        let now = Instant::now();
        Stages {
            on,
            started: now,
            last: now,
        }
    }

    /// Ends the stage `name` now and prints its time.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.on {
            eprintln!("Время: {name} — {}.", seconds(now - self.last));
        }
        self.last = now;
    }

    /// Prints the whole run's time and the peak resident memory.
    pub fn finish(&self) {
        if !self.on {
            return;
        }
        let peak = peak_mib().map_or_else(|| "неизвестна".to_owned(), |m| format!("{m:.0} МиБ"));
        eprintln!(
            "Время: всего — {}; пиковая память: {peak}.",
            seconds(self.started.elapsed())
        );
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} с", d.as_secs_f64()).replace('.', ",")
}

/// The process's peak resident set (`ru_maxrss`, in KiB on Linux), in MiB.
pub fn peak_mib() -> Option<f64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points to
    // memory of that type; RUSAGE_SELF is always a valid target.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage succeeded, so it filled the struct.
    let usage = unsafe { usage.assume_init() };
    Some(usage.ru_maxrss as f64 / 1024.0)
}
