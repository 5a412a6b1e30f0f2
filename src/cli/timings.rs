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
        let usage = usage();
        let peak = usage.map_or_else(
            || "неизвестна".to_owned(),
            |u| format!("{:.0} МиБ", u.ru_maxrss as f64 / 1024.0),
        );
        // Processor time beside the wall clock: on a machine shared with other work the wall
        // clock says more about the others than about this run.
        let cpu = usage.map_or_else(
            || "неизвестно".to_owned(),
            |u| seconds(cpu_time(&u.ru_utime) + cpu_time(&u.ru_stime)),
        );
        eprintln!(
            "Время: всего — {}, процессорное — {cpu}; пиковая память: {peak}.",
            seconds(self.started.elapsed())
        );
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} с", d.as_secs_f64()).replace('.', ",")
}

/// This process's resource usage so far.
fn usage() -> Option<libc::rusage> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole `rusage` into the pointer it is given, which points to
    // memory of that type; RUSAGE_SELF is always a valid target.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    // SAFETY: getrusage succeeded, so it filled the struct.
    (rc == 0).then(|| unsafe { usage.assume_init() })
}

fn cpu_time(t: &libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}
