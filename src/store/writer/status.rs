//! What the event writer is doing, shared with `/readyz` and `/metrics`: how much waits in its
//! queue, how much it holds, and whether its last attempt to commit failed.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A cheap handle on the writer's health.
#[derive(Clone, Debug)]
pub struct WriterStatus(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    capacity: usize,
    queued: AtomicIsize,
    held: AtomicUsize,
    /// Since when, and why, commits fail; `None` while they succeed. A std mutex: never held
    /// across an await.
    failing: Mutex<Option<(Instant, String)>>,
}

/// A snapshot of [`WriterStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterState {
    /// The last attempt to commit succeeded.
    pub healthy: bool,
    /// Events waiting in the queue.
    pub queued: usize,
    /// Events taken off the queue and not yet committed (more than a batch while the store
    /// is away).
    pub held: usize,
    /// What the queue, and what is held, may grow to.
    pub capacity: usize,
    /// How long commits have been failing.
    pub failing_for: Option<Duration>,
    /// The last failure's cause (for the log and operators, not for viewers).
    pub last_error: Option<String>,
}

impl WriterStatus {
    pub(super) fn new(capacity: usize) -> WriterStatus {
        WriterStatus(Arc::new(Inner {
            capacity,
            queued: AtomicIsize::new(0),
            held: AtomicUsize::new(0),
            failing: Mutex::new(None),
        }))
    }

    pub(super) fn queued(&self, delta: isize) {
        self.0.queued.fetch_add(delta, Ordering::Relaxed);
    }

    pub(super) fn held(&self, n: usize) {
        self.0.held.store(n, Ordering::Relaxed);
    }

    pub(super) fn failed(&self, error: &str, held: usize) {
        self.held(held);
        let mut failing = self.0.failing.lock().unwrap_or_else(|e| e.into_inner());
        let since = failing.as_ref().map_or_else(Instant::now, |(t, _)| *t);
        *failing = Some((since, error.to_owned()));
    }

    /// Marks a successful commit; true if commits had been failing until now.
    pub(super) fn recovered(&self) -> bool {
        let mut failing = self.0.failing.lock().unwrap_or_else(|e| e.into_inner());
        failing.take().is_some()
    }

    pub fn state(&self) -> WriterState {
        let failing = self
            .0
            .failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        WriterState {
            healthy: failing.is_none(),
            queued: self.0.queued.load(Ordering::Relaxed).max(0) as usize,
            held: self.0.held.load(Ordering::Relaxed),
            capacity: self.0.capacity,
            failing_for: failing.as_ref().map(|(t, _)| t.elapsed()),
            last_error: failing.map(|(_, e)| e),
        }
    }

    /// Publishes the state as gauges labelled with the writer's `forum`: `yavka_writer_queue`,
    /// `yavka_writer_held`, `yavka_writer_healthy` (1 or 0).
    pub fn export_metrics(&self, forum: &str) {
        let s = self.state();
        let label = || ("forum", forum.to_owned());
        metrics::gauge!("yavka_writer_queue", &[label()]).set(s.queued as f64);
        metrics::gauge!("yavka_writer_held", &[label()]).set(s.held as f64);
        metrics::gauge!("yavka_writer_healthy", &[label()]).set(if s.healthy { 1.0 } else { 0.0 });
    }
}

impl WriterState {
    /// Why this node cannot record now, in Russian; `None` when it can.
    pub fn unready_reason(&self) -> Option<&'static str> {
        if !self.healthy {
            Some("Запись в базу данных не удаётся; сервер повторяет попытки.")
        } else if self.queued >= self.capacity || self.held >= self.capacity {
            Some("Очередь записи в базу данных переполнена.")
        } else {
            None
        }
    }
}
