//! Who is connected to this node: every live socket by hall, with its outbound queue.
//!
//! The map sits behind a `std::sync::Mutex` and not a Tokio one because nothing awaits while
//! holding it: fan-out only pushes to bounded queues without waiting, and anything slower works on a
//! snapshot of cloned handles taken under the lock.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;

use super::outbox::{Outbox, Pushed};

pub use super::protocol::close::CloseReason;

/// One live socket as the rest of the hub sees it; cheap to clone.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub conn: Arc<str>,
    pub viewer: Arc<str>,
    pub hall: Arc<str>,
    /// Bounded: a client that does not keep up is closed, never buffered for. Also carries
    /// the request to close; the first reason wins.
    pub outbox: Arc<Outbox>,
    /// Whether this tab was last told it is paused.
    pub paused: Arc<AtomicBool>,
}

impl ConnHandle {
    /// Asks the socket's task to close with `reason`, unless a close is already under way.
    pub fn close(&self, reason: CloseReason) {
        self.outbox.close(reason);
    }

    /// Queues a message; a full queue means the client is too slow, and it is closed.
    /// False when the message was not queued.
    pub fn offer(&self, text: Utf8Bytes, slow: CloseReason) -> bool {
        match self.outbox.push(text) {
            Pushed::Queued => true,
            Pushed::Full => {
                if self.outbox.close(slow) {
                    metrics::counter!("yavka_dropped_slow_clients_total").increment(1);
                    tracing::info!(conn = %self.conn, viewer = %self.viewer, "closing a slow client");
                }
                false
            }
        }
    }
}

#[derive(Debug, Default)]
struct HallConns {
    conns: HashMap<Arc<str>, ConnHandle>,
    /// Live connections per viewer: its length is the number of viewers now.
    viewers: HashMap<Arc<str>, usize>,
    peak_viewers: usize,
    /// `yavka_connections{forum, hall}`, registered once with the hall: every connect and
    /// disconnect sets it, and building its labels each time cost two strings and a look-up
    /// under the registry's lock.
    gauge: Option<metrics::Gauge>,
}

