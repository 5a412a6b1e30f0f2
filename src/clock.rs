//! The one source of "now".
//!
//! Domain code never reads the time; everything above it asks a [`Clock`]. Production uses the
//! system clock; tests use [`ManualClock`] to play a whole forum day in milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::time::Millis;

/// A source of the current instant in Unix milliseconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock that moves only when told to; shared by cloning.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(start)),
        }
    }

    pub fn set(&self, t: Millis) {
        self.now.store(t, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Millis) {
        self.now.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        let shared = c.clone();
        assert_eq!(c.now(), 1_000);
        shared.advance(500);
        assert_eq!(c.now(), 1_500);
        c.set(10);
        assert_eq!(shared.now(), 10);
    }
}
