//! The day's history of the live figures: at the start of every minute this node writes its
//! own viewers and connections per hall to the store (`store/history.rs`), so a dashboard
//! opened late, or reloaded, draws the whole day; reading sums the nodes, as the live figures
//! do (`cluster.rs`).
//!
//! A node writes only minutes that began after it started: its figure for a minute is the one
//! at that minute's start, and a node restarted mid-minute (a new name on the broker) would
//! otherwise add a second row for a minute its former self already wrote.

use std::time::Duration;

use super::{Hub, WeakHub};
use crate::domain::time::{MINUTE, Millis};
use crate::store::{HallMinute, StoreError};

/// How often the sampler looks at the clock: the figure of a minute is taken within this of
/// its start.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Which minutes this node has written. A tokio mutex, held across the write on purpose: a
/// second caller waits for the first one's write and then finds the minute done, so a minute
/// is written once and a caller that returns knows it is stored.
#[derive(Debug)]
pub(super) struct History(tokio::sync::Mutex<Marks>);

impl History {
    pub(super) fn new(started: Millis) -> History {
        History(tokio::sync::Mutex::new(Marks::new(started)))
    }
}

#[derive(Debug)]
struct Marks {
    /// The first minute this node may write: the one after the minute it started in.
    first: Millis,
    /// The last minute written.
    last: Option<Millis>,
}

impl Marks {
    fn new(started: Millis) -> Marks {
        Marks {
            first: minute_of(started) + MINUTE,
            last: None,
        }
    }
}

fn minute_of(t: Millis) -> Millis {
    t - t.rem_euclid(MINUTE)
}

impl Hub {
    /// Writes this node's figures for the current minute (see [`Hub::record_minute`]).
    pub(super) async fn write_minute(&self) -> Result<bool, StoreError> {
        let mut marks = self.history().0.lock().await;
        let minute = minute_of(self.now());
        if minute < marks.first || marks.last.is_some_and(|last| minute <= last) {
            return Ok(false);
        }
        let halls: Vec<HallMinute> = self
            .local_halls()
            .into_iter()
            .map(|h| HallMinute {
                hall: h.hall,
                viewers: h.viewers as i64,
                connections: h.connections as i64,
            })
            .collect();
        self.store()
            .record_hall_minute(&self.forum().id, self.node(), minute, &halls)
            .await?;
        marks.last = Some(minute);
        Ok(true)
    }
}

/// Writes a minute's figures at the start of each minute until the hub stops. Its own task,
/// so a slow store never delays the figures published to the other nodes (their heartbeat).
pub(super) async fn sampler(hub: WeakHub) {
    let mut tick = tokio::time::interval(LOOK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if hub.is_stopping() {
            return;
        }
        // A failed write is tried again at the next look, while the minute lasts.
        match hub.write_minute().await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("the minute's hall figures are recorded again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not record the minute's hall figures; retrying");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_writes_from_the_minute_after_it_started() {
        let started = 10 * MINUTE + 30_000;
        assert_eq!(Marks::new(started).first, 11 * MINUTE);
        assert_eq!(Marks::new(11 * MINUTE).first, 12 * MINUTE);
        assert_eq!(minute_of(-1), -MINUTE);
    }
}