impl HallConns {
    fn count(&mut self, forum: &Arc<str>, hall: &str) {
        let gauge = self.gauge.get_or_insert_with(|| {
            metrics::gauge!("yavka_connections", "forum" => forum.to_string(), "hall" => hall.to_owned())
        });
        gauge.set(self.conns.len() as f64);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallCounts {
    pub viewers: usize,
    pub peak_viewers: usize,
    pub connections: usize,
}

#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    /// The forum's id, the `forum` label of its metrics (a server runs several forums, whose
    /// halls may share ids).
    forum: Arc<str>,
}

#[derive(Debug, Default)]
struct Inner {
    halls: HashMap<Arc<str>, HallConns>,
    /// The same handles by viewer: every connect and confirm tells the viewer's other tabs,
    /// and finding them by scanning every socket made that quadratic in the crowd.
    by_viewer: HashMap<Arc<str>, Vec<ConnHandle>>,
}

impl Registry {
    pub fn new(forum: &str) -> Registry {
        Registry {
            inner: Mutex::default(),
            forum: forum.into(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("registry lock")
    }

    pub fn insert(&self, handle: ConnHandle) {
        let mut inner = self.lock();
        inner
            .by_viewer
            .entry(handle.viewer.clone())
            .or_default()
            .push(handle.clone());
        let hall = inner.halls.entry(handle.hall.clone()).or_default();
        *hall.viewers.entry(handle.viewer.clone()).or_default() += 1;
        hall.peak_viewers = hall.peak_viewers.max(hall.viewers.len());
        let name = handle.hall.clone();
        hall.conns.insert(handle.conn.clone(), handle);
        hall.count(&self.forum, &name);
    }

    pub fn remove(&self, hall: &str, conn: &str) {
        let mut inner = self.lock();
        let Some(h) = inner.halls.get_mut(hall) else {
            return;
        };
        let removed = h.conns.remove(conn);
        if let Some(handle) = &removed
            && let Some(n) = h.viewers.get_mut(&handle.viewer)
        {
            *n -= 1;
            if *n == 0 {
                h.viewers.remove(&handle.viewer);
            }
        }
        h.count(&self.forum, hall);
        if let Some(handle) = removed
            && let Some(tabs) = inner.by_viewer.get_mut(&handle.viewer)
        {
            tabs.retain(|t| t.conn != handle.conn);
            if tabs.is_empty() {
                inner.by_viewer.remove(&handle.viewer);
            }
        }
    }

    /// Runs `f` on every connection in `hall`, under the lock: `f` must not block.
    pub fn for_each_in_hall(&self, hall: &str, mut f: impl FnMut(&ConnHandle)) {
        let inner = self.lock();
        if let Some(h) = inner.halls.get(hall) {
            h.conns.values().for_each(&mut f);
        }
    }

    /// The connections of `hall`, cloned out so the caller can take its time.
    pub fn in_hall(&self, hall: &str) -> Vec<ConnHandle> {
        let inner = self.lock();
        inner
            .halls
            .get(hall)
            .map(|h| h.conns.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The connections of `viewer` on this node.
    pub fn of_viewer(&self, viewer: &str) -> Vec<ConnHandle> {
        self.lock()
            .by_viewer
            .get(viewer)
            .cloned()
            .unwrap_or_default()
    }

    /// Every connection.
    pub fn all(&self) -> Vec<ConnHandle> {
        let inner = self.lock();
        inner
            .halls
            .values()
            .flat_map(|h| h.conns.values())
            .cloned()
            .collect()
    }

    pub fn counts(&self, hall: &str) -> HallCounts {
        let inner = self.lock();
        inner.halls.get(hall).map_or(
            HallCounts {
                viewers: 0,
                peak_viewers: 0,
                connections: 0,
            },
            |h| HallCounts {
                viewers: h.viewers.len(),
                peak_viewers: h.peak_viewers,
                connections: h.conns.len(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(conn: &str, viewer: &str, hall: &str, queue: usize) -> ConnHandle {
        ConnHandle {
            conn: conn.into(),
            viewer: viewer.into(),
            hall: hall.into(),
            outbox: Arc::new(Outbox::new(queue)),
            paused: Arc::default(),
        }
    }

    use crate::hub::protocol::close::{SHUTDOWN, SLOW};

    #[test]
    fn counts_distinct_viewers_and_keeps_the_peak() {
        let r = Registry::default();
        r.insert(handle("c1", "v1", "h1", 4));
        r.insert(handle("c2", "v1", "h1", 4));
        r.insert(handle("c3", "v2", "h1", 4));
        assert_eq!(
            r.counts("h1"),
            HallCounts {
                viewers: 2,
                peak_viewers: 2,
                connections: 3
            }
        );
        r.remove("h1", "c1");
        r.remove("h1", "c3");
        assert_eq!(
            r.counts("h1"),
            HallCounts {
                viewers: 1,
                peak_viewers: 2,
                connections: 1
            }
        );
        assert_eq!(r.counts("h2").connections, 0);
    }

    #[test]
    fn finds_a_viewers_tabs_in_every_hall() {
        let r = Registry::default();
        r.insert(handle("c1", "v1", "h1", 4));
        r.insert(handle("c2", "v1", "h2", 4));
        r.insert(handle("c3", "v2", "h1", 4));
        let mut tabs: Vec<_> = r
            .of_viewer("v1")
            .iter()
            .map(|h| h.conn.to_string())
            .collect();
        tabs.sort();
        assert_eq!(tabs, ["c1", "c2"]);
        assert_eq!(r.in_hall("h1").len(), 2);
        r.remove("h1", "c1");
        assert_eq!(r.of_viewer("v1").len(), 1);
        r.remove("h2", "c2");
        assert!(r.of_viewer("v1").is_empty());
        assert_eq!(r.all().len(), 1);
    }

    #[test]
    fn a_full_queue_closes_the_slow_client_once() {
        let h = handle("c1", "v1", "h1", 1);
        assert!(h.offer("a".into(), SLOW));
        assert!(!h.offer("b".into(), SLOW));
        assert_eq!(h.outbox.close_requested(), Some(SLOW));
        h.close(SHUTDOWN);
        assert_eq!(
            h.outbox.close_requested(),
            Some(SLOW),
            "the first reason wins"
        );
    }
}
